package lifecycle

import "strings"

// selects reports whether r's tag requirements select an image with tags.
// For both lists every entry must match at least one of the image's tags
// (entries are ANDed, tags ORed): "an image is successfully matched if all
// of the tags in the tagPatternList or tagPrefixList value are matched
// against any of the image's tags".
func (r Rule) selects(tags []string) bool {
	switch r.TagStatus {
	case Any:
		return true
	case Untagged:
		return len(tags) == 0
	}
	if len(tags) == 0 {
		return false
	}
	if r.TagPrefixList != nil {
		return all(r.TagPrefixList, tags, strings.HasPrefix)
	}
	return all(r.TagPatternList, tags, wildcardMatch)
}

// all reports whether each want matches some tag.
func all(wants, tags []string, match func(tag, want string) bool) bool {
	for _, w := range wants {
		found := false
		for _, t := range tags {
			if match(t, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// wildcardMatch matches the whole of s against pattern, where '*' stands
// for any run of characters (possibly empty) and everything else is
// literal: "prod*" matches "prod" and "production-team1", "*prod*"
// matches "repo-production".
func wildcardMatch(s, pattern string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return s == pattern
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}
