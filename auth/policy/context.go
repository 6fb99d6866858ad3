package policy

import "strings"

// evalCtx carries one request through evaluation. It is built on the
// caller's stack; nothing in it escapes.
type evalCtx struct {
	r *Request
}

// values is a context key's values without copying them: either the
// Context's own slice or one value derived from the Request.
type values struct {
	list []string
	one  string
	n    int
}

func (v *values) at(i int) string {
	if v.list != nil {
		return v.list[i]
	}
	return v.one
}

// lookup returns the values of a lower-cased key: the Context's when it
// has the key, else the value AWS would derive from the request itself.
func (ec *evalCtx) lookup(key string) values {
	if vs, ok := ec.r.Context[key]; ok {
		return values{list: vs, n: len(vs)}
	}
	if v, ok := ec.derived(key); ok {
		return values{one: v, n: 1}
	}
	return values{}
}

// variable resolves ${key}: only a single-valued key can stand in for a
// variable (IAM: "You cannot use a multivalued context key as a policy
// variable").
func (ec *evalCtx) variable(key string) (string, bool) {
	v := ec.lookup(key)
	if v.n != 1 {
		return "", false
	}
	return v.at(0), true
}

// derived answers the global keys AWS fills in from the authenticated
// principal and the resource, so callers need not repeat them.
func (ec *evalCtx) derived(key string) (string, bool) {
	p := &ec.r.Principal
	switch key {
	case "aws:principalarn":
		switch p.Type {
		case AssumedRole:
			return p.RoleARN, p.RoleARN != ""
		case User, Root:
			return p.ARN, p.ARN != ""
		}
	case "aws:principalaccount":
		return p.Account, p.Account != ""
	case "aws:principaltype":
		switch p.Type {
		case User:
			return "User", true
		case AssumedRole:
			return "AssumedRole", true
		case Root:
			return "Account", true
		case Anonymous:
			return "Anonymous", true
		case Federated:
			return "WebIdentityUser", true
		}
	case "aws:federatedprovider":
		if p.Type == Federated {
			return p.ARN, p.ARN != ""
		}
	case "aws:username":
		if p.Type == User {
			if i := strings.LastIndexByte(p.ARN, '/'); i >= 0 {
				return p.ARN[i+1:], true
			}
		}
	case "aws:principalservicename":
		if p.Type == Service {
			return p.ARN, p.ARN != ""
		}
	case "aws:resourceaccount":
		if ec.r.ResourceAccount != "" {
			return ec.r.ResourceAccount, true
		}
		return p.Account, p.Account != ""
	}
	return "", false
}
