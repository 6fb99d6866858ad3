package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestIAMQueryAPI drives the IAM Query API with the real `aws iam` CLI:
// roles with trust and inline/managed policies, users and access keys,
// OIDC providers, tags, paging, the errors IAM sends, and the iam:*
// authorization of a user who may only read.
func TestIAMQueryAPI(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	a := newAWSCLI(t, newCLI(t, b.CACert), b)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringLike":{"aws:userid":"a+b %"}}}]}`

	var role struct {
		Role struct {
			RoleName, Arn, RoleId, Path, Description string
			MaxSessionDuration                       int
			AssumeRolePolicyDocument                 map[string]any
			Tags                                     []struct{ Key, Value string }
		}
	}
	a.ok(&role, "iam", "create-role", "--role-name", "builder", "--path", "/ci/", "--assume-role-policy-document", trust,
		"--description", "CI builds", "--max-session-duration", "7200", "--tags", "Key=team,Value=infra")
	r := role.Role
	if r.Arn != "arn:aws:iam::"+account+":role/ci/builder" || !strings.HasPrefix(r.RoleId, "AROA") || r.Path != "/ci/" ||
		r.MaxSessionDuration != 7200 || r.Description != "CI builds" || len(r.Tags) != 1 || r.AssumeRolePolicyDocument["Version"] != "2012-10-17" {
		t.Fatalf("create-role: %+v", r)
	}
	a.fails("EntityAlreadyExists", "iam", "create-role", "--role-name", "builder", "--assume-role-policy-document", trust)
	a.fails("MalformedPolicyDocument", "iam", "create-role", "--role-name", "bad", "--assume-role-policy-document", `{"Statement":"x"}`)
	a.ok(&role, "iam", "get-role", "--role-name", "builder")
	if role.Role.Arn != r.Arn {
		t.Fatalf("get-role: %+v", role.Role)
	}
	res := a.fails("NoSuchEntity", "iam", "get-role", "--role-name", "nope")
	if got := scAWSMessage(res.stderr); got != "The role with name nope cannot be found." {
		t.Errorf("get-role nope: %q", got)
	}
	testRoleLastUsedAndMaxSession(t, a)
	a.ok(nil, "iam", "update-assume-role-policy", "--role-name", "builder", "--policy-document", strings.Replace(trust, "codebuild", "ecs-tasks", 1))
	a.ok(&role, "iam", "get-role", "--role-name", "builder")
	if !strings.Contains(mustString(t, role.Role.AssumeRolePolicyDocument), "ecs-tasks.amazonaws.com") {
		t.Errorf("update-assume-role-policy not applied: %v", role.Role.AssumeRolePolicyDocument)
	}

	// Inline policies come back decoded exactly ('+', ' ', '%').
	a.ok(nil, "iam", "put-role-policy", "--role-name", "builder", "--policy-name", "pull", "--policy-document", pol)
	var got struct {
		RoleName, PolicyName string
		PolicyDocument       map[string]any
	}
	a.ok(&got, "iam", "get-role-policy", "--role-name", "builder", "--policy-name", "pull")
	if !strings.Contains(mustString(t, got.PolicyDocument), `"a+b %"`) {
		t.Errorf("get-role-policy: %+v", got)
	}
	var names struct{ PolicyNames []string }
	a.ok(&names, "iam", "list-role-policies", "--role-name", "builder")
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "pull" {
		t.Errorf("list-role-policies: %+v", names)
	}
	power := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	a.ok(nil, "iam", "attach-role-policy", "--role-name", "builder", "--policy-arn", power)
	var att struct {
		AttachedPolicies []struct{ PolicyName, PolicyArn string }
	}
	a.ok(&att, "iam", "list-attached-role-policies", "--role-name", "builder")
	if len(att.AttachedPolicies) != 1 || att.AttachedPolicies[0].PolicyName != "AmazonEC2ContainerRegistryPowerUser" {
		t.Errorf("list-attached-role-policies: %+v", att)
	}
	a.fails("DeleteConflict", "iam", "delete-role", "--role-name", "builder")
	a.ok(nil, "iam", "detach-role-policy", "--role-name", "builder", "--policy-arn", power)
	a.fails("DeleteConflict", "iam", "delete-role", "--role-name", "builder")
	a.ok(nil, "iam", "delete-role-policy", "--role-name", "builder", "--policy-name", "pull")
	a.fails("NoSuchEntity", "iam", "delete-role-policy", "--role-name", "builder", "--policy-name", "pull")
	a.ok(nil, "iam", "tag-role", "--role-name", "builder", "--tags", "Key=env,Value=prod")
	var tags struct{ Tags []struct{ Key, Value string } }
	a.ok(&tags, "iam", "list-role-tags", "--role-name", "builder")
	if len(tags.Tags) != 2 {
		t.Errorf("list-role-tags: %+v", tags)
	}

	// What Terraform's updates call: the description and the permissions
	// boundary, which GetRole then shows.
	var rd struct {
		Role struct {
			Description         string
			PermissionsBoundary *struct{ PermissionsBoundaryType, PermissionsBoundaryArn string }
		}
	}
	a.ok(&rd, "iam", "update-role-description", "--role-name", "builder", "--description", "CI builds and pushes")
	if rd.Role.Description != "CI builds and pushes" {
		t.Errorf("update-role-description: %+v", rd)
	}
	readOnly := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	a.ok(nil, "iam", "put-role-permissions-boundary", "--role-name", "builder", "--permissions-boundary", readOnly)
	a.ok(&rd, "iam", "get-role", "--role-name", "builder")
	if pb := rd.Role.PermissionsBoundary; pb == nil || pb.PermissionsBoundaryType != "PermissionsBoundaryPolicy" || pb.PermissionsBoundaryArn != readOnly {
		t.Errorf("get-role after put-role-permissions-boundary: %+v", rd.Role)
	}
	res = a.fails("NoSuchEntity", "iam", "put-role-permissions-boundary", "--role-name", "builder", "--permissions-boundary",
		"arn:aws:iam::"+account+":policy/nope")
	if got := scAWSMessage(res.stderr); got != "Policy arn:aws:iam::"+account+":policy/nope does not exist or is not attachable." {
		t.Errorf("put-role-permissions-boundary nope: %q", got)
	}
	a.ok(nil, "iam", "delete-role-permissions-boundary", "--role-name", "builder")
	rd.Role.PermissionsBoundary = nil
	a.ok(&rd, "iam", "get-role", "--role-name", "builder")
	if rd.Role.PermissionsBoundary != nil || rd.Role.Description != "CI builds and pushes" {
		t.Errorf("get-role after delete-role-permissions-boundary: %+v", rd.Role)
	}
	// berth iam sets the same boundary.
	b.IAM("set-boundary", "--role", "builder", "--policy", "AmazonEC2ContainerRegistryReadOnly")
	a.ok(&rd, "iam", "get-role", "--role-name", "builder")
	if pb := rd.Role.PermissionsBoundary; pb == nil || pb.PermissionsBoundaryArn != readOnly {
		t.Errorf("get-role after berth iam set-boundary: %+v", rd.Role)
	}
	b.IAM("set-boundary", "--role", "builder")

	// Paging: three roles, two per page; the CLI follows markers itself.
	for _, n := range []string{"r1", "r2"} {
		a.ok(nil, "iam", "create-role", "--role-name", n, "--assume-role-policy-document", trust)
	}
	var roles struct {
		Roles       []struct{ RoleName string }
		IsTruncated bool
		Marker      string
	}
	a.ok(&roles, "iam", "list-roles", "--max-items", "2")
	if len(roles.Roles) != 2 {
		t.Errorf("list-roles --max-items 2: %+v", roles)
	}
	a.ok(&roles, "iam", "list-roles", "--page-size", "1")
	if len(roles.Roles) != 3 {
		t.Errorf("list-roles --page-size 1: %+v", roles)
	}
	a.ok(nil, "iam", "delete-role", "--role-name", "r2")
	a.fails("NoSuchEntity", "iam", "delete-role", "--role-name", "r2")

	// Users and access keys.
	var user struct {
		User struct{ UserName, Arn, UserId string }
	}
	a.ok(&user, "iam", "create-user", "--user-name", "reader")
	if user.User.Arn != "arn:aws:iam::"+account+":user/reader" || !strings.HasPrefix(user.User.UserId, "AIDA") {
		t.Fatalf("create-user: %+v", user)
	}
	a.ok(nil, "iam", "put-user-policy", "--user-name", "reader", "--policy-name", "ro", "--policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`)
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey, Status, UserName string }
	}
	a.ok(&key, "iam", "create-access-key", "--user-name", "reader")
	if !strings.HasPrefix(key.AccessKey.AccessKeyId, "AKIA") || key.AccessKey.SecretAccessKey == "" || key.AccessKey.Status != "Active" {
		t.Fatalf("create-access-key: %+v", key)
	}
	var keys struct {
		AccessKeyMetadata []struct{ AccessKeyId string }
	}
	a.ok(&keys, "iam", "list-access-keys", "--user-name", "reader")
	if len(keys.AccessKeyMetadata) != 1 {
		t.Errorf("list-access-keys: %+v", keys)
	}

	// The reader's own credentials: reads allowed, writes denied as IAM words it.
	rc := a.with(t)
	c := *rc.c
	c.env = append(append([]string(nil), c.env...), "AWS_ACCESS_KEY_ID="+key.AccessKey.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY="+key.AccessKey.SecretAccessKey)
	rc.c = &c
	scEventually(t, "the reader's key works", 15e9, func() error {
		if res := rc.run("iam", "get-user"); res.code != 0 {
			return &scErr{res.stderr}
		}
		return nil
	})
	rc.ok(nil, "iam", "list-roles")
	res = rc.fails("AccessDenied", "iam", "create-role", "--role-name", "evil", "--assume-role-policy-document", trust)
	if got := scAWSMessage(res.stderr); !strings.HasPrefix(got, "User: arn:aws:iam::"+account+":user/reader is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::"+account+":role/evil") {
		t.Errorf("create-role as reader: %q", got)
	}

	// OIDC providers.
	var prov struct{ OpenIDConnectProviderArn string }
	a.ok(&prov, "iam", "create-open-id-connect-provider", "--url", "https://token.actions.githubusercontent.com",
		"--client-id-list", "sts.amazonaws.com", "--thumbprint-list", "6938fd4d98bab03faadb97b34396831e3780aea1")
	if prov.OpenIDConnectProviderArn != "arn:aws:iam::"+account+":oidc-provider/token.actions.githubusercontent.com" {
		t.Fatalf("create-open-id-connect-provider: %+v", prov)
	}
	a.fails("EntityAlreadyExists", "iam", "create-open-id-connect-provider", "--url", "https://token.actions.githubusercontent.com")
	a.ok(nil, "iam", "add-client-id-to-open-id-connect-provider", "--open-id-connect-provider-arn", prov.OpenIDConnectProviderArn, "--client-id", "other")
	var gp struct {
		Url            string
		ClientIDList   []string
		ThumbprintList []string
	}
	a.ok(&gp, "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", prov.OpenIDConnectProviderArn)
	if gp.Url != "https://token.actions.githubusercontent.com" || len(gp.ClientIDList) != 2 || len(gp.ThumbprintList) != 1 {
		t.Errorf("get-open-id-connect-provider: %+v", gp)
	}
	var lp struct{ OpenIDConnectProviderList []struct{ Arn string } }
	a.ok(&lp, "iam", "list-open-id-connect-providers")
	if len(lp.OpenIDConnectProviderList) != 1 {
		t.Errorf("list-open-id-connect-providers: %+v", lp)
	}
	a.ok(nil, "iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", prov.OpenIDConnectProviderArn)
	a.fails("NoSuchEntity", "iam", "get-open-id-connect-provider", "--open-id-connect-provider-arn", prov.OpenIDConnectProviderArn)

	// Customer managed policies.
	var cp struct {
		Policy struct{ Arn, PolicyId, DefaultVersionId string }
	}
	a.ok(&cp, "iam", "create-policy", "--policy-name", "pull-team", "--policy-document", pol, "--description", "team pulls")
	if cp.Policy.Arn != "arn:aws:iam::"+account+":policy/pull-team" || !strings.HasPrefix(cp.Policy.PolicyId, "ANPA") || cp.Policy.DefaultVersionId != "v1" {
		t.Fatalf("create-policy: %+v", cp)
	}
	a.fails("EntityAlreadyExists", "iam", "create-policy", "--policy-name", "pull-team", "--policy-document", pol)
	a.ok(nil, "iam", "tag-policy", "--policy-arn", cp.Policy.Arn, "--tags", "Key=team,Value=infra", "Key=env,Value=prod")
	a.ok(nil, "iam", "untag-policy", "--policy-arn", cp.Policy.Arn, "--tag-keys", "team")
	a.ok(&tags, "iam", "list-policy-tags", "--policy-arn", cp.Policy.Arn)
	if len(tags.Tags) != 1 || tags.Tags[0].Key != "env" || tags.Tags[0].Value != "prod" {
		t.Errorf("list-policy-tags: %+v", tags)
	}
	var pv struct {
		PolicyVersion struct{ Document map[string]any }
	}
	a.ok(&pv, "iam", "get-policy-version", "--policy-arn", cp.Policy.Arn, "--version-id", "v1")
	if !strings.Contains(mustString(t, pv.PolicyVersion.Document), `"a+b %"`) {
		t.Errorf("get-policy-version: %+v", pv)
	}
	var lpol struct{ Policies []struct{ PolicyName string } }
	a.ok(&lpol, "iam", "list-policies", "--scope", "Local")
	if len(lpol.Policies) != 1 {
		t.Errorf("list-policies: %+v", lpol)
	}
	a.ok(nil, "iam", "attach-role-policy", "--role-name", "builder", "--policy-arn", cp.Policy.Arn)
	a.fails("DeleteConflict", "iam", "delete-policy", "--policy-arn", cp.Policy.Arn)
	a.ok(nil, "iam", "detach-role-policy", "--role-name", "builder", "--policy-arn", cp.Policy.Arn)
	a.ok(nil, "iam", "delete-policy", "--policy-arn", cp.Policy.Arn)
	a.fails("NoSuchEntity", "iam", "get-policy", "--policy-arn", cp.Policy.Arn)

	// berth iam sees what the API made, and the other way round.
	if out := b.IAM("list"); !strings.Contains(out, "role/ci/builder") || !strings.Contains(out, "user/reader") {
		t.Errorf("berth iam list:\n%s", out)
	}
	a.fails("DeleteConflict", "iam", "delete-user", "--user-name", "reader")

	// A user made with a permissions boundary, which GetUser shows.
	var bu struct {
		User struct {
			UserName            string
			PermissionsBoundary *struct{ PermissionsBoundaryType, PermissionsBoundaryArn string }
		}
	}
	a.ok(&bu, "iam", "create-user", "--user-name", "bounded", "--permissions-boundary", readOnly)
	if pb := bu.User.PermissionsBoundary; pb == nil || pb.PermissionsBoundaryArn != readOnly {
		t.Errorf("create-user --permissions-boundary: %+v", bu.User)
	}
	a.ok(nil, "iam", "delete-user-permissions-boundary", "--user-name", "bounded")
	a.ok(nil, "iam", "put-user-permissions-boundary", "--user-name", "bounded", "--permissions-boundary", readOnly)
	bu.User.PermissionsBoundary = nil
	a.ok(&bu, "iam", "get-user", "--user-name", "bounded")
	if pb := bu.User.PermissionsBoundary; pb == nil || pb.PermissionsBoundaryType != "PermissionsBoundaryPolicy" {
		t.Errorf("get-user after put-user-permissions-boundary: %+v", bu.User)
	}
	a.ok(nil, "iam", "delete-user", "--user-name", "bounded")

	// `terraform destroy` of aws_iam_role: instance profiles (none on
	// berth), managed policies detached, inline ones deleted, the role.
	a.ok(nil, "iam", "put-role-policy", "--role-name", "builder", "--policy-name", "pull", "--policy-document", pol)
	a.ok(nil, "iam", "attach-role-policy", "--role-name", "builder", "--policy-arn", power)
	var ips struct{ InstanceProfiles []any }
	a.ok(&ips, "iam", "list-instance-profiles-for-role", "--role-name", "builder")
	if ips.InstanceProfiles == nil || len(ips.InstanceProfiles) != 0 {
		t.Errorf("list-instance-profiles-for-role: %+v", ips)
	}
	res = a.fails("NoSuchEntity", "iam", "remove-role-from-instance-profile", "--role-name", "builder", "--instance-profile-name", "builder")
	if got := scAWSMessage(res.stderr); got != "Instance Profile builder cannot be found." {
		t.Errorf("remove-role-from-instance-profile: %q", got)
	}
	a.ok(&att, "iam", "list-attached-role-policies", "--role-name", "builder")
	for _, p := range att.AttachedPolicies {
		a.ok(nil, "iam", "detach-role-policy", "--role-name", "builder", "--policy-arn", p.PolicyArn)
	}
	a.ok(&names, "iam", "list-role-policies", "--role-name", "builder")
	for _, n := range names.PolicyNames {
		a.ok(nil, "iam", "delete-role-policy", "--role-name", "builder", "--policy-name", n)
	}
	a.ok(nil, "iam", "delete-role", "--role-name", "builder")
	a.fails("NoSuchEntity", "iam", "list-instance-profiles-for-role", "--role-name", "builder")

	// `terraform destroy` of aws_iam_user (force_destroy): groups (none),
	// access keys, inline policies, the user.
	var groups struct{ Groups []any }
	a.ok(&groups, "iam", "list-groups-for-user", "--user-name", "reader")
	if groups.Groups == nil || len(groups.Groups) != 0 {
		t.Errorf("list-groups-for-user: %+v", groups)
	}
	res = a.fails("NoSuchEntity", "iam", "list-groups-for-user", "--user-name", "ghost")
	if got := scAWSMessage(res.stderr); got != "The user with name ghost cannot be found." {
		t.Errorf("list-groups-for-user ghost: %q", got)
	}
	// force_destroy: the credentials berth has none of.
	for _, l := range []struct{ cmd, member string }{
		{"list-ssh-public-keys", "SSHPublicKeys"}, {"list-mfa-devices", "MFADevices"},
		{"list-signing-certificates", "Certificates"}, {"list-service-specific-credentials", "ServiceSpecificCredentials"},
	} {
		var got map[string]any
		a.ok(&got, "iam", l.cmd, "--user-name", "reader")
		if list, ok := got[l.member].([]any); !ok || len(list) != 0 {
			t.Errorf("%s: %v", l.cmd, got)
		}
	}
	res = a.fails("NoSuchEntity", "iam", "delete-login-profile", "--user-name", "reader")
	if got := scAWSMessage(res.stderr); got != "Login Profile for User reader cannot be found." {
		t.Errorf("delete-login-profile: %q", got)
	}
	a.ok(&keys, "iam", "list-access-keys", "--user-name", "reader")
	for _, k := range keys.AccessKeyMetadata {
		a.ok(nil, "iam", "delete-access-key", "--user-name", "reader", "--access-key-id", k.AccessKeyId)
	}
	a.ok(nil, "iam", "delete-user-policy", "--user-name", "reader", "--policy-name", "ro")
	a.ok(nil, "iam", "delete-user", "--user-name", "reader")
}

type scErr struct{ s string }

func (e *scErr) Error() string { return e.s }

func mustString(t *testing.T, v any) string { return string(mustJSON(t, v)) }

// testRoleLastUsedAndMaxSession: get-role's RoleLastUsed is empty until a
// session of the role is made, then names its date and region
// (list-roles never has it); update-role's MaxSessionDuration bounds
// assume-role's --duration-seconds with STS's message.
func testRoleLastUsedAndMaxSession(t *testing.T, a *awsCLI) {
	t.Helper()
	type lastUsed struct {
		Role struct {
			MaxSessionDuration int
			Description        string
			RoleLastUsed       *struct{ LastUsedDate, Region string }
		}
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
	roleARN := "arn:aws:iam::" + account + ":role/deployer"
	a.ok(nil, "iam", "create-role", "--role-name", "deployer", "--assume-role-policy-document", trust)
	var got lastUsed
	a.ok(&got, "iam", "get-role", "--role-name", "deployer")
	if u := got.Role.RoleLastUsed; u == nil || u.LastUsedDate != "" || u.Region != "" {
		t.Errorf("get-role before any use: RoleLastUsed %+v, want {}", u)
	}
	before := time.Now().UTC().Add(-time.Second)
	a.assumeRole(roleARN, "first")
	a.ok(&got, "iam", "get-role", "--role-name", "deployer")
	u := got.Role.RoleLastUsed
	if u == nil || u.Region != "us-east-1" {
		t.Fatalf("get-role after assume-role: RoleLastUsed %+v", u)
	}
	if at, err := time.Parse(time.RFC3339, u.LastUsedDate); err != nil || at.Before(before.Truncate(time.Second)) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("RoleLastUsed.LastUsedDate %q (%v), want about now", u.LastUsedDate, err)
	}
	var list struct{ Roles []map[string]any }
	a.ok(&list, "iam", "list-roles")
	for _, r := range list.Roles {
		if _, ok := r["RoleLastUsed"]; ok {
			t.Errorf("list-roles has RoleLastUsed: %v", r)
		}
	}

	a.ok(nil, "iam", "update-role", "--role-name", "deployer", "--max-session-duration", "7200", "--description", "deploys")
	a.ok(&got, "iam", "get-role", "--role-name", "deployer")
	if got.Role.MaxSessionDuration != 7200 || got.Role.Description != "deploys" {
		t.Errorf("get-role after update-role: %+v", got.Role)
	}
	a.ok(nil, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "long", "--duration-seconds", "7200")
	res := a.fails("ValidationError", "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "longer", "--duration-seconds", "7201")
	if got := scAWSMessage(res.stderr); got != "The requested DurationSeconds exceeds the MaxSessionDuration set for this role." {
		t.Errorf("assume-role beyond MaxSessionDuration: %q", got)
	}
	a.ok(nil, "iam", "delete-role", "--role-name", "deployer")
}
