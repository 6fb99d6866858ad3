// Package lifecycle implements ECR lifecycle policies: Parse validates a
// policy text exactly as ECR does (its JSON schema, then its rule
// constraints) and Evaluate decides, as ECR's evaluator does, which images
// of a repository a policy expires. Both are pure. Runner applies stored
// policies to the metadata store on a timer.
//
// Sources: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
// ("Lifecycle policy evaluation rules"), lifecycle_policy_parameters.html
// and lifecycle_policy_examples.html, whose worked examples are the table
// tests.
package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Tag statuses a rule selects on (selection.tagStatus).
const (
	Tagged   = "tagged"
	Untagged = "untagged"
	Any      = "any"
)

// Count types (selection.countType).
const (
	ImageCountMoreThan     = "imageCountMoreThan"
	SinceImagePushed       = "sinceImagePushed"
	SinceImagePulled       = "sinceImagePulled"
	SinceImageTransitioned = "sinceImageTransitioned"
)

// Storage classes (selection.storageClass, action.targetStorageClass).
const (
	Standard = "standard"
	Archive  = "archive"
)

// Rule actions (action.type).
const (
	ActionExpire     = "expire"
	ActionTransition = "transition"
)

// MaxWildcards is the most '*' a tagPatternList entry may hold.
const MaxWildcards = 4

// MinArchiveDays: archived images must stay archived this long before a
// rule may expire them ("minimum storage duration of 90 days").
const MinArchiveDays = 90

// Policy is a validated lifecycle policy; Rules are sorted by Priority.
type Policy struct {
	Rules []Rule
}

// Rule is one lifecycle rule.
type Rule struct {
	Priority    int
	Description string
	// TagStatus is Tagged, Untagged or Any.
	TagStatus string
	// At most one of TagPrefixList and TagPatternList is set, and only
	// for Tagged rules.
	TagPrefixList  []string
	TagPatternList []string
	// StorageClass is the class of images the rule selects (Standard
	// unless "archive" was given).
	StorageClass string
	CountType    string
	CountUnit    string // "days" for the since* count types
	CountNumber  int
	// Action is ActionExpire or ActionTransition; TargetStorageClass is
	// Archive for transitions.
	Action             string
	TargetStorageClass string
}

// Parse validates text as ECR's PutLifecyclePolicy does and returns the
// policy. Failures are *Error with ECR's message. (The 100–30,720
// character bound on the text is the API layer's.)
func Parse(text string) (*Policy, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return nil, schemaErr("Could not map policyString into LifecyclePolicy.")
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, schemaErr("Could not map policyString into LifecyclePolicy.")
	}
	if err := members(top, []string{"rules"}, []string{"rules"}); err != nil {
		return nil, err
	}
	list, ok := top["rules"].([]any)
	if !ok {
		return nil, typeErr(top["rules"], "array")
	}
	if len(list) == 0 {
		return nil, schemaErr("array is too short: must have at least 1 elements but instance has 0 elements")
	}
	p := &Policy{Rules: make([]Rule, 0, len(list))}
	for _, v := range list {
		r, err := parseRule(v)
		if err != nil {
			return nil, err
		}
		p.Rules = append(p.Rules, r)
	}
	for _, r := range p.Rules {
		if err := checkRule(r); err != nil {
			return nil, err
		}
	}
	if err := checkRuleSet(p.Rules); err != nil {
		return nil, err
	}
	sort.Slice(p.Rules, func(i, j int) bool { return p.Rules[i].Priority < p.Rules[j].Priority })
	return p, nil
}

func parseRule(v any) (Rule, error) {
	var r Rule
	obj, ok := v.(map[string]any)
	if !ok {
		return r, typeErr(v, "object")
	}
	if err := members(obj, []string{"rulePriority", "selection", "action"},
		[]string{"rulePriority", "description", "selection", "action"}); err != nil {
		return r, err
	}
	var err error
	if r.Priority, err = intMember(obj["rulePriority"]); err != nil {
		return r, err
	}
	if d, ok := obj["description"]; ok {
		s, ok := d.(string)
		if !ok {
			return r, typeErr(d, "string")
		}
		r.Description = s
	}
	if err := parseAction(obj["action"], &r); err != nil {
		return r, err
	}
	if err := parseSelection(obj["selection"], &r); err != nil {
		return r, err
	}
	return r, nil
}

// oneOf is the failure of ECR's schema alternatives (count-based versus
// age-based selections, expire versus transition actions): real ECR
// answers this for e.g. a countUnit on imageCountMoreThan or a
// "targetStorageClass": null on an expire action.
func oneOf() error {
	return schemaErr("instance failed to match exactly one schema (matched 0 out of 2)")
}

func parseAction(v any, r *Rule) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return typeErr(v, "object")
	}
	if err := members(obj, []string{"type"}, []string{"type", "targetStorageClass"}); err != nil {
		return err
	}
	var err error
	if r.Action, err = enumMember(obj["type"], ActionExpire, ActionTransition); err != nil {
		return err
	}
	target, has := obj["targetStorageClass"]
	switch {
	case r.Action == ActionExpire && has:
		return oneOf()
	case r.Action == ActionTransition && (!has || target == nil):
		return oneOf()
	case r.Action == ActionTransition:
		if r.TargetStorageClass, err = enumMember(target, Archive); err != nil {
			return err
		}
	}
	return nil
}

func parseSelection(v any, r *Rule) error {
	obj, ok := v.(map[string]any)
	if !ok {
		return typeErr(v, "object")
	}
	if err := members(obj, []string{"tagStatus", "countType", "countNumber"},
		[]string{"tagStatus", "tagPatternList", "tagPrefixList", "storageClass", "countType", "countUnit", "countNumber"}); err != nil {
		return err
	}
	var err error
	if r.TagStatus, err = enumMember(obj["tagStatus"], Any, Tagged, Untagged); err != nil {
		return err
	}
	if r.TagPrefixList, err = stringList(obj, "tagPrefixList"); err != nil {
		return err
	}
	if r.TagPatternList, err = stringList(obj, "tagPatternList"); err != nil {
		return err
	}
	r.StorageClass = Standard
	if sc, ok := obj["storageClass"]; ok {
		if r.StorageClass, err = enumMember(sc, Archive, Standard); err != nil {
			return err
		}
	}
	ct, ok := obj["countType"].(string)
	if !ok {
		return oneOf()
	}
	unit, hasUnit := obj["countUnit"]
	switch ct {
	case ImageCountMoreThan:
		if hasUnit {
			return oneOf()
		}
	case SinceImagePushed, SinceImagePulled, SinceImageTransitioned:
		if !hasUnit || unit == nil {
			return oneOf()
		}
		if r.CountUnit, err = enumMember(unit, "days"); err != nil {
			return err
		}
	default:
		return oneOf()
	}
	r.CountType = ct
	r.CountNumber, err = intMember(obj["countNumber"])
	return err
}

// members checks obj has every required member and nothing outside
// allowed, in the JSON schema validator's words.
func members(obj map[string]any, required, allowed []string) error {
	var missing, extra []string
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return schemaErr("object has missing required properties (" + jsonList(missing) + ")")
	}
	for k := range obj {
		if !contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return schemaErr("object instance has properties which are not allowed by the schema: (" + jsonList(extra) + ")")
	}
	return nil
}

// intMember reads an integer ≥ 1 (rulePriority, countNumber).
func intMember(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, typeErr(v, "integer")
	}
	i, err := n.Int64()
	if err != nil {
		return 0, typeErr(v, "integer")
	}
	if i < 1 {
		return 0, schemaErr(fmt.Sprintf("numeric instance is lower than the required minimum (minimum: 1, found: %d)", i))
	}
	if i > 1<<31-1 {
		return 0, schemaErr(fmt.Sprintf("numeric instance is greater than the required maximum (maximum: %d, found: %d)", 1<<31-1, i))
	}
	return int(i), nil
}

func enumMember(v any, values ...string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", typeErr(v, "string")
	}
	if !contains(values, s) {
		q, _ := json.Marshal(s)
		return "", schemaErr(fmt.Sprintf("instance value (%s) not found in enum (possible values: %s)", q, jsonList(values)))
	}
	return s, nil
}

// stringList reads an optional non-empty list of strings.
func stringList(obj map[string]any, name string) ([]string, error) {
	v, ok := obj[name]
	if !ok {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, typeErr(v, "array")
	}
	if len(list) == 0 {
		return nil, schemaErr("array is too short: must have at least 1 elements but instance has 0 elements")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, typeErr(e, "string")
		}
		out = append(out, s)
	}
	return out, nil
}

func typeErr(v any, want string) error {
	return schemaErr(fmt.Sprintf("instance type (%s) does not match any allowed primitive type (allowed: [%q])", jsonType(v), want))
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		return "number"
	}
	return "unknown"
}

func jsonList(s []string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
