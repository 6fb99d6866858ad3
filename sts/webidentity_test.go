package sts

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth/sigv4"
)

func TestAssumeRoleWithWebIdentityUnsigned(t *testing.T) {
	roles := &fakeRoles{expires: time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)}
	// The authenticator refuses everything: the call needs no signature.
	h := &Handler{Authn: &fakeAuthn{err: &sigv4.Error{Kind: sigv4.Missing}}, Roles: roles}
	base := "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/ci&RoleSessionName=gha"
	w := post(h, base+"&WebIdentityToken=good")
	id := w.Header().Get("x-amzn-RequestId")
	want := `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>repo:o/r:ref:refs/heads/main</SubjectFromWebIdentityToken>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/ci/gha</Arn>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:gha</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>` + sessAKID + `</AccessKeyId>
      <SecretAccessKey>` + sessKey + `</SecretAccessKey>
      <SessionToken>` + sessToken + `</SessionToken>
      <Expiration>2026-12-03T14:00:00Z</Expiration>
    </Credentials>
    <Provider>https://issuer.example</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>` + id + `</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
`
	if w.Code != http.StatusOK || w.Body.String() != want {
		t.Fatalf("status %d, body:\n%s\nwant:\n%s", w.Code, w.Body, want)
	}
	for _, tc := range []struct{ body, code, msg string }{
		{base + "&WebIdentityToken=bad1", "InvalidIdentityToken", "Incorrect token audience"},
		{base, "ValidationError", "1 validation error detected: Value null at &#39;webIdentityToken&#39; failed to satisfy constraint: Member must not be null"},
		{base + "&WebIdentityToken=abc", "ValidationError", "Value at &#39;webIdentityToken&#39; failed to satisfy constraint: Member must have length between 4 and 20000"},
		{"Action=AssumeRoleWithWebIdentity&Version=2010-01-01", "InvalidAction", "Could not find operation AssumeRoleWithWebIdentity for version 2010-01-01"},
		// Every other action still needs a signature.
		{"Action=GetCallerIdentity&Version=2011-06-15", "MissingAuthenticationToken", msgMissingToken},
	} {
		w := post(h, tc.body)
		if !strings.Contains(w.Body.String(), "<Code>"+tc.code+"</Code>") || !strings.Contains(w.Body.String(), tc.msg) {
			t.Errorf("%s: %d %s", tc.body, w.Code, w.Body)
		}
	}
	// A wrong signature on an unsigned action is not looked at, as on AWS.
	h.Authn = &fakeAuthn{err: errors.New("never asked")}
	if w := post(h, base+"&WebIdentityToken=good"); w.Code != http.StatusOK {
		t.Fatalf("signed: %d %s", w.Code, w.Body)
	}
}
