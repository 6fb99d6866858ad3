package iam

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/oidc"
	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
)

// maxChained is the session limit of a role assumed by a role session.
const maxChained = time.Hour

// denyTrust stands in for the trust policy of a role that has none.
const denyTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:*"}]}`

// Roles is STS's AssumeRole over the store: the role's trust policy (and,
// across accounts or through the account principal, the caller's identity
// policies) must allow sts:AssumeRole, and sts:TagSession when session
// tags are passed.
type Roles struct {
	Service *Service
	Authz   *Authorizer
	// OIDC verifies web identity tokens (AssumeRoleWithWebIdentity).
	OIDC *oidc.Verifier
}

// AssumeRole makes a session of the role for caller.
func (r *Roles) AssumeRole(ctx context.Context, caller auth.Principal, in AssumeRoleInput, hr *http.Request) (AssumeRoleOutput, error) {
	var out AssumeRoleOutput
	packed, err := checkSessionPolicies("AssumeRole", in.Policy, in.PolicyArns, in.Tags)
	if err != nil {
		return out, err
	}
	tags, err := r.chainTags(ctx, "AssumeRole", caller, in)
	if err != nil {
		return out, err
	}
	if in.SerialNumber != "" || in.TokenCode != "" {
		return out, errorf("AssumeRole", Denied, "MultiFactorAuthentication failed: berth has no MFA devices.")
	}
	account, res, ok := ParseARN(in.RoleArn)
	if !ok || !strings.HasPrefix(res, "role/") {
		return out, errorf("AssumeRole", Invalid, "%s is invalid", in.RoleArn)
	}
	role, err := r.Service.Store.GetPrincipal(ctx, in.RoleArn)
	notFound := metadata.Is(err, metadata.NotFound) || (err == nil && role.Kind != metadata.KindRole)
	if err != nil && !notFound {
		return out, err
	}
	c := Check{
		Principal: caller, Action: "sts:AssumeRole", Resource: in.RoleArn, Registry: account, HTTP: hr,
		Trust: role.TrustPolicy, Source: "sts.amazonaws.com", Event: "AssumeRole", Brief: true,
		Keys: map[string]string{"sts:RoleSessionName": in.RoleSessionName},
	}
	if in.ExternalId != "" {
		c.Keys["sts:ExternalId"] = in.ExternalId
	}
	if in.SourceIdentity != "" {
		c.Keys["sts:SourceIdentity"] = in.SourceIdentity
	}
	c.RequestTags = tags.request
	if len(in.TransitiveTagKeys) > 0 {
		c.KeyLists = map[string][]string{"sts:TransitiveTagKeys": in.TransitiveTagKeys}
	}
	if notFound || role.TrustPolicy == "" {
		// A missing role, or one without a trust policy, is denied like a
		// forbidden one: callers learn nothing about which roles exist.
		c.Trust = denyTrust
	}
	if err := r.allow(ctx, c); err != nil {
		return out, err
	}
	if notFound || role.TrustPolicy == "" {
		// Even with authorization off.
		return out, denied(DenialMessage(c, policy.Decision{}, policy.Request{
			Principal: policyPrincipal(caller), Action: c.Action, Resource: c.Resource}))
	}
	// Tagging the session, with the request's tags or with transitive
	// ones the caller hands on, needs sts:TagSession too.
	if len(tags.tags) > 0 {
		c.Action, c.Event = "sts:TagSession", "TagSession"
		if err := r.allow(ctx, c); err != nil {
			return out, err
		}
	}
	dur := in.Duration()
	if caller.Kind() == auth.TypeAssumedRole && in.DurationSeconds != 0 && dur > maxChained {
		return out, errorf("AssumeRole", Invalid, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if max := time.Duration(role.MaxSessionSeconds) * time.Second; max > 0 && dur > max {
		return out, errorf("AssumeRole", Invalid, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	out, err = r.Service.newSession(ctx, metadata.Session{RoleARN: role.ARN, SessionName: in.RoleSessionName, Account: role.Account,
		SourceARN: caller.ARN, Tags: tags.tags, TransitiveTagKeys: tags.transitive, Policy: in.Policy, PolicyArns: in.PolicyArns}, role, dur)
	out.PackedPolicySize = packed
	return out, err
}

// denied is a Denied error carrying AWS's denial message.
func denied(msg string) *Error { return &Error{Op: "AssumeRole", Kind: Denied, Message: msg} }

// allow evaluates c and turns a denial into a Denied error.
func (r *Roles) allow(ctx context.Context, c Check) error {
	d, req, err := r.Authz.Authorize(ctx, c)
	if err != nil {
		return err
	}
	if !d.Allowed() {
		return denied(DenialMessage(c, d, req))
	}
	return nil
}

// newSession stores session ss (its role, name, source, tags and
// policies filled in) of role, lasting dur, and returns its credentials.
func (s *Service) newSession(ctx context.Context, ss metadata.Session, role metadata.Principal, dur time.Duration) (AssumeRoleOutput, error) {
	id, secret, err := auth.NewAccessKey(auth.PrefixTemporary)
	if err != nil {
		return AssumeRoleOutput{}, err
	}
	token, err := auth.NewSessionToken()
	if err != nil {
		return AssumeRoleOutput{}, err
	}
	sealed, err := auth.SealSession(s.Keyring, secret, token)
	if err != nil {
		return AssumeRoleOutput{}, err
	}
	now := s.now().UTC()
	exp := now.Add(dur).Truncate(time.Second)
	ss.AccessKeyID, ss.Sealed, ss.CreatedAt, ss.Expires = id, sealed, now, exp
	if err := s.Store.CreateSession(ctx, ss); err != nil {
		return AssumeRoleOutput{}, err
	}
	if role.Kind == metadata.KindRole {
		s.LastUsed.Record(ctx, role.ARN)
	}
	return AssumeRoleOutput{
		AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Expiration: exp,
		AssumedRoleID: role.ID + ":" + ss.SessionName, AssumedRoleARN: auth.SessionARN(role.Account, role.Name, ss.SessionName),
	}, nil
}

// PruneSessions removes sessions expired more than retention ago. Login
// tokens issued under a session stay valid for their lifetime (as ECR's
// do), so retention must be at least the token lifetime; they die when
// the session is pruned or revoked.
func (s *Service) PruneSessions(ctx context.Context, retention time.Duration) (int, error) {
	n, err := s.Store.PruneSessions(ctx, s.now().Add(-retention))
	if err != nil {
		return 0, internal("PruneSessions", err)
	}
	return n, nil
}
