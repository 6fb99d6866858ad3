package policy

// Evaluate decides r against the policies in s, following AWS's policy
// evaluation logic:
//
//  1. Default deny.
//  2. An applicable Deny in any policy wins (identity-based policies are
//     looked at first, so a deny in both is reported as identity-based).
//  3. Same account: an Allow in an identity-based policy or in a
//     resource-based policy suffices, except that a resource-based Allow
//     granted only to the account principal (arn:aws:iam::ACCOUNT:root or
//     the bare id) delegates to the account and needs an identity-based
//     Allow as well.
//  4. Cross account: both an identity-based Allow and a resource-based
//     Allow (naming the principal, its role, its account or "*") are
//     needed.
//  5. Trust (sts:AssumeRole): the trust policy must allow, even in the same
//     account; an identity-based Allow is needed too when the caller is in
//     another account or the trust policy allows only through the account
//     principal.
//  6. Session policies (a session's Policy and PolicyArns) and the
//     principal's permissions boundary must each allow as well, whatever
//     allowed on the identity or resource side (berth does not model
//     AWS's exception for resource-based grants naming a session or user
//     ARN directly: it errs on the strict side).
//
// Service principals, web identities and anonymous callers have no
// identity policies: only
// resource-based policies can allow them. An account's root user has an
// implicit identity-based Allow for everything (it cannot carry identity
// policies), so it is limited only by denies and, across accounts, by the
// resource-based policy.
//
// An allowing Decision names the first identity-based statement that
// allowed when the decision relied on one, else the resource-based
// statement (for Trust, always the trust policy's statement, specific
// grants before account grants).
func Evaluate(r Request, s Set) Decision {
	ec := evalCtx{r: &r}
	p := &r.Principal
	noIdentity := p.Type == Service || p.Type == Anonymous || p.Type == Federated

	// Identity side.
	idAllow := hit{index: -1}
	if !noIdentity {
		for pi := range s.Identity {
			pol := s.Identity[pi].Policy
			if pol == nil {
				continue
			}
			for si := range pol.stmts {
				st := &pol.stmts[si]
				if !st.appliesTo(&ec, false) {
					continue
				}
				if !st.allow {
					return denied(IdentityBased, s.Identity[pi].Name, st)
				}
				if !idAllow.found {
					idAllow = hit{found: true, policy: s.Identity[pi].Name, sid: st.sid, index: st.index}
				}
			}
		}
		if p.Type == Root && !idAllow.found {
			idAllow = hit{found: true, index: -1}
		}
	}

	// Session policies bound a session, a permissions boundary the
	// principal's own permissions: an Allow is needed in each too, a Deny
	// in them denies.
	sessAllow, d, deny := bounds(s.Session, SessionPolicy, &ec)
	if deny {
		return d
	}
	sessAllow = sessAllow || !s.Scoped
	boundAllow := !s.Bounded || noIdentity
	if !noIdentity {
		var ok bool
		if ok, d, deny = bounds(s.Boundary, PermissionsBoundary, &ec); deny {
			return d
		}
		boundAllow = boundAllow || ok
	}

	// Resource side: record the first specific and the first account-only
	// allow; any matching deny ends the evaluation.
	specific, account := hit{index: -1}, hit{index: -1}
	for pi := range s.Resource {
		pol := s.Resource[pi].Policy
		if pol == nil {
			continue
		}
		for si := range pol.stmts {
			st := &pol.stmts[si]
			level := st.principalLevel(p)
			if level == noMatch || !st.appliesTo(&ec, true) {
				continue
			}
			if !st.allow {
				return denied(ResourceBased, s.Resource[pi].Name, st)
			}
			h := hit{found: true, policy: s.Resource[pi].Name, sid: st.sid, index: st.index}
			if level == specificMatch && !specific.found {
				specific = h
			} else if level == accountMatch && !account.found {
				account = h
			}
		}
	}

	cross := r.ResourceAccount != "" && r.ResourceAccount != p.Account
	// Session policies and boundaries bound every request of the
	// principal, sts:AssumeRole included (a session narrowed to pulls
	// cannot widen itself by assuming another role).
	if !sessAllow {
		return implicit(SessionPolicy)
	}
	if !boundAllow {
		return implicit(PermissionsBoundary)
	}
	switch {
	case s.Trust:
		if !specific.found && !account.found {
			return implicit(ResourceBased)
		}
		trust := specific
		if !trust.found {
			trust = account
		}
		if !noIdentity && (cross || !specific.found) && !idAllow.found {
			return implicit(IdentityBased)
		}
		return allowed(trust)
	case noIdentity:
		if specific.found {
			return allowed(specific)
		}
		return implicit(ResourceBased)
	case !cross:
		if idAllow.found {
			return allowed(idAllow)
		}
		if specific.found {
			return allowed(specific)
		}
		return implicit(IdentityBased)
	}
	if !idAllow.found {
		return implicit(IdentityBased)
	}
	if !specific.found && !account.found {
		return implicit(ResourceBased)
	}
	if idAllow.index < 0 { // a root user's implicit allow: name the grant
		if specific.found {
			return allowed(specific)
		}
		return allowed(account)
	}
	return allowed(idAllow)
}

// hit locates an allowing statement.
type hit struct {
	found  bool
	policy string
	sid    string
	index  int
}

func allowed(h hit) Decision {
	return Decision{Effect: Allow, Policy: h.policy, Sid: h.sid, Index: h.index}
}

// bounds evaluates policies that limit rather than grant (session
// policies, a permissions boundary) of kind: whether one allows, or the
// denial when one denies.
func bounds(ps []Named, kind string, ec *evalCtx) (allow bool, d Decision, deny bool) {
	for pi := range ps {
		pol := ps[pi].Policy
		if pol == nil {
			continue
		}
		for si := range pol.stmts {
			st := &pol.stmts[si]
			if !st.appliesTo(ec, false) {
				continue
			}
			if !st.allow {
				return false, denied(kind, ps[pi].Name, st), true
			}
			allow = true
		}
	}
	return allow, Decision{}, false
}

func denied(in, policy string, st *stmt) Decision {
	return Decision{Effect: ExplicitDeny, DenyIn: in, Policy: policy, Sid: st.sid, Index: st.index}
}

func implicit(missing string) Decision {
	return Decision{Effect: ImplicitDeny, Missing: missing, Index: -1}
}

// principalLevel is how the statement's Principal or NotPrincipal matches
// p. A Deny counts an account principal as matching every principal of
// the account. NotPrincipal matches every principal it does not list; a
// principal is listed when its own ARN, its role's ARN (for a session) or
// its account is.
func (st *stmt) principalLevel(p *Principal) principalLevel {
	if st.principals == nil {
		return noMatch
	}
	level := st.principals.match(p)
	if st.notPrincipal {
		if level == noMatch {
			return specificMatch
		}
		return noMatch
	}
	return level
}

// appliesTo reports whether the statement's action, resource and
// conditions match. Resource-based statements without a Resource element
// cover the resource they are attached to.
func (st *stmt) appliesTo(ec *evalCtx, resourceBased bool) bool {
	r := ec.r
	if st.matchAction(r.Action) == st.notAction {
		return false
	}
	if !(resourceBased && st.anyResource) && !st.matchResource(r.Resource, ec) {
		return false
	}
	for i := range st.conds {
		if !st.conds[i].eval(ec) {
			return false
		}
	}
	return true
}

func (st *stmt) matchAction(action string) bool {
	for i := range st.actions {
		if m, _ := st.actions[i].match(action, true, nil); m {
			return true
		}
	}
	return false
}

// matchResource applies Resource or NotResource. An entry whose variable
// cannot be resolved never matches, and makes a NotResource statement not
// apply: an unresolvable variable never widens what a statement covers
// (IAM: it "might cause the entire statement to be invalid").
func (st *stmt) matchResource(resource string, ec *evalCtx) bool {
	for i := range st.resources {
		m, ok := st.resources[i].match(resource, ec)
		if st.notResource && (m || !ok) {
			return false
		}
		if !st.notResource && m {
			return true
		}
	}
	return st.notResource
}
