package policy

import "strings"

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
