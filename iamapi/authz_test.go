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

const acct = "123456789012"

type fixedAuthn struct{ p auth.Principal }

func (f fixedAuthn) Precheck(*http.Request) error { return nil }
func (f fixedAuthn) Authenticate(*http.Request, []byte) (auth.Principal, error) {
	return f.p, nil
}

// params are enough members for every action to reach its authorization.
var params = url.Values{
	"RoleName": {"r"}, "UserName": {"u"}, "PolicyName": {"p"}, "PolicyArn": {"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
	"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
	"PolicyDocument":           {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`},
	"Url":                      {"https://issuer.example"}, "OpenIDConnectProviderArn": {"arn:aws:iam::" + acct + ":oidc-provider/issuer.example"},
	"ClientID": {"c"}, "AccessKeyId": {"AKIAEXAMPLEEXAMPLE00"}, "Status": {"Inactive"}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"},
	"TagKeys.member.1": {"k"}, "VersionId": {"v1"}, "InstanceProfileName": {"ip"}, "Description": {"d"},
	"PermissionsBoundary": {"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"},
}

// TestEveryActionAuthorized: a user without policies is refused every
// action with IAM's message naming iam:<Action>; one allowed iam:* is not.
func TestEveryActionAuthorized(t *testing.T) {
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := &iam.Service{Store: st, Keyring: crypt.NewMemoryKeyring()}
	if _, err := svc.EnsureAccount(ctx, acct, "a"); err != nil {
		t.Fatal(err)
	}
	principal := func(name string, allow bool) auth.Principal {
		u, err := svc.CreateUser(ctx, acct, name, "/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if allow {
			if err := svc.PutInlinePolicy(ctx, u.ARN, "iam", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`); err != nil {
				t.Fatal(err)
			}
		}
		return auth.Principal{Type: auth.TypeUser, ARN: u.ARN, Account: acct, AccessKeyID: "AKIATESTTESTTESTTEST", UserID: u.ID, Username: name}
	}
	authz := &iam.Authorizer{Store: st, Region: "us-east-1", Enforce: true}
	nobody := &Handler{Authn: fixedAuthn{principal("nobody", false)}, Svc: svc, Authz: authz}
	admin := &Handler{Authn: fixedAuthn{principal("admin", true)}, Svc: svc, Authz: authz}
	call := func(h http.Handler, action string) string {
		form := url.Values{"Action": {action}, "Version": {APIVersion}}
		for k, v := range params {
			form[k] = v
		}
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Body.String()
	}
	for _, action := range Actions() {
		body := call(nobody, action)
		if !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "is not authorized to perform: iam:"+action+" on resource: ") {
			t.Errorf("%s without permission:\n%s", action, body)
		}
		if body := call(admin, action); strings.Contains(body, "AccessDenied") || strings.Contains(body, "ServiceFailure") {
			t.Errorf("%s with iam:*:\n%s", action, body)
		}
	}
}
