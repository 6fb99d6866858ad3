package iam

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/oidc"
	"github.com/berth-registry/berth/metadata"
)

// WebIdentityInput is an AssumeRoleWithWebIdentity request's parameters.
type WebIdentityInput struct {
	RoleArn, RoleSessionName, WebIdentityToken, ProviderId string
	// DurationSeconds is 0 when absent.
	DurationSeconds int32
	Policy          string
	PolicyArns      []string
}

// WebIdentityOutput is what AssumeRoleWithWebIdentity answers: a role
// session, and what the token said.
type WebIdentityOutput struct {
	AssumeRoleOutput
	// Subject is the token's sub, Provider its iss, Audience the client
	// id it was issued for.
	Subject, Provider, Audience string
}

// AWS's messages for web identity failures.
const (
	msgTokenInvalid = "The web identity token that was passed could not be validated by Amazon Web Services. Get a new identity token from the identity provider and then retry the request."
	msgTokenExpired = "The web identity token that was passed is expired or is not valid. Get a new identity token from the identity provider and then retry the request."
	msgNoKey        = "Couldn’t retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgIDPDown      = "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. This is often a transient error caused by network conditions. Retry the request a limited number of times and wait between attempts to be sure that the request is valid."
)

// gitHubIssuer's tokens carry claims STS exposes as condition keys.
const gitHubIssuer = "token.actions.githubusercontent.com"

// gitHubKeys are the GitHub claims usable in trust policies as
// token.actions.githubusercontent.com:<claim>.
var gitHubKeys = []string{"actor", "actor_id", "job_workflow_ref", "repository", "repository_id", "workflow", "ref", "environment", "enterprise_id", "repository_owner", "repository_owner_id"}

// AssumeRoleWithWebIdentity exchanges an OIDC ID token for a session of
// the role: the token must come from an OIDC provider registered in the
// role's account, be signed by the issuer's published key, be current and
// be issued to one of the provider's client ids; the role's trust policy
// must allow sts:AssumeRoleWithWebIdentity to the provider with the
// token's claims as condition keys. No AWS credentials are involved.
func (r *Roles) AssumeRoleWithWebIdentity(ctx context.Context, in WebIdentityInput, hr *http.Request) (WebIdentityOutput, error) {
	const op = "AssumeRoleWithWebIdentity"
	var out WebIdentityOutput
	if in.ProviderId != "" {
		return out, errorf(op, Invalid, "ProviderId is for OAuth 2.0 access tokens, which berth does not accept; omit it for OpenID Connect ID tokens.")
	}
	account, res, ok := ParseARN(in.RoleArn)
	if !ok || !strings.HasPrefix(res, "role/") {
		return out, errorf(op, Invalid, "%s is invalid", in.RoleArn)
	}
	iss, err := oidc.Issuer(in.WebIdentityToken)
	if err != nil {
		return out, tokenErr(op, err)
	}
	if !strings.HasPrefix(iss, "https://") {
		return out, errorf(op, InvalidToken, "%s", msgTokenInvalid)
	}
	prov, err := r.Service.Store.GetOIDCProvider(ctx, ProviderARN(account, iss))
	if metadata.Is(err, metadata.NotFound) {
		return out, errorf(op, InvalidToken, "No OpenIDConnect provider found in your account for %s", iss)
	} else if err != nil {
		return out, internal(op, err)
	}
	if r.OIDC == nil {
		return out, internal(op, errors.New("iam: Roles has no OIDC verifier"))
	}
	claims, err := r.OIDC.Verify(ctx, in.WebIdentityToken, iss)
	if err != nil {
		return out, tokenErr(op, err)
	}
	if len(claims.Audience) == 0 {
		return out, errorf(op, InvalidToken, "Missing a required claim: aud")
	}
	aud := ""
	for _, a := range claims.Audience {
		if slices.Contains(prov.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return out, errorf(op, InvalidToken, "Incorrect token audience")
	}
	if n := len(claims.Subject); n < 6 || n > 255 {
		return out, errorf(op, InvalidToken, "%s", msgTokenInvalid)
	}
	tags, err := tokenTags(op, claims.All)
	if err != nil {
		return out, err
	}
	packed, err := checkSessionPolicies(op, in.Policy, in.PolicyArns, sessionTagList(tags.tags))
	if err != nil {
		return out, err
	}
	role, err := r.Service.Store.GetPrincipal(ctx, in.RoleArn)
	notFound := metadata.Is(err, metadata.NotFound) || (err == nil && role.Kind != metadata.KindRole)
	if err != nil && !notFound {
		return out, internal(op, err)
	}
	caller := auth.Principal{Type: auth.TypeWebIdentity, ARN: prov.ARN, Account: prov.Account, UserID: claims.Subject}
	c := Check{
		Principal: caller, Action: "sts:AssumeRoleWithWebIdentity", Resource: in.RoleArn, Registry: account, HTTP: hr,
		Trust: role.TrustPolicy, Source: "sts.amazonaws.com", Event: op, Brief: true, Keys: webIdentityKeys(prov.URL, aud, claims),
		RequestTags: tags.request,
	}
	if len(tags.transitive) > 0 {
		c.KeyLists = map[string][]string{"sts:TransitiveTagKeys": tags.transitive}
	}
	if notFound || role.TrustPolicy == "" {
		c.Trust = denyTrust
	}
	d, _, err := r.Authz.Authorize(ctx, c)
	if err != nil {
		return out, err
	}
	if !d.Allowed() || notFound || role.TrustPolicy == "" {
		return out, &Error{Op: op, Kind: Denied, Message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"}
	}
	// Tags in the token need sts:TagSession in the trust policy too.
	if len(tags.tags) > 0 {
		c.Action, c.Event = "sts:TagSession", "TagSession"
		if d, _, err := r.Authz.Authorize(ctx, c); err != nil {
			return out, err
		} else if !d.Allowed() {
			return out, &Error{Op: op, Kind: Denied, Message: "Not authorized to perform sts:TagSession"}
		}
	}
	dur := AssumeRoleInput{DurationSeconds: in.DurationSeconds}.Duration()
	if max := time.Duration(role.MaxSessionSeconds) * time.Second; max > 0 && dur > max {
		return out, errorf(op, Invalid, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	s, err := r.Service.newSession(ctx, metadata.Session{RoleARN: role.ARN, SessionName: in.RoleSessionName, Account: role.Account,
		SourceARN: prov.ARN, Tags: tags.tags, TransitiveTagKeys: tags.transitive, Policy: in.Policy, PolicyArns: in.PolicyArns}, role, dur)
	if err != nil {
		return out, err
	}
	s.PackedPolicySize = packed
	return WebIdentityOutput{AssumeRoleOutput: s, Subject: claims.Subject, Provider: iss, Audience: aud}, nil
}

// webIdentityKeys are the condition keys of a web identity: <url>:aud,
// <url>:sub, <url>:azp and <url>:amr when present, and GitHub's claims
// for GitHub's issuer.
func webIdentityKeys(url, aud string, c oidc.Claims) map[string]string {
	keys := map[string]string{url + ":aud": aud, url + ":sub": c.Subject}
	if v, ok := c.StringClaim("azp"); ok {
		keys[url+":azp"] = v
	}
	if v, ok := c.StringClaim("amr"); ok {
		keys[url+":amr"] = v
	}
	if url == gitHubIssuer {
		for _, k := range gitHubKeys {
			if v, ok := c.StringClaim(k); ok {
				keys[url+":"+k] = v
			}
		}
	}
	return keys
}

// tokenErr words a verification failure as STS does.
func tokenErr(op string, err error) error {
	var oe *oidc.Error
	if !errors.As(err, &oe) {
		return internal(op, err)
	}
	switch oe.Kind {
	case oidc.Expired:
		return &Error{Op: op, Kind: ExpiredToken, Message: msgTokenExpired, Err: err}
	case oidc.NoKey:
		return &Error{Op: op, Kind: InvalidToken, Message: msgNoKey, Err: err}
	case oidc.Unreachable:
		return &Error{Op: op, Kind: IDPUnreachable, Message: msgIDPDown, Err: err}
	}
	return &Error{Op: op, Kind: InvalidToken, Message: msgTokenInvalid, Err: err}
}
