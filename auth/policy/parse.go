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
// of the right JSON types, an Effect that is Allow or Deny in any case, and
// no element paired with its negation.
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
		}
	}
	if !has["Effect"] || (has["Action"] && has["NotAction"]) ||
		(has["Resource"] && has["NotResource"]) || (has["Principal"] && has["NotPrincipal"]) {
		return nil, errorf(msgSyntax)
	}
	return obj, nil
}

// read fills Statements[i] and compiles stmts[i]. Principals are compiled
// here (their shape is syntax) but their values are checked in checkValues.
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

// checkLegacy is IAM's "legacy parsing": Effect must be spelled exactly
// Allow or Deny, and an ARN written with "::" must have all six fields.
// (Unreadable dates fail here too; parseConditions reports them.)
func (p *Policy) checkLegacy() *Error {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return errorf(msgLegacy)
		}
		for _, r := range append(st.Resource, st.NotResource...) {
			if r != "*" && strings.Contains(r, "::") && strings.Count(r, ":") < 5 {
				return errorf(msgLegacy)
			}
		}
	}
	return nil
}

// checkKind applies what the policy is attached to.
func (p *Policy) checkKind() *Error {
	for i := range p.Statements {
		st := &p.Statements[i]
		hasPrincipal := st.Principal != nil || st.NotPrincipal != nil
		switch p.kind {
		case Identity:
			if hasPrincipal {
				return errorf(msgNoPrincipal)
			}
		case Resource, Registry, Trust:
			if !hasPrincipal {
				return errorf(msgMissingPrinc)
			}
		}
		if p.kind == Trust {
			if st.Resource != nil {
				return errorf(msgProhibitedRes)
			}
			if st.NotResource != nil {
				return errorf(msgProhibitedNotRs)
			}
		}
	}
	return nil
}

// checkSids: IAM wants alphanumeric, unique Sids; ECR, like S3, takes any
// Sid in its own policies and repository policies may repeat them.
func (p *Policy) checkSids() *Error {
	if p.kind == Identity || p.kind == Trust {
		for i := range p.Statements {
			if !isAlnum(p.Statements[i].Sid) {
				return errorf(msgSidAlnum)
			}
		}
	}
	if p.kind == Resource {
		return nil
	}
	seen := map[string]bool{}
	for i := range p.Statements {
		sid := p.Statements[i].Sid
		if sid == "" {
			continue
		}
		if seen[sid] {
			return errorf(msgSidUnique)
		}
		seen[sid] = true
	}
	return nil
}

func (p *Policy) checkActions() *Error {
	for i := range p.Statements {
		st := &p.Statements[i]
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return errorf(msgNoActions)
		}
	}
	return nil
}

func (p *Policy) checkResources() *Error {
	if p.kind != Identity && p.kind != Registry {
		return nil
	}
	for i := range p.Statements {
		st := &p.Statements[i]
		if len(st.Resource) == 0 && len(st.NotResource) == 0 {
			return errorf(msgNoResources)
		}
	}
	return nil
}

// checkValues validates each resource ARN, action and principal, and
// compiles the principals.
func (p *Policy) checkValues() *Error {
	for i := range p.Statements {
		st := &p.Statements[i]
		for _, r := range append(st.Resource, st.NotResource...) {
			if r != "*" && !strings.HasPrefix(r, "arn:") {
				return errResourceFormat(r)
			}
		}
		for _, a := range append(st.Action, st.NotAction...) {
			if err := checkAction(a, p.kind); err != nil {
				return err
			}
		}
		pr := st.Principal
		if st.NotPrincipal != nil {
			pr = st.NotPrincipal
		}
		if pr != nil {
			ps, err := compilePrincipals(pr)
			if err != nil {
				return err
			}
			p.stmts[i].principals = ps
		}
	}
	return nil
}

func compilePrincipals(shape map[string][]string) (*principalSet, *Error) {
	ps := &principalSet{}
	for _, key := range []string{"AWS", "CanonicalUser", "Federated", "Service"} {
		for _, v := range shape[key] {
			if err := ps.add(key, v); err != nil {
				return nil, err
			}
		}
	}
	return ps, nil
}

// checkAction: "*" or vendor:action with one colon and a vendor of
// letters, digits, '-' and '.'; trust policies take only sts actions.
func checkAction(a string, kind Kind) *Error {
	if a == "*" {
		if kind == Trust {
			return errorf(msgTrustActions)
		}
		return nil
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok {
		return errorf(msgVendor)
	}
	if strings.Contains(name, ":") {
		return errorf(msgOneColon)
	}
	if vendor != "*" {
		for i := 0; i < len(vendor); i++ {
			c := vendor[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
				return errVendor(vendor)
			}
		}
		if vendor == "" {
			return errVendor(vendor)
		}
	}
	if kind == Trust && !strings.EqualFold(vendor, "sts") {
		return errorf(msgTrustActions)
	}
	return nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
