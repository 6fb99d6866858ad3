package sts

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/iam"
)

// Limits from the STS API reference (sts-2011-06-15 model).
const (
	minDuration   = 900
	maxDuration   = 43200
	maxPolicyArns = 10
	maxTags       = 50
)

// pattern is a constraint's regular expression: AWS's text for messages,
// and a matcher.
type pattern struct {
	text  string
	match func(string) bool
}

func re(text, goSyntax string) pattern {
	rx := regexp.MustCompile(`^(?:` + goSyntax + `)$`)
	return pattern{text: text, match: rx.MatchString}
}

// Immutable constraint tables.
var (
	patSessionName = re(`[\w+=,.@-]*`, `[\w+=,.@-]*`)
	patExternalID  = re(`[\w+=,.@:\/-]*`, `[\w+=,.@:/-]*`)
	patSerial      = re(`[\w+=/:,.@-]*`, `[\w+=/:,.@-]*`)
	patTokenCode   = re(`[\d]*`, `[0-9]*`)
	patPolicy      = re(`[\u0009\u000A\u000D\u0020-\u00FF]+`, `[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}]+`)
	patTagKey      = re(`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	patTagValue    = re(`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
	// AWS's arnType pattern, as Java reads it: "\u10000" is \u1000 then
	// "0", so the class holds no supplementary character (AWS rejects an
	// emoji in a role ARN) and "0-\u10FF" admits U+007F-U+009F.
	patARN = pattern{
		text: `[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`,
		match: func(s string) bool {
			for _, r := range s {
				ok := r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD)
				if !ok {
					return false
				}
			}
			return s != ""
		},
	}
)

// violations collects failed constraints in AWS's words.
type violations []string

func (v *violations) add(value *string, field, constraint string) {
	shown := "null"
	if value != nil {
		shown = "'" + *value + "'"
	}
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", shown, field, constraint))
}

// addList reports a list's constraint without its value, which would be a
// Java rendering of the whole list.
func (v *violations) addList(field, constraint string) {
	*v = append(*v, fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must %s", field, constraint))
}

// str checks a string member. AWS reports the pattern before the length,
// and counts length in code points.
func (v *violations) str(value *string, field string, required bool, minLen, maxLen int, p pattern) {
	if value == nil {
		if required {
			v.add(nil, field, "not be null")
		}
		return
	}
	if !p.match(*value) {
		v.add(value, field, "satisfy regular expression pattern: "+p.text)
	}
	n := utf8.RuneCountInString(*value)
	if n < minLen {
		v.add(value, field, fmt.Sprintf("have length greater than or equal to %d", minLen))
	}
	if n > maxLen {
		v.add(value, field, fmt.Sprintf("have length less than or equal to %d", maxLen))
	}
}

func (v violations) err() *Error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return &Error{Code: codeValidation, Message: "1 validation error detected: " + v[0]}
	}
	return &Error{Code: codeValidation, Message: fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; "))}
}

// parseDuration reads DurationSeconds. Text that is not an int32 fails
// deserialization (MalformedInput) before any constraint is checked.
func parseDuration(s *string) (int32, *Error) {
	if s == nil {
		return 0, nil
	}
	if *s == "" {
		return 0, &Error{Code: codeMalformedInput, Message: "missing value for decimal type"}
	}
	n, err := strconv.ParseInt(*s, 10, 32)
	if err != nil {
		return 0, &Error{Code: codeMalformedInput, Message: fmt.Sprintf("Unable to parse value '%s' of DurationSeconds as an integer", *s)}
	}
	return int32(n), nil
}

// validateAssumeRole applies the API reference's constraints, in the
// model's member order, and returns the input Roles receives.
func validateAssumeRole(p assumeRoleParams) (iam.AssumeRoleInput, *Error) {
	dur, e := parseDuration(p.DurationSeconds)
	if e != nil {
		return iam.AssumeRoleInput{}, e
	}
	var v violations
	v.str(p.RoleArn, "roleArn", true, 20, 2048, patARN)
	v.str(p.RoleSessionName, "roleSessionName", true, 2, 64, patSessionName)
	if len(p.PolicyArns) > maxPolicyArns {
		v.addList("policyArns", fmt.Sprintf("have length less than or equal to %d", maxPolicyArns))
	}
	for i := range p.PolicyArns {
		v.str(&p.PolicyArns[i], fmt.Sprintf("policyArns.%d.member.arn", i+1), false, 20, 2048, patARN)
	}
	v.str(p.Policy, "policy", false, 1, 2048, patPolicy)
	if p.DurationSeconds != nil {
		shown := strconv.Itoa(int(dur))
		if dur < minDuration {
			v.add(&shown, "durationSeconds", fmt.Sprintf("have value greater than or equal to %d", minDuration))
		}
		if dur > maxDuration {
			v.add(&shown, "durationSeconds", fmt.Sprintf("have value less than or equal to %d", maxDuration))
		}
	}
	if len(p.Tags) > maxTags {
		v.addList("tags", fmt.Sprintf("have length less than or equal to %d", maxTags))
	}
	for i, t := range p.Tags {
		v.str(t.Key, fmt.Sprintf("tags.%d.member.key", i+1), true, 1, 128, patTagKey)
		v.str(t.Value, fmt.Sprintf("tags.%d.member.value", i+1), true, 0, 256, patTagValue)
	}
	if len(p.TransitiveTagKeys) > maxTags {
		v.addList("transitiveTagKeys", fmt.Sprintf("have length less than or equal to %d", maxTags))
	}
	for i := range p.TransitiveTagKeys {
		v.str(&p.TransitiveTagKeys[i], fmt.Sprintf("transitiveTagKeys.%d.member", i+1), false, 1, 128, patTagKey)
	}
	v.str(p.ExternalId, "externalId", false, 2, 1224, patExternalID)
	v.str(p.SerialNumber, "serialNumber", false, 9, 256, patSerial)
	v.str(p.TokenCode, "tokenCode", false, 6, 6, patTokenCode)
	v.str(p.SourceIdentity, "sourceIdentity", false, 2, 64, patSessionName)
	if e := v.err(); e != nil {
		return iam.AssumeRoleInput{}, e
	}
	in := iam.AssumeRoleInput{
		RoleArn:           *p.RoleArn,
		RoleSessionName:   *p.RoleSessionName,
		DurationSeconds:   dur,
		ExternalId:        deref(p.ExternalId),
		Policy:            deref(p.Policy),
		SourceIdentity:    deref(p.SourceIdentity),
		SerialNumber:      deref(p.SerialNumber),
		TokenCode:         deref(p.TokenCode),
		PolicyArns:        p.PolicyArns,
		TransitiveTagKeys: p.TransitiveTagKeys,
	}
	for _, t := range p.Tags {
		in.Tags = append(in.Tags, iam.SessionTag{Key: *t.Key, Value: *t.Value})
	}
	// A well-formed string that is no ARN at all: AWS says so before
	// looking for the role.
	if !looksLikeARN(in.RoleArn) {
		return iam.AssumeRoleInput{}, &Error{Code: codeValidation, Message: in.RoleArn + " is invalid"}
	}
	return in, nil
}

// looksLikeARN is ARN syntax: arn:partition:service:region:account:resource
// with partition, service and resource present. Whether it names a role
// that exists is for Roles to say.
func looksLikeARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] != "" && parts[5] != ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
