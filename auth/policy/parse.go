package policy

import "strings"

// Policy versions IAM knows. Only 2012-10-17 has policy variables; a
// document without Version is read as 2008-10-17.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed, validated policy document. Treat it as read-only: it
// may be shared (Managed returns the same *Policy to every caller).
type Policy struct {
	Version    string // as written; "" when the document has none
	ID         string
	Statements []Statement

	kind  Kind
	text  string
	stmts []stmt
}

// Kind reports what the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Document returns the policy text exactly as given to Parse.
func (p *Policy) Document() string { return p.text }

// Statement is a statement as written. Principal and NotPrincipal map the
// principal type ("AWS", "Service", ...) to its values; "Principal": "*"
// reads as {"AWS": ["*"]}. Condition maps operator to key to values.
type Statement struct {
	Sid          string
	Effect       string
	Principal    map[string][]string
	NotPrincipal map[string][]string
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    map[string]map[string][]string
}

// stmt is a compiled statement.
type stmt struct {
	index        int
	sid          string
	allow        bool
	principals   *principalSet // nil when the statement has no principal element
	notPrincipal bool
	actions      []pattern
	notAction    bool
	resources    []arnPattern
	notResource  bool
	anyResource  bool // no Resource element (repository policies)
	conds        []condition
}

var statementFields = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true,
	"Action": true, "NotAction": true, "Resource": true, "NotResource": true,
	"Condition": true,
}

// Parse parses and validates doc as a policy of the given kind. Errors are
// *Error with IAM's MalformedPolicyDocument wording. Size limits are the
// caller's to enforce.
//
// Checks run in IAM's order: syntax (JSON, fields, types, Effect, Version,
// condition operators), legacy parsing (Effect case, dates, ARN shape),
// kind rules (principal, resource), Sids, actions, resources, then the
// individual ARN, action and principal values.
func Parse(doc string, kind Kind) (*Policy, error) {
	p, err := parse(doc, kind)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func parse(doc string, kind Kind) (*Policy, *Error) {
	if kind < Identity || kind > Trust {
		return nil, errorf("unknown policy kind")
	}
	root, ok := decodeJSON(doc)
	if !ok {
		return nil, errorf(msgSyntax)
	}
	top, ok := root.object()
	if !ok {
		return nil, errorf(msgSyntax)
	}
	p := &Policy{kind: kind, text: doc}
	var rawStmts []rawValue
	haveStmt := false
	for _, m := range top {
		switch m.key {
		case "Version":
			v, ok := m.value.str()
			if !ok || (v != Version2012 && v != Version2008) {
				return nil, errorf(msgSyntax)
			}
			p.Version = v
		case "Id":
			v, ok := m.value.str()
			if !ok {
				return nil, errorf(msgSyntax)
			}
			p.ID = v
		case "Statement":
			haveStmt = true
			if l, ok := m.value.list(); ok {
				for _, e := range l {
					rawStmts = append(rawStmts, rawValue{e})
				}
			} else {
				rawStmts = append(rawStmts, m.value)
			}
		default:
			return nil, errorf(msgSyntax)
		}
	}
	if !haveStmt || len(rawStmts) == 0 {
		return nil, errorf(msgSyntax)
	}
	vars := p.Version == Version2012

	// Pass 1: syntax. Everything but IAM's later, more specific checks.
	objs := make([][]kv, len(rawStmts))
	for i, rs := range rawStmts {
		obj, err := syntaxCheck(rs)
		if err != nil {
			return nil, err
		}
		objs[i] = obj
	}
	p.Statements = make([]Statement, len(objs))
	p.stmts = make([]stmt, len(objs))
	for i, obj := range objs {
		if err := p.read(i, obj, vars); err != nil {
			return nil, err
		}
	}
	for _, check := range []func() *Error{p.checkLegacy, p.checkKind, p.checkSids, p.checkActions, p.checkResources, p.checkValues} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// syntaxCheck validates one statement's shape: an object with known fields
// of the right JSON types, an Effect that is Allow or Deny in any case, a
// well-formed principal, known condition operators, and no element paired
// with its negation. All of these are "Syntax errors in policy." to IAM and
// come before any other error in any statement.
func syntaxCheck(rs rawValue) ([]kv, *Error) {
	obj, ok := rs.object()
	if !ok {
		return nil, errorf(msgSyntax)
	}
	has := map[string]bool{}
	for _, m := range obj {
		if !statementFields[m.key] {
			return nil, errorf(msgSyntax)
		}
		has[m.key] = true
		switch m.key {
		case "Sid":
			if _, ok := m.value.str(); !ok {
				return nil, errorf(msgSyntax)
			}
		case "Effect":
			e, ok := m.value.str()
			if !ok || !(strings.EqualFold(e, "Allow") || strings.EqualFold(e, "Deny")) {
				return nil, errorf(msgSyntax)
			}
		case "Action", "NotAction", "Resource", "NotResource":
			if _, ok := m.value.strings(); !ok {
				return nil, errorf(msgSyntax)
			}
		case "Principal", "NotPrincipal":
			if _, err := principalShape(m.value); err != nil {
				return nil, err
			}
		case "Condition":
			if err := conditionSyntax(m.value); err != nil {
				return nil, err
			}
		}
	}
	if !has["Effect"] || (has["Action"] && has["NotAction"]) ||
		(has["Resource"] && has["NotResource"]) || (has["Principal"] && has["NotPrincipal"]) {
		return nil, errorf(msgSyntax)
	}
	return obj, nil
}

// read fills Statements[i] and compiles stmts[i]; its only possible error
// is an unreadable date (legacy parsing). Principal values are checked and
// compiled in checkValues.
func (p *Policy) read(i int, obj []kv, vars bool) *Error {
	st := &p.Statements[i]
	cs := &p.stmts[i]
	cs.index = i
	for _, m := range obj {
		switch m.key {
		case "Sid":
			st.Sid, _ = m.value.str()
			cs.sid = st.Sid
		case "Effect":
			st.Effect, _ = m.value.str()
			cs.allow = st.Effect == "Allow"
		case "Action":
			st.Action, _ = m.value.strings()
		case "NotAction":
			st.NotAction, _ = m.value.strings()
			cs.notAction = true
		case "Resource":
			st.Resource, _ = m.value.strings()
		case "NotResource":
			st.NotResource, _ = m.value.strings()
			cs.notResource = true
		case "Principal", "NotPrincipal":
			shape, err := principalShape(m.value)
			if err != nil {
				return err
			}
			if m.key == "Principal" {
				st.Principal = shape
			} else {
				st.NotPrincipal = shape
				cs.notPrincipal = true
			}
		case "Condition":
			conds, err := parseConditions(m.value, vars)
			if err != nil {
				return err
			}
			cs.conds = conds
			st.Condition = conditionShape(m.value)
		}
	}
	for _, a := range append(st.Action, st.NotAction...) {
		cs.actions = append(cs.actions, compile(a, true, false))
	}
	res := st.Resource
	if cs.notResource {
		res = st.NotResource
	}
	cs.anyResource = st.Resource == nil && st.NotResource == nil
	for _, r := range res {
		cs.resources = append(cs.resources, compileARN(r, vars))
	}
	return nil
}

// principalShape validates the shape of a principal element and returns
// it as written.
func principalShape(raw rawValue) (map[string][]string, *Error) {
	if s, ok := raw.str(); ok {
		if s != "*" {
			return nil, errorf(msgSyntax)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	obj, ok := raw.object()
	if !ok || len(obj) == 0 {
		return nil, errorf(msgSyntax)
	}
	out := map[string][]string{}
	for _, m := range obj {
		switch m.key {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, errorf(msgSyntax)
		}
		vals, ok := m.value.strings()
		if !ok || len(vals) == 0 {
			return nil, errorf(msgSyntax)
		}
		out[m.key] = vals
	}
	return out, nil
}

func conditionShape(raw rawValue) map[string]map[string][]string {
	ops, _ := raw.object()
	out := make(map[string]map[string][]string, len(ops))
	for _, op := range ops {
		keys, _ := op.value.object()
		m := make(map[string][]string, len(keys))
		for _, k := range keys {
			m[k.key], _ = k.value.scalars()
		}
		out[op.key] = m
	}
	return out
}
