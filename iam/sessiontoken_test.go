package iam

import (
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
)

func TestGetSessionToken(t *testing.T) {
	e := newEnv(t)
	alice := e.user(acctA, "alice", nil, "AmazonEC2ContainerRegistryReadOnly")
	out, err := e.roles.GetSessionToken(e.ctx, alice, 900)
	e.must(err)
	if out.Expiration.Sub(e.clk.Now()) > 901*time.Second || out.AssumedRoleARN != "" {
		t.Fatalf("output %v", out)
	}
	cred, err := e.keys.Lookup(e.ctx, out.AccessKeyID)
	e.must(err)
	p := cred.Principal
	if p.Kind() != auth.TypeUser || p.ARN != alice.ARN || p.Username != "alice" || !IsSessionToken(p) || cred.SessionToken != out.SessionToken {
		t.Fatalf("session principal %+v", p)
	}
	// The session has the user's permissions.
	d, _, err := e.authz.Authorize(e.ctx, Check{Principal: p, Action: "ecr:BatchGetImage", Resource: "*"})
	if err != nil || !d.Allowed() {
		t.Fatalf("session may not pull: %v %v", d, err)
	}
	// Its credentials cannot make another; nor can a role session.
	if _, err := e.roles.GetSessionToken(e.ctx, p, 0); KindOf(err) != Denied {
		t.Fatalf("from a session token: %v", err)
	}
	r := e.role(acctA, "r", "", nil)
	if _, err := e.roles.GetSessionToken(e.ctx, session(r, "s"), 0); KindOf(err) != Denied {
		t.Fatalf("from a role session: %v", err)
	}
	// Deleting the user ends it.
	e.must(e.svc.DeletePrincipal(e.ctx, alice.ARN))
	if c, err := (&auth.KeyLookup{Store: e.st, Keyring: e.kr, Now: e.clk.Now}).Lookup(e.ctx, out.AccessKeyID); err == nil {
		t.Fatalf("after the user's deletion: %+v", c)
	}
}
