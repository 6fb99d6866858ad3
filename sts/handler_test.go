package sts

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/iam"
)

func TestGetCallerIdentityXML(t *testing.T) {
	for _, p := range []auth.Principal{
		alice,
		sessionPrincipal("s1"),
		{Type: auth.TypeService, ARN: "codebuild.amazonaws.com", Account: account, UserID: "codebuild.amazonaws.com"},
	} {
		h := &Handler{Authn: &fakeAuthn{p: p}}
		w := post(h, "Action=GetCallerIdentity&Version=2011-06-15")
		id := w.Header().Get("x-amzn-RequestId")
		want := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>` + p.ARN + `</Arn>
    <UserId>` + p.UserID + `</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>` + id + `</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`
		if w.Code != http.StatusOK || w.Body.String() != want {
			t.Errorf("%s: status %d, body:\n%s\nwant:\n%s", p.ARN, w.Code, w.Body, want)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
			t.Errorf("Content-Type %q", ct)
		}
		if len(id) != 36 || id[14] != '4' {
			t.Errorf("request id %q is not a v4 UUID", id)
		}
	}
}

func TestAssumeRoleXML(t *testing.T) {
	// Expiration is printed in UTC to the second whatever the zone.
	exp := time.Date(2026, 12, 3, 14, 0, 0, 999, time.FixedZone("CET", 2*3600))
	cases := []struct {
		name  string
		extra func(*iam.AssumeRoleOutput)
		tail  string
	}{
		{"plain", nil, ""},
		{"packed size and source identity", func(o *iam.AssumeRoleOutput) { o.PackedPolicySize, o.SourceIdentity = 6, "dev" },
			"\n    <PackedPolicySize>6</PackedPolicySize>\n    <SourceIdentity>dev</SourceIdentity>"},
	}
	for _, c := range cases {
		roles := &fakeRoles{expires: exp, extra: c.extra}
		h := &Handler{Authn: &fakeAuthn{p: alice}, Roles: roles}
		w := post(h, assumeRoleForm(nil))
		id := w.Header().Get("x-amzn-RequestId")
		want := `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:s1</AssumedRoleId>
      <Arn>arn:aws:sts::123456789012:assumed-role/ci/s1</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>` + sessAKID + `</AccessKeyId>
      <SecretAccessKey>` + sessKey + `</SecretAccessKey>
      <SessionToken>` + sessToken + `</SessionToken>
      <Expiration>2026-12-03T12:00:00Z</Expiration>
    </Credentials>` + c.tail + `
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>` + id + `</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`
		if w.Code != http.StatusOK || w.Body.String() != want {
			t.Errorf("%s: status %d, body:\n%s\nwant:\n%s", c.name, w.Code, w.Body, want)
		}
		if got := roles.callers; len(got) != 1 || got[0] != alice {
			t.Errorf("%s: Roles saw callers %+v", c.name, got)
		}
	}
}

// TestFormSources checks where parameters are read from: the form body,
// the URL query, both (the body wins), first of repeated values.
func TestFormSources(t *testing.T) {
	const gci = "Action=GetCallerIdentity&Version=2011-06-15"
	cases := []struct {
		name, method, query, contentType, body string
		code                                   string // "" for success
		msg                                    string
	}{
		{name: "POST body", method: "POST", contentType: formType, body: gci},
		{name: "POST body, bare content type", method: "POST", contentType: "application/x-www-form-urlencoded", body: gci},
		{name: "GET query", method: "GET", query: gci},
		{name: "POST query, no body", method: "POST", query: gci},
		{name: "body wins over query", method: "POST", query: "Action=NoSuchAction&Version=2000-01-01", contentType: formType, body: gci},
		{name: "query completes body", method: "POST", query: "Version=2011-06-15", contentType: formType, body: "Action=GetCallerIdentity"},
		{name: "first repeated action", method: "POST", contentType: formType, body: gci + "&Action=NoSuchAction"},
		{name: "first repeated action, invalid", method: "POST", contentType: formType, body: "Action=NoSuchAction&" + gci,
			code: "InvalidAction", msg: "Could not find operation NoSuchAction for version 2011-06-15"},
		{name: "first repeated version", method: "POST", contentType: formType, body: gci + "&Version=2000-01-01"},
		{name: "non-form body is not read", method: "POST", query: "Action=GetCallerIdentity", contentType: "application/json", body: "Version=2011-06-15",
			code: "InvalidAction", msg: "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"},
		{name: "malformed body", method: "POST", contentType: formType, body: "Action=GetCallerIdentity&Version=%zz",
			code: "MalformedInput", msg: "Unable to parse the form-encoded request body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			target := "/"
			if c.query != "" {
				target += "?" + c.query
			}
			r := httptest.NewRequest(c.method, target, strings.NewReader(c.body))
			if c.contentType != "" {
				r.Header.Set("Content-Type", c.contentType)
			}
			w := httptest.NewRecorder()
			(&Handler{Authn: &fakeAuthn{p: alice}}).ServeHTTP(w, r)
			if c.code == "" {
				if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<Arn>"+alice.ARN+"</Arn>") {
					t.Errorf("status %d:\n%s", w.Code, w.Body)
				}
				return
			}
			e := readError(t, w)
			if w.Code != http.StatusBadRequest || e.Error.Code != c.code || e.Error.Message != c.msg {
				t.Errorf("got %d %s %q, want 400 %s %q", w.Code, e.Error.Code, e.Error.Message, c.code, c.msg)
			}
		})
	}
}

// TestInvalidAction covers what AWS's front end answers for an action or
// version it cannot dispatch, in its own XML namespace.
func TestInvalidAction(t *testing.T) {
	cases := []struct{ body, msg string }{
		{"Action=NoSuchAction&Version=2011-06-15", "Could not find operation NoSuchAction for version 2011-06-15"},
		{"Action=&Version=2011-06-15", "Could not find operation  for version 2011-06-15"},
		{"Version=2011-06-15", "Could not find operation  for version 2011-06-15"},
		{"Action=GetCallerIdentity", "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"},
		{"Action=GetCallerIdentity&Version=", "Could not find operation GetCallerIdentity for version "},
		{"Action=GetCallerIdentity&Version=2000-01-01", "Could not find operation GetCallerIdentity for version 2000-01-01"},
		{"Action=GetCallerIdentity&Version=2000-01-01&Version=2011-06-15", "Could not find operation GetCallerIdentity for version 2000-01-01"},
		// The version is checked before AssumeRole's parameters.
		{"Action=AssumeRole&Version=2010-05-08", "Could not find operation AssumeRole for version 2010-05-08"},
	}
	for _, c := range cases {
		w := post(&Handler{Authn: &fakeAuthn{p: alice}}, c.body)
		e := readError(t, w)
		if w.Code != http.StatusBadRequest || e.Error.Type != "Sender" || e.Error.Code != "InvalidAction" || e.Error.Message != c.msg {
			t.Errorf("%s: got %d %s %s %q, want 400 InvalidAction %q", c.body, w.Code, e.Error.Type, e.Error.Code, e.Error.Message, c.msg)
		}
		if e.XMLName.Space != "http://webservices.amazon.com/AWSFault/2005-15-09" {
			t.Errorf("%s: namespace %q", c.body, e.XMLName.Space)
		}
	}
	r := httptest.NewRequest(http.MethodPut, "/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	w := httptest.NewRecorder()
	(&Handler{Authn: &fakeAuthn{p: alice}}).ServeHTTP(w, r)
	if e := readError(t, w); w.Code != http.StatusMethodNotAllowed || e.Error.Code != "InvalidAction" {
		t.Errorf("PUT: %d %s", w.Code, e.Error.Code)
	}
}

// TestAuthErrors maps each verification failure to STS's code, status and
// message, by Kind.
func TestAuthErrors(t *testing.T) {
	sig := func(k sigv4.Kind, typ, msg string) error {
		return &sigv4.Error{Op: "sigv4.Verify", Kind: k, Type: typ, Message: msg, Status: 400}
	}
	const skew = "Signature expired: 20261125T000000Z is now earlier than 20261125T001500Z (20261125T003000Z - 15 min.)"
	const differs = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"missing", sig(sigv4.Missing, "MissingAuthenticationTokenException", "Missing Authentication Token"),
			403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"incomplete", sig(sigv4.Incomplete, "IncompleteSignatureException", "Authorization header requires 'Signature' parameter."),
			400, "IncompleteSignature", "Authorization header requires 'Signature' parameter."},
		{"unknown key", sig(sigv4.UnknownKey, "UnrecognizedClientException", "The security token included in the request is invalid."),
			403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"unknown key from a key store", &auth.Error{Op: "lookup", Kind: auth.UnknownKey},
			403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"bad signature", sig(sigv4.BadSignature, "InvalidSignatureException", differs),
			403, "SignatureDoesNotMatch", differs},
		{"skew", sig(sigv4.Skewed, "InvalidSignatureException", skew),
			403, "SignatureDoesNotMatch", skew},
		{"expired token", sig(sigv4.ExpiredToken, "ExpiredTokenException", "The security token included in the request is expired"),
			400, "ExpiredToken", "The security token included in the request is expired"},
		{"wrapped", fmt.Errorf("verifying: %w", sig(sigv4.BadSignature, "InvalidSignatureException", differs)),
			403, "SignatureDoesNotMatch", differs},
		{"STS error as is", AccessDenied("no"), 403, "AccessDenied", "no"},
		{"key store failure", errors.New("store: connection refused"),
			500, "InternalFailure", "The request processing has failed because of an unknown error, exception or failure."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs logBuffer
			roles := &fakeRoles{}
			h := &Handler{Authn: &fakeAuthn{err: c.err}, Roles: roles, Log: logs.logger()}
			// Invalid parameters: authentication is answered first.
			w := post(h, assumeRoleForm(map[string]string{"RoleSessionName": "a"}))
			e := readError(t, w)
			if w.Code != c.status || e.Error.Code != c.code || e.Error.Message != c.msg {
				t.Errorf("got %d %s %q\nwant %d %s %q", w.Code, e.Error.Code, e.Error.Message, c.status, c.code, c.msg)
			}
			wantType := "Sender"
			if c.status >= 500 {
				wantType = "Receiver"
				if !strings.Contains(logs.String(), e.RequestID) || !strings.Contains(logs.String(), "connection refused") {
					t.Errorf("internal failure not logged with its request id:\n%s", logs.String())
				}
				if strings.Contains(w.Body.String(), "connection refused") {
					t.Errorf("internal detail sent to the client")
				}
			}
			if e.Error.Type != wantType {
				t.Errorf("Type %s, want %s", e.Error.Type, wantType)
			}
			if e.XMLName.Space != Namespace {
				t.Errorf("namespace %q", e.XMLName.Space)
			}
			if len(roles.recorded()) != 0 {
				t.Error("Roles called for an unauthenticated request")
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	authn := &fakeAuthn{p: alice}
	h := &Handler{Authn: authn}
	gci := "Action=GetCallerIdentity&Version=2011-06-15&Pad="
	fits := gci + strings.Repeat("p", MaxBody-len(gci))
	if w := post(h, fits); w.Code != http.StatusOK {
		t.Fatalf("a %d-byte body: status %d\n%s", len(fits), w.Code, w.Body)
	}
	authn.calls = 0
	w := post(h, fits+"p")
	e := readError(t, w)
	if w.Code != http.StatusRequestEntityTooLarge || e.Error.Code != "ValidationError" || e.Error.Message != "Request body exceeds 65536 bytes" {
		t.Errorf("got %d %s %q", w.Code, e.Error.Code, e.Error.Message)
	}
	if authn.calls != 0 {
		t.Error("a truncated body was authenticated")
	}
	// Far beyond the limit: no more than the limit is read.
	big := &countingReader{n: 100 << 20}
	r := httptest.NewRequest(http.MethodPost, "/", big)
	r.Header.Set("Content-Type", formType)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || big.read > MaxBody+1 {
		t.Errorf("status %d after reading %d bytes", w.Code, big.read)
	}
}

// countingReader yields n bytes of 'a', counting what was read.
type countingReader struct{ n, read int }

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := min(len(p), c.n-c.read)
	for i := range k {
		p[i] = 'a'
	}
	c.read += k
	return k, nil
}

func TestRolesErrors(t *testing.T) {
	const secretish = "db password hunter2"
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"access denied", AccessDenied("User: " + alice.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN),
			403, "AccessDenied", "User: " + alice.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN},
		{"validation", Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."),
			400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"malformed policy", fmt.Errorf("wrapped: %w", MalformedPolicyDocument("Syntax errors in policy.")),
			400, "MalformedPolicyDocument", "Syntax errors in policy."},
		{"packed policy", PackedPolicyTooLarge("Packed policy consumes 112% of allotted space, please use smaller policy."),
			400, "PackedPolicyTooLarge", "Packed policy consumes 112% of allotted space, please use smaller policy."},
		{"explicit status", &Error{Code: "RegionDisabledException", Message: "STS is not activated in this region", Status: 403},
			403, "RegionDisabledException", "STS is not activated in this region"},
		{"internal", errors.New(secretish), 500, "InternalFailure",
			"The request processing has failed because of an unknown error, exception or failure."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs logBuffer
			roles := &fakeRoles{errs: map[string]error{roleARN: c.err}}
			h := &Handler{Authn: &fakeAuthn{p: alice}, Roles: roles, Log: logs.logger()}
			w := post(h, assumeRoleForm(nil))
			e := readError(t, w)
			if w.Code != c.status || e.Error.Code != c.code || e.Error.Message != c.msg {
				t.Errorf("got %d %s %q\nwant %d %s %q", w.Code, e.Error.Code, e.Error.Message, c.status, c.code, c.msg)
			}
			if strings.Contains(w.Body.String(), secretish) {
				t.Error("internal error text sent to the client")
			}
			if c.status == 500 && !strings.Contains(logs.String(), "request_id="+e.RequestID) {
				t.Errorf("internal failure not logged with its request id:\n%s", logs.String())
			}
		})
	}
}

func TestNoSecretsLogged(t *testing.T) {
	var logs logBuffer
	h := &Handler{Authn: &fakeAuthn{p: alice}, Roles: &fakeRoles{expires: time.Now().Add(time.Hour)}, Log: logs.logger()}
	if w := post(h, assumeRoleForm(nil)); w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	out := logs.String()
	if !strings.Contains(out, "action=AssumeRole") {
		t.Errorf("call not logged at debug level:\n%s", out)
	}
	for _, s := range []string{sessKey, sessToken} {
		if strings.Contains(out, s) {
			t.Errorf("log holds a secret:\n%s", out)
		}
	}
	o := iam.AssumeRoleOutput{AccessKeyID: sessAKID, SecretAccessKey: sessKey, SessionToken: sessToken}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o)} {
		if strings.Contains(s, sessKey) || strings.Contains(s, sessToken) {
			t.Errorf("iam.AssumeRoleOutput formats its secrets: %s", s)
		}
	}
}

func TestAudit(t *testing.T) {
	type entry struct {
		action string
		p      auth.Principal
		code   string
	}
	var got []entry
	audit := func(_ *http.Request, action string, p auth.Principal, code string) {
		got = append(got, entry{action, p, code})
	}
	roles := &fakeRoles{expires: time.Now().Add(time.Hour), errs: map[string]error{"arn:aws:iam::123456789012:role/denied": AccessDenied("no")}}
	ok := &Handler{Authn: &fakeAuthn{p: alice}, Roles: roles, Audit: audit}
	bad := &Handler{Authn: &fakeAuthn{err: &sigv4.Error{Kind: sigv4.UnknownKey}}, Roles: roles, Audit: audit}
	post(ok, "Action=GetCallerIdentity&Version=2011-06-15")
	post(ok, assumeRoleForm(nil))
	post(ok, assumeRoleForm(map[string]string{"RoleArn": "arn:aws:iam::123456789012:role/denied"}))
	post(ok, "Action=GetSessionToken&Version=2011-06-15")
	post(bad, "Action=GetCallerIdentity&Version=2011-06-15")
	want := []entry{
		{"GetCallerIdentity", alice, ""},
		{"AssumeRole", alice, ""},
		{"AssumeRole", alice, "AccessDenied"},
		{"GetSessionToken", alice, ""},
		{"GetCallerIdentity", auth.Principal{}, "InvalidClientTokenId"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit:\n%v\nwant\n%v", got, want)
	}
}

func TestHandles(t *testing.T) {
	cases := []struct {
		method, target, contentType, amzTarget string
		want                                   bool
	}{
		{"POST", "/", formType, "", true},
		{"POST", "/", "application/x-www-form-urlencoded", "", true},
		{"POST", "/", "Application/X-WWW-Form-Urlencoded; charset=UTF-8", "", true},
		{"GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", "", true},
		{"POST", "/?Action=GetCallerIdentity", "", "", true},
		{"POST", "/", "application/x-amz-json-1.1", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", false},
		{"POST", "/", formType, "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", false},
		{"POST", "/", "application/json", "", false},
		{"POST", "/", "", "", false},
		{"GET", "/", "", "", false},
		{"GET", "/v2/", "", "", false},
		{"GET", "/v2/repo/tags/list?Action=x", "", "", false},
		{"POST", "/v2/repo/blobs/uploads/", formType, "", false},
		{"PUT", "/?Action=GetCallerIdentity", formType, "", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		if c.amzTarget != "" {
			r.Header.Set("X-Amz-Target", c.amzTarget)
		}
		if got := Handles(r); got != c.want {
			t.Errorf("%s %s (%s, %s): %v, want %v", c.method, c.target, c.contentType, c.amzTarget, got, c.want)
		}
	}
}

func TestMisconfiguredHandler(t *testing.T) {
	w := post(&Handler{}, "Action=GetCallerIdentity&Version=2011-06-15")
	if e := readError(t, w); w.Code != 500 || e.Error.Code != "InternalFailure" {
		t.Errorf("no Authenticator: %d %s", w.Code, e.Error.Code)
	}
	w = post(&Handler{Authn: &fakeAuthn{p: alice}}, assumeRoleForm(nil))
	if e := readError(t, w); w.Code != 500 || e.Error.Code != "InternalFailure" {
		t.Errorf("no Roles: %d %s", w.Code, e.Error.Code)
	}
}
