package iam

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// countingStore counts PrincipalUsed writes.
type countingStore struct {
	metadata.Store
	writes atomic.Int64
}

func (s *countingStore) PrincipalUsed(ctx context.Context, arn string, at time.Time, region string) error {
	s.writes.Add(1)
	return s.Store.PrincipalUsed(ctx, arn, at, region)
}

// A role's last use is its newest session or request, written at most
// once a minute however busy the role is.
func TestRoleLastUsed(t *testing.T) {
	e := newEnv(t)
	cs := &countingStore{Store: e.st}
	lu := &LastUsed{Store: cs, Region: "eu-central-1", Now: e.clk.Now}
	e.svc.LastUsed, e.authz.LastUsed = lu, lu
	lastUsed := func(arn string) (time.Time, string) {
		t.Helper()
		p, err := e.st.GetPrincipal(e.ctx, arn)
		e.must(err)
		return p.LastUsed, p.LastUsedRegion
	}
	u := e.user(acctA, "alice", nil, "AmazonEC2ContainerRegistryReadOnly")
	r := e.role(acctA, "builder", trustDoc(aws(u.ARN), assume, ""), nil, "AmazonEC2ContainerRegistryReadOnly")
	if at, region := lastUsed(r.ARN); !at.IsZero() || region != "" {
		t.Fatalf("never used role: %v %q", at, region)
	}
	// A user's own requests use no role.
	c := Check{Principal: u, Action: "ecr:DescribeRepositories", Resource: "*"}
	e.allowed(c)
	if n := cs.writes.Load(); n != 0 {
		t.Fatalf("a user's request wrote %d last uses", n)
	}

	start := e.clk.Now()
	_, sess := e.assume(u, stsIn(r.ARN, "s1", nil))
	if at, region := lastUsed(r.ARN); !at.Equal(start) || region != "eu-central-1" {
		t.Fatalf("after AssumeRole: %v %q, want %v eu-central-1", at, region, start)
	}
	c.Principal = sess
	for range 100 {
		e.clk.Advance(500 * time.Millisecond)
		if !e.allowed(c) {
			t.Fatal("session denied")
		}
	}
	if n := cs.writes.Load(); n != 1 {
		t.Fatalf("100 requests within 50 s: %d writes, want 1", n)
	}
	e.clk.Advance(11 * time.Second)
	e.allowed(c)
	if n := cs.writes.Load(); n != 2 {
		t.Fatalf("a request a minute on: %d writes, want 2", n)
	}
	if at, _ := lastUsed(r.ARN); !at.Equal(e.clk.Now()) {
		t.Fatalf("after a request a minute on: %v, want %v", at, e.clk.Now())
	}
	// A deleted role's sessions record nothing and fail nothing.
	lu.Record(e.ctx, RoleARN(acctA, "/", "gone"))
}
