package iam

import (
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/oidc"
	"github.com/berth-registry/berth/auth/oidc/oidctest"
	"github.com/golang-jwt/jwt/v5"
)

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	e := newEnv(t)
	is := oidctest.New(t, "/gh")
	e.roles.OIDC = &oidc.Verifier{Client: is.Server.Client()}
	prov, err := e.svc.CreateOpenIDConnectProvider(e.ctx, acctA, is.URL, []string{"sts.amazonaws.com"}, []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}, nil)
	e.must(err)
	if prov.ARN != "arn:aws:iam::"+acctA+":oidc-provider/"+is.Host() {
		t.Fatalf("provider ARN %s", prov.ARN)
	}
	if _, err := e.svc.CreateOpenIDConnectProvider(e.ctx, acctA, is.URL+"/", nil, nil, nil); KindOf(err) != Exists {
		t.Fatalf("duplicate provider: %v", err)
	}
	trust := trustDoc(`{"Federated":"`+prov.ARN+`"}`, `"sts:AssumeRoleWithWebIdentity"`,
		`{"StringEquals":{"`+is.Host()+`:aud":"sts.amazonaws.com"},"StringLike":{"`+is.Host()+`:sub":"repo:org/app:*"}}`)
	role := e.role(acctA, "ci", trust, nil, "AmazonEC2ContainerRegistryPowerUser")
	in := func(tok string) WebIdentityInput {
		return WebIdentityInput{RoleArn: role.ARN, RoleSessionName: "gha", WebIdentityToken: tok}
	}

	out, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, in(is.Mint(t, is.GitHubClaims("org/app"))), nil)
	e.must(err)
	if out.AssumedRoleARN != auth.SessionARN(acctA, "ci", "gha") || out.Subject != "repo:org/app:ref:refs/heads/main" ||
		out.Provider != is.URL || out.Audience != "sts.amazonaws.com" || out.AssumedRoleID != role.ID+":gha" {
		t.Fatalf("output %+v", out)
	}
	// The session is a normal one: KeyLookup knows it, revocation ends it.
	cred, err := e.keys.Lookup(e.ctx, out.AccessKeyID)
	e.must(err)
	if cred.Principal.ARN != out.AssumedRoleARN || cred.Principal.RoleARN != role.ARN {
		t.Fatalf("session principal %+v", cred.Principal)
	}
	if n, err := e.svc.RevokeSessions(e.ctx, role.ARN); err != nil || n != 1 {
		t.Fatalf("RevokeSessions = %d, %v", n, err)
	}

	claims := func(edit func(jwt.MapClaims)) string {
		c := is.GitHubClaims("org/app")
		edit(c)
		return is.Mint(t, c)
	}
	other := oidctest.New(t, "")
	for _, tc := range []struct {
		name  string
		token string
		kind  Kind
		msg   string
	}{
		{"wrong aud", claims(func(c jwt.MapClaims) { c["aud"] = "other" }), InvalidToken, "Incorrect token audience"},
		{"no aud", claims(func(c jwt.MapClaims) { delete(c, "aud") }), InvalidToken, "Missing a required claim: aud"},
		{"other sub", claims(func(c jwt.MapClaims) { c["sub"] = "repo:evil/app:ref:refs/heads/main" }), Denied, "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"expired", claims(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), ExpiredToken, msgTokenExpired},
		{"unknown kid", is.MintWith(t, is.GitHubClaims("org/app"), "nope", is.Key), InvalidToken, msgNoKey},
		{"unknown issuer", other.Mint(t, other.GitHubClaims("org/app")), InvalidToken, "No OpenIDConnect provider found in your account for " + other.URL},
		{"http issuer", claims(func(c jwt.MapClaims) { c["iss"] = "http://x" }), InvalidToken, msgTokenInvalid},
		{"tampered", is.Mint(t, is.GitHubClaims("org/app"))[:60] + "x" + is.Mint(t, is.GitHubClaims("org/app"))[61:], InvalidToken, msgTokenInvalid},
		{"signed by another key", is.MintWith(t, is.GitHubClaims("org/app"), is.KID, other.Key), InvalidToken, msgTokenInvalid},
		{"not a JWT", "abcd", InvalidToken, msgTokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, in(tc.token), nil)
			ie, _ := err.(*Error)
			if ie == nil || ie.Kind != tc.kind || ie.Message != tc.msg {
				t.Fatalf("err = %v, want kind %s %q", err, tc.kind.Code(), tc.msg)
			}
		})
	}
	// A role without a Federated trust is refused like a missing one.
	plain := e.role(acctA, "plain", "", nil)
	if _, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, WebIdentityInput{RoleArn: plain.ARN, RoleSessionName: "s",
		WebIdentityToken: is.Mint(t, is.GitHubClaims("org/app"))}, nil); KindOf(err) != Denied {
		t.Fatalf("plain role: %v", err)
	}
	// The provider of another account does not count.
	if _, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, WebIdentityInput{RoleArn: RoleARN(acctB, "/", "ci"), RoleSessionName: "s",
		WebIdentityToken: is.Mint(t, is.GitHubClaims("org/app"))}, nil); KindOf(err) != InvalidToken {
		t.Fatalf("other account: %v", err)
	}
	// Deleting the provider ends new exchanges.
	e.must(e.svc.DeleteOpenIDConnectProvider(e.ctx, prov.ARN))
	if _, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, in(is.Mint(t, is.GitHubClaims("org/app"))), nil); KindOf(err) != InvalidToken {
		t.Fatalf("deleted provider: %v", err)
	}
}

func TestWebIdentityGitHubKeys(t *testing.T) {
	c := oidc.Claims{Subject: "repo:o/r:environment:prod", All: map[string]any{"repository": "o/r", "environment": "prod", "azp": "x"}}
	k := webIdentityKeys(gitHubIssuer, "sts.amazonaws.com", c)
	if k[gitHubIssuer+":repository"] != "o/r" || k[gitHubIssuer+":environment"] != "prod" || k[gitHubIssuer+":azp"] != "x" ||
		k[gitHubIssuer+":aud"] != "sts.amazonaws.com" {
		t.Fatalf("keys %v", k)
	}
	if k := webIdentityKeys("other.example", "a", c); len(k) != 3 {
		t.Fatalf("non-GitHub keys %v", k)
	}
}

func TestApplyOIDCProviders(t *testing.T) {
	e := newEnv(t)
	f := &File{Accounts: []FileAccount{{ID: acctA, OIDCProviders: []FileOIDCProvider{{URL: "https://token.actions.githubusercontent.com", ClientIDs: []string{"sts.amazonaws.com"}}}}}}
	res, err := e.svc.Apply(e.ctx, f)
	e.must(err)
	if res.Created != 1 {
		t.Fatalf("first apply %+v", res)
	}
	if res, _ := e.svc.Apply(e.ctx, f); res.Created != 0 || res.Updated != 0 {
		t.Fatalf("second apply %+v", res)
	}
	f.Accounts[0].OIDCProviders[0].ClientIDs = []string{"a", "b"}
	if res, _ := e.svc.Apply(e.ctx, f); res.Updated != 1 {
		t.Fatalf("third apply %+v", res)
	}
	p, err := e.svc.OpenIDConnectProvider(e.ctx, "arn:aws:iam::"+acctA+":oidc-provider/token.actions.githubusercontent.com")
	e.must(err)
	if len(p.ClientIDs) != 2 {
		t.Fatalf("provider %+v", p)
	}
}
