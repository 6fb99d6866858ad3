package pullthrough_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// TestCustomRoleValidation: a rule's customRoleArn is checked as ECR
// documents it — an IAM role of the registry's own account ("This role
// must be in the same account as the registry that you are
// configuring."), here also one that exists — and only an ECR upstream
// takes one, on create and on update. An ECR-shaped upstream URL is
// upstreamRegistry ecr.
func TestCustomRoleValidation(t *testing.T) {
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := &iam.Service{Store: st}
	if _, err := svc.EnsureAccount(ctx, reg, "cache"); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + pullthrough.ServicePrincipal + `"},"Action":"sts:AssumeRole"}]}`
	role, err := svc.CreateRole(ctx, reg, "ptc", "/", trust, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	user, err := svc.CreateUser(ctx, reg, "alice", "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := &pullthrough.Rules{Store: st, Region: "us-east-1", RoleCheck: pullthrough.StoreRoles{Store: st}}
	const upstream = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
	const samePrefix = "Invalid parameter at 'customRoleArn' failed to satisfy constraint: "
	for _, c := range []struct {
		name, url, role, msg string
	}{
		{"another account's role", upstream, "arn:aws:iam::111122223333:role/ptc",
			samePrefix + "'This role must be in the same account as the registry that you are configuring.'"},
		{"not a role", upstream, user.ARN, samePrefix + "'must be the ARN of an IAM role'"},
		{"not an ARN", upstream, "ptc", samePrefix + "'must be the ARN of an IAM role'"},
		{"too long", upstream, "arn:aws:iam::" + reg + ":role/" + strings.Repeat("r", 2048), samePrefix + "'must have length less than or equal to 2048'"},
		{"missing role", upstream, "arn:aws:iam::" + reg + ":role/none", samePrefix + "'The role arn:aws:iam::" + reg + ":role/none does not exist'"},
		{"not an ECR upstream", "quay.io", role.ARN, samePrefix + "'customRoleArn can only be set for an ecr upstream registry (<account>.dkr.ecr.<region>.<domain>)'"},
	} {
		_, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("up"), UpstreamRegistryURL: s(c.url), CustomRoleArn: s(c.role)})
		var e *pullthrough.Error
		if !asErr(err, &e) || e.Type != "InvalidParameterException" || e.Message != c.msg {
			t.Errorf("%s: %v, want InvalidParameterException %q", c.name, err, c.msg)
		}
	}
	r, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("up"), UpstreamRegistryURL: s(upstream), CustomRoleArn: s(role.ARN)})
	if err != nil || r.UpstreamRegistry != "ecr" || r.CustomRoleArn != role.ARN {
		t.Fatalf("create with the registry's role: %+v %v", r, err)
	}
	// Update checks the same; a quay rule takes no role.
	if _, err := rs.Update(ctx, reg, pullthrough.UpdateInput{EcrRepositoryPrefix: s("up"), CustomRoleArn: s("arn:aws:iam::111122223333:role/ptc")}); !pullthrough.IsError(err, "InvalidParameterException") {
		t.Errorf("update to another account's role: %v", err)
	}
	// "" takes the role off; the role goes back on.
	if r, err := rs.Update(ctx, reg, pullthrough.UpdateInput{EcrRepositoryPrefix: s("up"), CustomRoleArn: s("")}); err != nil || r.CustomRoleArn != "" {
		t.Errorf("update taking the role off: %+v %v", r, err)
	}
	if r, err := rs.Update(ctx, reg, pullthrough.UpdateInput{EcrRepositoryPrefix: s("up"), CustomRoleArn: s(role.ARN)}); err != nil || r.CustomRoleArn != role.ARN {
		t.Errorf("update putting the role back: %+v %v", r, err)
	}
	if _, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("quay"), UpstreamRegistryURL: s("quay.io")}); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Update(ctx, reg, pullthrough.UpdateInput{EcrRepositoryPrefix: s("quay"), CustomRoleArn: s(role.ARN)}); !pullthrough.IsError(err, "InvalidParameterException") {
		t.Errorf("update of a quay rule with a role: %v", err)
	}
	if got, err := rs.Get(ctx, reg, s("quay")); err != nil || got.CustomRoleArn != "" {
		t.Errorf("quay rule after the refused update: %+v %v", got, err)
	}
}

// TestECRUpstreamWithoutRole: an ECR upstream without customRoleArn (ECR
// would use its service-linked role, which berth has not) is not valid,
// and ValidatePullThroughCacheRule says what to do, without reaching the
// upstream.
func TestECRUpstreamWithoutRole(t *testing.T) {
	rs := rules(t)
	rs.Upstreams = &pullthrough.Upstreams{}
	ctx := context.Background()
	if _, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("up"), UpstreamRegistryURL: s("111122223333.dkr.ecr.us-east-1.amazonaws.com")}); err != nil {
		t.Fatal(err)
	}
	v, err := rs.Validate(ctx, reg, s("up"))
	if err != nil || v.IsValid || !strings.Contains(v.Failure, "has no customRoleArn") || !strings.Contains(v.Failure, pullthrough.ServicePrincipal) {
		t.Fatalf("validate: %+v %v", v, err)
	}
}
