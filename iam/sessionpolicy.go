package iam

import (
	"strings"

	"github.com/berth-registry/berth/auth/policy"
)

// maxPacked is the room STS gives session policies: the inline document
// and the managed policy ARNs together (AWS's packed binary format is
// smaller; berth counts characters, which errs on the strict side).
const maxPacked = 2048

// checkSessionPolicies validates AssumeRole's Policy and PolicyArns and
// returns PackedPolicySize (the percentage of the room used by them and
// the session tags, which AWS packs together; 0 without either).
func checkSessionPolicies(op, doc string, arns []string, tags []SessionTag) (int, error) {
	if doc == "" && len(arns) == 0 && len(tags) == 0 {
		return 0, nil
	}
	if doc != "" {
		if _, err := policy.Parse(doc, policy.Identity); err != nil {
			return 0, errorf(op, Malformed, "%s", err.Error())
		}
	}
	size := nonSpace(doc)
	for _, a := range arns {
		if _, res, ok := ParseARN(a); !ok || !strings.HasPrefix(res, "policy/") {
			if !strings.HasPrefix(a, "arn:aws:iam::aws:policy/") {
				return 0, errorf(op, Invalid, "The policy ARN %s is invalid.", a)
			}
		}
		size += len(a)
	}
	for _, t := range tags {
		size += len(t.Key) + len(t.Value)
	}
	pct := (size*100 + maxPacked - 1) / maxPacked
	if pct > 100 {
		return 0, errorf(op, Limit, "Packed policy consumes %d%% of allotted space, please use smaller policy for assumed role.", pct)
	}
	return pct, nil
}
