package iamapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// adminHandler is a Handler whose caller is a user allowed iam:*.
func adminHandler(t *testing.T) http.Handler {
	t.Helper()
	return handlerAllowing(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)
}

// handlerAllowing is a Handler whose caller is a user with policy doc.
func handlerAllowing(t *testing.T, doc string) http.Handler {
	t.Helper()
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := &iam.Service{Store: st, Keyring: crypt.NewMemoryKeyring()}
	if _, err := svc.EnsureAccount(ctx, acct, "a"); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, acct, "admin", "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.PutInlinePolicy(ctx, u.ARN, "iam", doc); err != nil {
		t.Fatal(err)
	}
	p := auth.Principal{Type: auth.TypeUser, ARN: u.ARN, Account: acct, AccessKeyID: "AKIATESTTESTTESTTEST", UserID: u.ID, Username: "admin"}
	return &Handler{Authn: fixedAuthn{p}, Svc: svc, Authz: &iam.Authorizer{Store: st, Region: "us-east-1", Enforce: true}}
}

func iamCall(t *testing.T, h http.Handler, kv ...string) (int, string) {
	t.Helper()
	form := url.Values{"Version": {APIVersion}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// The calls Terraform makes on update and destroy, with IAM's answers.
func TestTerraformCalls(t *testing.T) {
	h := adminHandler(t)
	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	const ro = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	steps := []struct {
		kv     []string
		status int
		has    []string
		hasNot []string
	}{
		{[]string{"Action", "ListGroupsForUser", "UserName", "ghost"}, 404, []string{"<Code>NoSuchEntity</Code>", "<Message>The user with name ghost cannot be found.</Message>"}, nil},
		{[]string{"Action", "ListInstanceProfilesForRole", "RoleName", "ghost"}, 404, []string{"<Message>The role with name ghost cannot be found.</Message>"}, nil},
		{[]string{"Action", "CreateRole", "RoleName", "ci", "AssumeRolePolicyDocument", trust, "PermissionsBoundary", ro}, 200,
			[]string{"<PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>", "<PermissionsBoundaryArn>" + ro + "</PermissionsBoundaryArn>"}, nil},
		{[]string{"Action", "CreateRole", "RoleName", "bad", "AssumeRolePolicyDocument", trust, "PermissionsBoundary", "arn:aws:iam::" + acct + ":policy/none"}, 404,
			[]string{"<Message>Policy arn:aws:iam::" + acct + ":policy/none does not exist or is not attachable.</Message>"}, nil},
		{[]string{"Action", "GetRole", "RoleName", "bad"}, 404, nil, nil},
		{[]string{"Action", "ListInstanceProfilesForRole", "RoleName", "ci"}, 200, []string{"<InstanceProfiles></InstanceProfiles>", "<IsTruncated>false</IsTruncated>"}, nil},
		{[]string{"Action", "RemoveRoleFromInstanceProfile", "RoleName", "ci", "InstanceProfileName", "ip"}, 404, []string{"<Message>Instance Profile ip cannot be found.</Message>"}, nil},
		// A 0 sent is out of range (not "unchanged" or "the default").
		{[]string{"Action", "UpdateRole", "RoleName", "ci", "MaxSessionDuration", "0"}, 400,
			[]string{"<Code>InvalidInput</Code>", "Value &#39;0&#39; at &#39;maxSessionDuration&#39; failed to satisfy constraint"}, nil},
		{[]string{"Action", "CreateRole", "RoleName", "zero", "AssumeRolePolicyDocument", trust, "MaxSessionDuration", "0"}, 400,
			[]string{"<Code>InvalidInput</Code>"}, nil},
		{[]string{"Action", "UpdateRoleDescription", "RoleName", "ci", "Description", "builds"}, 200, []string{"<Description>builds</Description>", "<RoleName>ci</RoleName>"}, nil},
		{[]string{"Action", "DeleteRolePermissionsBoundary", "RoleName", "ci"}, 200, nil, nil},
		{[]string{"Action", "GetRole", "RoleName", "ci"}, 200, []string{"<Description>builds</Description>", "<RoleLastUsed></RoleLastUsed>"}, []string{"PermissionsBoundary"}},
		{[]string{"Action", "ListRoles"}, 200, []string{"<RoleName>ci</RoleName>"}, []string{"RoleLastUsed"}},
		{[]string{"Action", "PutRolePermissionsBoundary", "RoleName", "ci", "PermissionsBoundary", ro}, 200, nil, nil},
		{[]string{"Action", "GetRole", "RoleName", "ci"}, 200, []string{"<PermissionsBoundaryArn>" + ro + "</PermissionsBoundaryArn>"}, nil},
		{[]string{"Action", "TagRole", "RoleName", "ci", "Tags.member.1.Key", "b", "Tags.member.1.Value", "2", "Tags.member.2.Key", "a", "Tags.member.2.Value", "1",
			"Tags.member.3.Key", "c", "Tags.member.3.Value", "3"}, 200, nil, nil},
		{[]string{"Action", "ListRoleTags", "RoleName", "ci", "MaxItems", "2"}, 200,
			[]string{"<Key>a</Key>", "<Key>b</Key>", "<IsTruncated>true</IsTruncated>", "<Marker>c</Marker>"}, []string{"<Key>c</Key>"}},
		{[]string{"Action", "ListRoleTags", "RoleName", "ci", "Marker", "c"}, 200, []string{"<Key>c</Key>", "<IsTruncated>false</IsTruncated>"}, []string{"<Key>a</Key>"}},
		{[]string{"Action", "ListRoleTags", "RoleName", "ci", "MaxItems", "0"}, 400, []string{"<Code>ValidationError</Code>"}, nil},
		{[]string{"Action", "CreateUser", "UserName", "dev"}, 200, nil, []string{"PermissionsBoundary"}},
		{[]string{"Action", "ListGroupsForUser", "UserName", "dev"}, 200, []string{"<Groups></Groups>", "<IsTruncated>false</IsTruncated>"}, nil},
		{[]string{"Action", "ListMFADevices", "UserName", "dev"}, 200, []string{"<MFADevices></MFADevices>"}, nil},
		{[]string{"Action", "ListMFADevices", "UserName", "ghost"}, 404, []string{"<Message>The user with name ghost cannot be found.</Message>"}, nil},
		{[]string{"Action", "ListVirtualMFADevices", "AssignmentStatus", "Assigned"}, 200, []string{"<VirtualMFADevices></VirtualMFADevices>"}, nil},
		{[]string{"Action", "ListSSHPublicKeys", "UserName", "dev"}, 200, []string{"<SSHPublicKeys></SSHPublicKeys>"}, nil},
		{[]string{"Action", "ListSigningCertificates", "UserName", "dev"}, 200, []string{"<Certificates></Certificates>"}, nil},
		{[]string{"Action", "ListServiceSpecificCredentials", "UserName", "dev"}, 200, []string{"<ServiceSpecificCredentials></ServiceSpecificCredentials>"}, nil},
		{[]string{"Action", "DeleteLoginProfile", "UserName", "dev"}, 404, []string{"<Code>NoSuchEntity</Code>", "<Message>Login Profile for User dev cannot be found.</Message>"}, nil},
		{[]string{"Action", "PutUserPermissionsBoundary", "UserName", "dev", "PermissionsBoundary", ro}, 200, nil, nil},
		{[]string{"Action", "GetUser", "UserName", "dev"}, 200, []string{"<PermissionsBoundaryArn>" + ro + "</PermissionsBoundaryArn>"}, nil},
		{[]string{"Action", "DeleteUserPermissionsBoundary", "UserName", "dev"}, 200, nil, nil},
		{[]string{"Action", "CreateAccessKey", "UserName", "dev"}, 200, nil, nil},
		{[]string{"Action", "CreateAccessKey", "UserName", "dev"}, 200, nil, nil},
		{[]string{"Action", "ListAccessKeys", "UserName", "dev", "MaxItems", "1"}, 200, []string{"<IsTruncated>true</IsTruncated>", "<Marker>AKIA"}, nil},
		{[]string{"Action", "CreatePolicy", "PolicyName", "p", "PolicyDocument", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`,
			"Tags.member.1.Key", "team", "Tags.member.1.Value", "infra"}, 200, []string{"<Key>team</Key>"}, nil},
		{[]string{"Action", "TagPolicy", "PolicyArn", "arn:aws:iam::" + acct + ":policy/p", "Tags.member.1.Key", "env", "Tags.member.1.Value", "prod"}, 200, nil, nil},
		{[]string{"Action", "UntagPolicy", "PolicyArn", "arn:aws:iam::" + acct + ":policy/p", "TagKeys.member.1", "team"}, 200, nil, nil},
		{[]string{"Action", "ListPolicyTags", "PolicyArn", "arn:aws:iam::" + acct + ":policy/p"}, 200, []string{"<Key>env</Key>", "<Value>prod</Value>"}, []string{"team"}},
		{[]string{"Action", "ListPolicyTags", "PolicyArn", "arn:aws:iam::" + acct + ":policy/none"}, 404,
			[]string{"<Message>Policy arn:aws:iam::" + acct + ":policy/none does not exist or is not attachable.</Message>"}, nil},
		{[]string{"Action", "PutRolePermissionsBoundary", "RoleName", "ci", "PermissionsBoundary", "arn:aws:iam::" + acct + ":policy/p"}, 200, nil, nil},
		{[]string{"Action", "DeletePolicy", "PolicyArn", "arn:aws:iam::" + acct + ":policy/p"}, 409, []string{"<Code>DeleteConflict</Code>"}, nil},
	}
	for i, s := range steps {
		status, body := iamCall(t, h, s.kv...)
		if status != s.status {
			t.Fatalf("step %d %v: status %d, want %d\n%s", i, s.kv[:2], status, s.status, body)
		}
		for _, w := range s.has {
			if !strings.Contains(body, w) {
				t.Errorf("step %d %v: no %q in\n%s", i, s.kv[:4], w, body)
			}
		}
		for _, w := range s.hasNot {
			if strings.Contains(body, w) {
				t.Errorf("step %d %v: %q in\n%s", i, s.kv[:4], w, body)
			}
		}
	}
}

// A delegated administrator may make roles only under a given boundary:
// iam:PermissionsBoundary is the boundary CreateRole sets.
func TestPermissionsBoundaryConditionKey(t *testing.T) {
	const ro = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	h := handlerAllowing(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateRole","iam:PutRolePermissionsBoundary"],"Resource":"*",`+
		`"Condition":{"StringEquals":{"iam:PermissionsBoundary":"`+ro+`"}}}]}`)
	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	status, body := iamCall(t, h, "Action", "CreateRole", "RoleName", "free", "AssumeRolePolicyDocument", trust)
	if status != http.StatusForbidden || !strings.Contains(body, "is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::"+acct+":role/free") {
		t.Fatalf("CreateRole without the boundary: %d\n%s", status, body)
	}
	status, body = iamCall(t, h, "Action", "CreateRole", "RoleName", "other", "AssumeRolePolicyDocument", trust,
		"PermissionsBoundary", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")
	if status != http.StatusForbidden {
		t.Fatalf("CreateRole under another boundary: %d\n%s", status, body)
	}
	if status, body = iamCall(t, h, "Action", "CreateRole", "RoleName", "bounded", "AssumeRolePolicyDocument", trust, "PermissionsBoundary", ro); status != http.StatusOK {
		t.Fatalf("CreateRole under the boundary: %d\n%s", status, body)
	}
}

// iam:PermissionsBoundary on Delete…PermissionsBoundary is the boundary the
// call removes, so an administrator can forbid taking a given one off.
func TestDeleteBoundaryConditionKey(t *testing.T) {
	const ro = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	const pu = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	h := handlerAllowing(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"},`+
		`{"Effect":"Deny","Action":["iam:DeleteRolePermissionsBoundary","iam:DeleteUserPermissionsBoundary"],"Resource":"*",`+
		`"Condition":{"StringEquals":{"iam:PermissionsBoundary":"`+ro+`"}}}]}`)
	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	for _, kv := range [][]string{
		{"Action", "CreateRole", "RoleName", "guarded", "AssumeRolePolicyDocument", trust, "PermissionsBoundary", ro},
		{"Action", "CreateRole", "RoleName", "loose", "AssumeRolePolicyDocument", trust, "PermissionsBoundary", pu},
		{"Action", "CreateUser", "UserName", "guarded", "PermissionsBoundary", ro},
	} {
		if status, body := iamCall(t, h, kv...); status != http.StatusOK {
			t.Fatalf("%v: %d\n%s", kv[:4], status, body)
		}
	}
	for _, c := range []struct {
		kv       []string
		resource string
	}{
		{[]string{"Action", "DeleteRolePermissionsBoundary", "RoleName", "guarded"}, "role/guarded"},
		{[]string{"Action", "DeleteUserPermissionsBoundary", "UserName", "guarded"}, "user/guarded"},
		// A parameter naming another boundary changes nothing.
		{[]string{"Action", "DeleteRolePermissionsBoundary", "RoleName", "guarded", "PermissionsBoundary", pu}, "role/guarded"},
	} {
		status, body := iamCall(t, h, c.kv...)
		want := "is not authorized to perform: iam:" + c.kv[1] + " on resource: arn:aws:iam::" + acct + ":" + c.resource + " with an explicit deny"
		if status != http.StatusForbidden || !strings.Contains(body, want) {
			t.Errorf("%v: %d, want 403 %q\n%s", c.kv, status, want, body)
		}
	}
	if status, body := iamCall(t, h, "Action", "GetRole", "RoleName", "guarded"); status != http.StatusOK || !strings.Contains(body, "<PermissionsBoundaryArn>"+ro+"</PermissionsBoundaryArn>") {
		t.Errorf("guarded role lost its boundary: %d\n%s", status, body)
	}
	if status, body := iamCall(t, h, "Action", "DeleteRolePermissionsBoundary", "RoleName", "loose"); status != http.StatusOK {
		t.Errorf("removing another boundary: %d\n%s", status, body)
	}
}
