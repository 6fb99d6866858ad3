package iam

import (
	"strings"
	"testing"
)

// A session policy narrows PowerUser to pulls: pushes are denied with
// AWS's session-policy message, pulls allowed; a managed session policy
// (PolicyArns) does the same; nothing widens the role.
func TestSessionPolicies(t *testing.T) {
	e := newEnv(t)
	alice := e.user(acctA, "alice", nil)
	r := e.role(acctA, "ci", trustDoc(aws(alice.ARN), assume, ""), nil, "AmazonEC2ContainerRegistryPowerUser")
	pullOnly := doc(`{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:GetAuthorizationToken","ecr:DeleteRepository"],"Resource":"*"}`)
	repo := "arn:aws:ecr:" + region + ":" + acctA + ":repository/app"

	for _, tc := range []struct {
		name string
		in   AssumeRoleInput
	}{
		{"inline", AssumeRoleInput{RoleArn: r.ARN, RoleSessionName: "s1", Policy: pullOnly}},
		{"managed", AssumeRoleInput{RoleArn: r.ARN, RoleSessionName: "s2", PolicyArns: []string{"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, sess := e.assume(alice, tc.in)
			if out.PackedPolicySize <= 0 || out.PackedPolicySize > 100 {
				t.Errorf("PackedPolicySize %d", out.PackedPolicySize)
			}
			d, _, err := e.authz.Authorize(e.ctx, Check{Principal: sess, Action: "ecr:BatchGetImage", Resource: repo, Repository: "app"})
			if err != nil || !d.Allowed() {
				t.Fatalf("pull: %v %v", d, err)
			}
			c := Check{Principal: sess, Action: "ecr:PutImage", Resource: repo, Repository: "app"}
			d, req, err := e.authz.Authorize(e.ctx, c)
			if err != nil || d.Allowed() {
				t.Fatalf("push allowed: %v %v", d, err)
			}
			want := "User: " + sess.ARN + " is not authorized to perform: ecr:PutImage on resource: " + repo + " because no session policy allows the ecr:PutImage action"
			if got := DenialMessage(c, d, req); got != want {
				t.Errorf("push denial:\n got  %s\n want %s", got, want)
			}
			// The session policy cannot widen the role: PowerUser has no
			// DeleteRepository.
			d, _, _ = e.authz.Authorize(e.ctx, Check{Principal: sess, Action: "ecr:DeleteRepository", Resource: repo, Repository: "app"})
			if d.Allowed() {
				t.Fatal("session policy widened the role")
			}
		})
	}
	// A session without session policies keeps the role's permissions.
	_, plain := e.assume(alice, AssumeRoleInput{RoleArn: r.ARN, RoleSessionName: "s3"})
	if d, _, _ := e.authz.Authorize(e.ctx, Check{Principal: plain, Action: "ecr:PutImage", Resource: repo, Repository: "app"}); !d.Allowed() {
		t.Fatal("plain session may not push")
	}
	// Malformed and oversized session policies.
	if _, err := e.roles.AssumeRole(e.ctx, alice, AssumeRoleInput{RoleArn: r.ARN, RoleSessionName: "s", Policy: `{"Statement":"x"}`}, nil); KindOf(err) != Malformed {
		t.Fatalf("malformed: %v", err)
	}
	big := doc(`{"Effect":"Allow","Action":"ecr:` + strings.Repeat("A", 2100) + `","Resource":"*"}`)
	if _, err := e.roles.AssumeRole(e.ctx, alice, AssumeRoleInput{RoleArn: r.ARN, RoleSessionName: "s", Policy: big}, nil); KindOf(err) != Limit {
		t.Fatalf("too large: %v", err)
	}
}
