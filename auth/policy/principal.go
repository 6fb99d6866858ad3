package policy

import "strings"

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	all       bool     // "*" or {"AWS":"*"}: everyone, anonymous included
	accounts  []string // account principals (bare ids and :root ARNs), as ids
	arns      []string // user, role, assumed-role session, federated-user ARNs
	services  []string
	federated []string // OIDC provider ARNs (and SAML ones, which nothing presents)
	canonical []string
}

// principalLevel is how a principal matched: an account principal only
// delegates to the account, a specific one (or "*") grants by itself.
type principalLevel uint8

const (
	noMatch principalLevel = iota
	accountMatch
	specificMatch
)

// match reports how p matches the set, as a Principal element.
func (ps *principalSet) match(p *Principal) principalLevel {
	if ps.all {
		return specificMatch
	}
	switch p.Type {
	case Service:
		for _, s := range ps.services {
			if s == p.ARN {
				return specificMatch
			}
		}
		return noMatch
	case Federated:
		for _, f := range ps.federated {
			if f == p.ARN {
				return specificMatch
			}
		}
		return noMatch
	case Anonymous:
		return noMatch
	}
	for _, a := range ps.arns {
		// A role ARN names every session of the role; a session ARN names
		// that one session.
		if a == p.ARN || (p.Type == AssumedRole && a == p.RoleARN) {
			return specificMatch
		}
	}
	for _, acct := range ps.accounts {
		if acct == p.Account && p.Account != "" {
			return accountMatch
		}
	}
	return noMatch
}

func (ps *principalSet) add(key, v string) *Error {
	switch key {
	case "AWS":
		return ps.addAWS(v)
	case "Service":
		if v == "*" {
			// {"Service":"*"} is not the anonymous wildcard; IAM refuses it.
			return errPrincipal("SERVICE", v)
		}
		if !validName(v) {
			return errPrincipal("SERVICE", v)
		}
		ps.services = append(ps.services, v)
	case "Federated":
		if !validName(v) || v == "*" {
			return errPrincipal("FEDERATED", v)
		}
		ps.federated = append(ps.federated, v)
	case "CanonicalUser":
		if !validName(v) || v == "*" {
			return errPrincipal("CANONICALUSER", v)
		}
		ps.canonical = append(ps.canonical, v)
	default:
		return errorf(msgSyntax)
	}
	return nil
}

// addAWS accepts "*", a 12-digit account id, arn:PARTITION:iam::ACCOUNT:root,
// user and role ARNs, and assumed-role and federated-user session ARNs.
// Wildcards are invalid anywhere but in a lone "*" (IAM: "You cannot use a
// wildcard to match part of a principal name or ARN").
func (ps *principalSet) addAWS(v string) *Error {
	if v == "*" {
		ps.all = true
		return nil
	}
	if strings.ContainsAny(v, "*?") || !validName(v) {
		return errPrincipal("AWS", v)
	}
	if isAccountID(v) {
		ps.accounts = append(ps.accounts, v)
		return nil
	}
	if isUniqueID(v) {
		// A principal id (AIDA…, AROA…) is what AWS leaves in a policy
		// whose user or role was deleted; it matches no live principal.
		return nil
	}
	partition, service, region, account, res, ok := splitPrincipalARN(v)
	if !ok || partition == "" || region != "" || !isAccountID(account) {
		return errPrincipal("AWS", v)
	}
	switch {
	case service == "iam" && res == "root":
		ps.accounts = append(ps.accounts, account)
	case service == "iam" && hasNamedPath(res, "user/"),
		service == "iam" && hasNamedPath(res, "role/"),
		service == "sts" && hasNamedPath(res, "federated-user/"):
		ps.arns = append(ps.arns, v)
	case service == "sts" && strings.HasPrefix(res, "assumed-role/") && strings.Count(res, "/") == 2 &&
		!strings.HasSuffix(res, "/") && !strings.HasPrefix(res, "assumed-role//"):
		ps.arns = append(ps.arns, v)
	default:
		return errPrincipal("AWS", v)
	}
	return nil
}

// splitPrincipalARN splits arn:partition:service:region:account:resource.
func splitPrincipalARN(v string) (partition, service, region, account, res string, ok bool) {
	if !strings.HasPrefix(v, "arn:") {
		return
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 {
		return
	}
	return parts[1], parts[2], parts[3], parts[4], parts[5], true
}

// hasNamedPath: res is prefix followed by an optional path and a name.
func hasNamedPath(res, prefix string) bool {
	return strings.HasPrefix(res, prefix) && len(res) > len(prefix) && !strings.HasSuffix(res, "/")
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUniqueID recognises IAM unique ids of users (AIDA) and roles (AROA).
func isUniqueID(s string) bool {
	if len(s) < 16 || !(strings.HasPrefix(s, "AIDA") || strings.HasPrefix(s, "AROA")) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// validName rejects empty values and values with spaces or control
// characters, which no principal identifier contains.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
