package lifecycle

import (
	"errors"
	"strings"
	"testing"

	"github.com/berth-registry/berth/ecrmodel"
)

// rule builds a one-rule policy text from a selection and an action.
func rule(prio, selection, action string) string {
	return `{"rulePriority":` + prio + `,"description":"d","selection":` + selection + `,"action":` + action + `}`
}

func policy(rules ...string) string { return `{"rules":[` + strings.Join(rules, ",") + `]}` }

const expire = `{"type":"expire"}`

func TestLifecycleParseValid(t *testing.T) {
	for _, text := range []string{
		policy(rule("1", `{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14}`, expire)),
		policy(rule("1", `{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"sinceImagePushed","countUnit":"days","countNumber":14}`, expire)),
		policy(rule("1", `{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1}`, expire)),
		policy(rule("1", `{"tagStatus":"tagged","tagPatternList":["*test*1*2*3","test*1*2*3*"],"countType":"imageCountMoreThan","countNumber":100}`, expire)),
		policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, `{"type":"transition","targetStorageClass":"archive"}`)),
		policy(rule("1", `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365}`, expire)),
		// Archive and standard rules each have their own "any" rule.
		policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":30}`, `{"type":"transition","targetStorageClass":"archive"}`),
			rule("2", `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365}`, expire)),
		// Rules need not be listed, nor numbered, in order.
		policy(rule("10", `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}`, expire),
			rule("3", `{"tagStatus":"untagged","storageClass":"standard","countType":"sinceImagePushed","countUnit":"days","countNumber":1}`, expire),
			rule("1", `{"tagStatus":"tagged","tagPrefixList":["alpha"],"countType":"imageCountMoreThan","countNumber":1}`, expire)),
		`{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}`,
	} {
		p, err := Parse(text)
		if err != nil {
			t.Errorf("Parse(%s): %v", text, err)
			continue
		}
		for i := 1; i < len(p.Rules); i++ {
			if p.Rules[i-1].Priority >= p.Rules[i].Priority {
				t.Errorf("rules not sorted by priority: %+v", p.Rules)
			}
		}
	}
}

func TestLifecycleParseFields(t *testing.T) {
	p, err := Parse(policy(rule("2", `{"tagStatus":"tagged","tagPrefixList":["a","b"],"countType":"sinceImagePushed","countUnit":"days","countNumber":7}`, expire)))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Rules[0]
	if r.Priority != 2 || r.Description != "d" || r.TagStatus != Tagged || len(r.TagPrefixList) != 2 ||
		r.StorageClass != Standard || r.CountType != SinceImagePushed || r.CountUnit != "days" ||
		r.CountNumber != 7 || r.Action != ActionExpire || r.TargetStorageClass != "" {
		t.Fatalf("rule = %+v", r)
	}
}

func TestLifecycleParseInvalid(t *testing.T) {
	untagged := `{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1}`
	anyRule := `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1}`
	cases := []struct {
		name, text, reason string
		kind               Kind
	}{
		{"not json", `{"rules":`, "Could not map policyString into LifecyclePolicy.", Schema},
		{"trailing data", `{"rules":[]} {}`, "Could not map policyString into LifecyclePolicy.", Schema},
		{"not an object", `[1,2]`, "Could not map policyString into LifecyclePolicy.", Schema},
		{"no rules", `{"no_rules":"test"}`, `object has missing required properties (["rules"])`, Schema},
		{"rules not a list", `{"rules":{"rulePriority":1}}`, `instance type (object) does not match any allowed primitive type (allowed: ["array"])`, Schema},
		{"empty rules", `{"rules":[]}`, "array is too short: must have at least 1 elements but instance has 0 elements", Schema},
		{"unknown top member", `{"rules":[` + rule("1", untagged, expire) + `],"version":1}`, `object instance has properties which are not allowed by the schema: (["version"])`, Schema},
		{"rule not an object", `{"rules":["x"]}`, `instance type (string) does not match any allowed primitive type (allowed: ["object"])`, Schema},
		{"rule missing members", `{"rules":[{"description":"x"}]}`, `object has missing required properties (["action","rulePriority","selection"])`, Schema},
		{"rule unknown member", `{"rules":[{"rulePriority":1,"selection":` + untagged + `,"action":` + expire + `,"name":"n","id":1}]}`, `object instance has properties which are not allowed by the schema: (["id","name"])`, Schema},
		{"priority a string", policy(rule(`"1"`, untagged, expire)), `instance type (string) does not match any allowed primitive type (allowed: ["integer"])`, Schema},
		{"priority fractional", policy(rule(`1.5`, untagged, expire)), `instance type (number) does not match any allowed primitive type (allowed: ["integer"])`, Schema},
		{"priority zero", policy(rule(`0`, untagged, expire)), "numeric instance is lower than the required minimum (minimum: 1, found: 0)", Schema},
		{"description not a string", `{"rules":[{"rulePriority":1,"description":5,"selection":` + untagged + `,"action":` + expire + `}]}`, `instance type (integer) does not match any allowed primitive type (allowed: ["string"])`, Schema},
		{"action missing type", policy(rule("1", untagged, `{}`)), `object has missing required properties (["type"])`, Schema},
		{"action unknown type", policy(rule("1", untagged, `{"type":"delete"}`)), `instance value ("delete") not found in enum (possible values: ["expire","transition"])`, Schema},
		{"action unknown member", policy(rule("1", untagged, `{"type":"expire","when":"now"}`)), `object instance has properties which are not allowed by the schema: (["when"])`, Schema},
		{"expire with null target", policy(rule("1", untagged, `{"type":"expire","targetStorageClass":null}`)), "instance failed to match exactly one schema (matched 0 out of 2)", Schema},
		{"transition without target", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":9}`, `{"type":"transition"}`)), "instance failed to match exactly one schema (matched 0 out of 2)", Schema},
		{"transition to glacier", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":9}`, `{"type":"transition","targetStorageClass":"glacier"}`)), `instance value ("glacier") not found in enum (possible values: ["archive"])`, Schema},
		{"selection missing members", policy(rule("1", `{"tagStatus":"any"}`, expire)), `object has missing required properties (["countNumber","countType"])`, Schema},
		{"selection unknown member", policy(rule("1", `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1,"tagSuffixList":["x"]}`, expire)), `object instance has properties which are not allowed by the schema: (["tagSuffixList"])`, Schema},
		{"bad tag status", policy(rule("1", `{"tagStatus":"TAGGED","tagPrefixList":["x"],"countType":"imageCountMoreThan","countNumber":1}`, expire)), `instance value ("TAGGED") not found in enum (possible values: ["any","tagged","untagged"])`, Schema},
		{"bad count type", policy(rule("1", `{"tagStatus":"any","countType":"imageCountLessThan","countNumber":1}`, expire)), "instance failed to match exactly one schema (matched 0 out of 2)", Schema},
		{"count unit on image count", policy(rule("1", `{"tagStatus":"untagged","countType":"imageCountMoreThan","countUnit":"days","countNumber":5}`, expire)), "instance failed to match exactly one schema (matched 0 out of 2)", Schema},
		{"age without count unit", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePushed","countNumber":5}`, expire)), "instance failed to match exactly one schema (matched 0 out of 2)", Schema},
		{"null count unit", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":null,"countNumber":5}`, expire)), "instance failed to match exactly one schema (matched 0 out of 2)", Schema},
		{"count unit hours", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"hours","countNumber":5}`, expire)), `instance value ("hours") not found in enum (possible values: ["days"])`, Schema},
		{"count number zero", policy(rule("1", `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":0}`, expire)), "numeric instance is lower than the required minimum (minimum: 1, found: 0)", Schema},
		{"count number string", policy(rule("1", `{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":"5"}`, expire)), `instance type (string) does not match any allowed primitive type (allowed: ["integer"])`, Schema},
		{"prefix list not a list", policy(rule("1", `{"tagStatus":"tagged","tagPrefixList":"prod","countType":"imageCountMoreThan","countNumber":1}`, expire)), `instance type (string) does not match any allowed primitive type (allowed: ["array"])`, Schema},
		{"empty prefix list", policy(rule("1", `{"tagStatus":"tagged","tagPrefixList":[],"countType":"imageCountMoreThan","countNumber":1}`, expire)), "array is too short: must have at least 1 elements but instance has 0 elements", Schema},
		{"pattern not a string", policy(rule("1", `{"tagStatus":"tagged","tagPatternList":[1],"countType":"imageCountMoreThan","countNumber":1}`, expire)), `instance type (integer) does not match any allowed primitive type (allowed: ["string"])`, Schema},
		{"bad storage class", policy(rule("1", `{"tagStatus":"any","storageClass":"cold","countType":"imageCountMoreThan","countNumber":1}`, expire)), `instance value ("cold") not found in enum (possible values: ["archive","standard"])`, Schema},

		{"tagged without lists", policy(rule("1", `{"tagStatus":"tagged","countType":"imageCountMoreThan","countNumber":1}`, expire)), "Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.", Rules},
		{"both lists", policy(rule("1", `{"tagStatus":"tagged","tagPrefixList":["a"],"tagPatternList":["a*"],"countType":"imageCountMoreThan","countNumber":1}`, expire)), "A rule may specify either tagPrefixList or tagPatternList, but not both.", Rules},
		{"untagged with prefixes", policy(rule("1", `{"tagStatus":"untagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1}`, expire)), "tagPrefixList and tagPatternList may only be used when tagStatus=TAGGED.", Rules},
		{"any with patterns", policy(rule("1", `{"tagStatus":"any","tagPatternList":["a*"],"countType":"imageCountMoreThan","countNumber":1}`, expire)), "tagPrefixList and tagPatternList may only be used when tagStatus=TAGGED.", Rules},
		{"five wildcards", policy(rule("1", `{"tagStatus":"tagged","tagPatternList":["test*1*2*3*4*5*6"],"countType":"imageCountMoreThan","countNumber":1}`, expire)), `tagPatternList entry "test*1*2*3*4*5*6" has more than 4 wildcards (*).`, Rules},
		{"pulled with expire", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, expire)), "countType=sinceImagePulled may only be used with the transition action.", Rules},
		{"transitioned with transition", policy(rule("1", `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90}`, `{"type":"transition","targetStorageClass":"archive"}`)), "countType=sinceImageTransitioned may only be used with the expire action.", Rules},
		{"transitioned on standard", policy(rule("1", `{"tagStatus":"any","countType":"sinceImageTransitioned","countUnit":"days","countNumber":90}`, expire)), "countType=sinceImageTransitioned requires storageClass=archive.", Rules},
		{"archive by count", policy(rule("1", `{"tagStatus":"any","storageClass":"archive","countType":"imageCountMoreThan","countNumber":9}`, expire)), "storageClass=archive requires countType=sinceImageTransitioned.", Rules},
		{"archive minimum", policy(rule("1", `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":30}`, expire)), "Images must be in archive storage for a minimum of 90 days before deletion.", Rules},
		{"duplicate priority", policy(rule("1", untagged, expire), rule("1", `{"tagStatus":"tagged","tagPrefixList":["a"],"countType":"imageCountMoreThan","countNumber":1}`, expire)), "rulePriority must be unique; 1 is used by more than one rule.", Rules},
		{"two untagged rules", policy(rule("1", untagged, expire), rule("2", `{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":3}`, expire)), "Only one rule can select Untagged images per storage class.", Rules},
		{"any not last", policy(rule("1", anyRule, expire), rule("2", untagged, expire)), "Rule for tagStatus=ANY must have the lowest priority per storage class", Rules},
		{"two any rules", policy(rule("1", anyRule, expire), rule("2", `{"tagStatus":"any","countType":"sinceImagePushed","countUnit":"days","countNumber":3}`, expire)), "Rule for tagStatus=ANY must have the lowest priority per storage class", Rules},
		{"same prefix set", policy(rule("1", `{"tagStatus":"tagged","tagPrefixList":["a","b"],"countType":"imageCountMoreThan","countNumber":1}`, expire), rule("2", `{"tagStatus":"tagged","tagPrefixList":["b","a"],"countType":"sinceImagePushed","countUnit":"days","countNumber":3}`, expire)), "The set of all rules selecting a specific storage class must contain a unique set of prefixes.", Rules},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.text)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse = %v, want *Error", err)
			}
			if e.Reason != c.reason || e.Kind != c.kind {
				t.Fatalf("reason %q kind %d, want %q kind %d", e.Reason, e.Kind, c.reason, c.kind)
			}
			want := "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: " + c.reason + "'"
			if err.Error() != want {
				t.Fatalf("message %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestLifecycleWildcardMatch(t *testing.T) {
	cases := []struct {
		tag, pattern string
		want         bool
	}{
		{"prod", "prod*", true},
		{"prod1", "prod*", true},
		{"production-team1", "prod*", true},
		{"repo-production", "*prod*", true},
		{"prod-team", "*prod*", true},
		{"pro", "prod*", false},
		{"my-prod", "prod*", false},
		{"latest", "latest", true},
		{"latest-1", "latest", false},
		{"anything", "*", true},
		{"v1.2.3", "v*.*.*", true},
		{"v1.2", "v*.*.*", false},
		{"test123", "*test*1*2*3", true},
		{"test-1-2-3-end", "test*1*2*3*", true},
		{"aXbXc", "a*b*c", true},
		{"ab", "a*b*b", false},
		{"abb", "a*b*b", true},
		{"Prod", "prod*", false},
	}
	for _, c := range cases {
		if got := ecrmodel.Wildcard(c.pattern, c.tag); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", c.pattern, c.tag, got, c.want)
		}
	}
}
