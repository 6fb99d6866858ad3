package lifecycle

import (
	"fmt"
	"sort"
	"strings"
)

// Rule constraints beyond the schema. Messages marked "ECR" are ECR's own
// wording as seen in user reports; the others are berth's (ECR's wording
// for them is not public).

// checkRule checks one rule on its own.
func checkRule(r Rule) error {
	hasLists := r.TagPrefixList != nil || r.TagPatternList != nil
	switch {
	case r.TagStatus == Tagged && !hasLists:
		// ECR.
		return rulesErr("Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.")
	case r.TagStatus == Tagged && r.TagPrefixList != nil && r.TagPatternList != nil:
		return rulesErr("A rule may specify either tagPrefixList or tagPatternList, but not both.")
	case r.TagStatus != Tagged && hasLists:
		return rulesErr("tagPrefixList and tagPatternList may only be used when tagStatus=TAGGED.")
	}
	for _, p := range r.TagPatternList {
		if strings.Count(p, "*") > MaxWildcards {
			return rulesErr(fmt.Sprintf("tagPatternList entry %q has more than %d wildcards (*).", p, MaxWildcards))
		}
	}
	switch {
	case r.CountType == SinceImagePulled && r.Action != ActionTransition:
		return rulesErr("countType=sinceImagePulled may only be used with the transition action.")
	case r.CountType == SinceImageTransitioned && r.Action != ActionExpire:
		return rulesErr("countType=sinceImageTransitioned may only be used with the expire action.")
	case r.CountType == SinceImageTransitioned && r.StorageClass != Archive:
		return rulesErr("countType=sinceImageTransitioned requires storageClass=archive.")
	case r.StorageClass == Archive && r.CountType != SinceImageTransitioned:
		return rulesErr("storageClass=archive requires countType=sinceImageTransitioned.")
	case r.CountType == SinceImageTransitioned && r.CountNumber < MinArchiveDays:
		return rulesErr(fmt.Sprintf("Images must be in archive storage for a minimum of %d days before deletion.", MinArchiveDays))
	}
	return nil
}

// checkRuleSet checks the rules against one another. ECR groups rules by
// the storage class they select.
func checkRuleSet(rules []Rule) error {
	seen := map[int]bool{}
	for _, r := range rules {
		if seen[r.Priority] {
			return rulesErr(fmt.Sprintf("rulePriority must be unique; %d is used by more than one rule.", r.Priority))
		}
		seen[r.Priority] = true
	}
	byClass := map[string][]Rule{}
	for _, r := range rules {
		byClass[r.StorageClass] = append(byClass[r.StorageClass], r)
	}
	for _, class := range []string{Standard, Archive} {
		if err := checkClass(byClass[class]); err != nil {
			return err
		}
	}
	return nil
}

func checkClass(rules []Rule) error {
	untagged, highest := 0, 0
	prefixSets := map[string]bool{}
	for _, r := range rules {
		highest = max(highest, r.Priority)
		if r.TagStatus == Untagged {
			untagged++
		}
		if r.TagPrefixList != nil {
			set := append([]string(nil), r.TagPrefixList...)
			sort.Strings(set)
			key := strings.Join(set, "\x00")
			if prefixSets[key] {
				return rulesErr("The set of all rules selecting a specific storage class must contain a unique set of prefixes.")
			}
			prefixSets[key] = true
		}
	}
	if untagged > 1 {
		// ECR.
		return rulesErr("Only one rule can select Untagged images per storage class.")
	}
	for _, r := range rules {
		if r.TagStatus == Any && r.Priority != highest {
			// ECR (its message has no final period).
			return rulesErr("Rule for tagStatus=ANY must have the lowest priority per storage class")
		}
	}
	return nil
}
