package sts

import (
	"bytes"
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/iam"
)

const (
	account   = "123456789012"
	userAKID  = "AKIAIOSFODNN7EXAMPLE"
	userKey   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessAKID  = "ASIAIOSFODNN7SESSION"
	sessKey   = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	sessToken = "FwoGZXIvYXdzEXAMPLEsessionTOKEN+/=EXAMPLEsessionTOKEN"
	roleARN   = "arn:aws:iam::123456789012:role/ci"
	roleID    = "AROA3XFRBF535PLBIFPI4"
	formType  = "application/x-www-form-urlencoded; charset=utf-8"
)

var alice = auth.Principal{
	Type: auth.TypeUser, ARN: "arn:aws:iam::123456789012:user/alice", Account: account,
	AccessKeyID: userAKID, UserID: "AIDAJQABLZS4A3QDU576Q", Username: "alice",
}

// sessionPrincipal is who the session credentials fakeRoles hands out
// authenticate as.
func sessionPrincipal(session string) auth.Principal {
	return auth.Principal{
		Type: auth.TypeAssumedRole, ARN: "arn:aws:sts::123456789012:assumed-role/ci/" + session, Account: account,
		AccessKeyID: sessAKID, UserID: roleID + ":" + session, RoleARN: roleARN, SessionName: session,
	}
}

// fakeAuthn authenticates every request as p, or fails with err.
type fakeAuthn struct {
	p     auth.Principal
	err   error
	calls int
}

// Precheck passes everything: the fake decides in Authenticate.
func (a *fakeAuthn) Precheck(*http.Request) error { return nil }

func (a *fakeAuthn) Authenticate(*http.Request, []byte) (auth.Principal, error) {
	a.calls++
	return a.p, a.err
}

// fakeRoles hands out the session credentials for any role but the ones in
// errs, and records what it was asked.
type fakeRoles struct {
	mu      sync.Mutex
	calls   []iam.AssumeRoleInput
	callers []auth.Principal
	errs    map[string]error // by role ARN
	expires time.Time
	extra   func(*iam.AssumeRoleOutput)
}

func (f *fakeRoles) AssumeRole(ctx context.Context, caller auth.Principal, in iam.AssumeRoleInput, r *http.Request) (iam.AssumeRoleOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := auth.PrincipalFrom(ctx); !ok || p != caller {
		panic("context does not carry the caller")
	}
	f.calls = append(f.calls, in)
	f.callers = append(f.callers, caller)
	if err := f.errs[in.RoleArn]; err != nil {
		return iam.AssumeRoleOutput{}, err
	}
	sp := sessionPrincipal(in.RoleSessionName)
	out := iam.AssumeRoleOutput{
		AccessKeyID: sessAKID, SecretAccessKey: sessKey, SessionToken: sessToken,
		Expiration: f.expires, AssumedRoleID: sp.UserID, AssumedRoleARN: sp.ARN,
	}
	if f.extra != nil {
		f.extra(&out)
	}
	return out, nil
}

func (f *fakeRoles) setExtra(fn func(*iam.AssumeRoleOutput)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extra = fn
}

func (f *fakeRoles) recorded() []iam.AssumeRoleInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]iam.AssumeRoleInput(nil), f.calls...)
}

// keys is a sigv4 Lookup knowing alice's long-lived key and, when
// sessionExpires is set, the session credentials fakeRoles hands out.
func keys(sessionPrincipalName string, sessionExpires time.Time) func(context.Context, string) (auth.Credential, error) {
	return func(_ context.Context, id string) (auth.Credential, error) {
		switch {
		case id == userAKID:
			return auth.Credential{AccessKeyID: userAKID, Secret: userKey, Principal: alice}, nil
		case id == sessAKID && !sessionExpires.IsZero():
			return auth.Credential{AccessKeyID: sessAKID, Secret: sessKey, SessionToken: sessToken,
				Expires: sessionExpires, Principal: sessionPrincipal(sessionPrincipalName)}, nil
		}
		return auth.Credential{}, sigv4.UnrecognizedClient()
	}
}

// logBuffer is a slog logger writing into a buffer, safe for the server's
// goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// post sends a form body to h.
func post(h http.Handler, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", formType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// wireError is an ErrorResponse as read back.
type wireError struct {
	XMLName xml.Name
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

func readError(t *testing.T, w *httptest.ResponseRecorder) wireError {
	t.Helper()
	var e wireError
	if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not XML: %v\n%s", err, w.Body)
	}
	if e.XMLName.Local != "ErrorResponse" {
		t.Fatalf("root element %s, want ErrorResponse:\n%s", e.XMLName.Local, w.Body)
	}
	if got := w.Header().Get("Content-Type"); got != "text/xml" {
		t.Errorf("Content-Type %q, want text/xml", got)
	}
	if id := w.Header().Get("x-amzn-RequestId"); id == "" || id != e.RequestID {
		t.Errorf("x-amzn-RequestId %q, body RequestId %q", id, e.RequestID)
	}
	return e
}

// AssumeRoleWithWebIdentity answers for a token "good" and refuses any
// other as an invalid token.
func (f *fakeRoles) AssumeRoleWithWebIdentity(ctx context.Context, in iam.WebIdentityInput, r *http.Request) (iam.WebIdentityOutput, error) {
	if in.WebIdentityToken != "good" {
		return iam.WebIdentityOutput{}, &iam.Error{Kind: iam.InvalidToken, Message: "Incorrect token audience"}
	}
	sp := sessionPrincipal(in.RoleSessionName)
	return iam.WebIdentityOutput{AssumeRoleOutput: iam.AssumeRoleOutput{
		AccessKeyID: sessAKID, SecretAccessKey: sessKey, SessionToken: sessToken,
		Expiration: f.expires, AssumedRoleID: sp.UserID, AssumedRoleARN: sp.ARN,
	}, Subject: "repo:o/r:ref:refs/heads/main", Provider: "https://issuer.example", Audience: "sts.amazonaws.com"}, nil
}

func (f *fakeRoles) GetSessionToken(ctx context.Context, caller auth.Principal, dur int32) (iam.AssumeRoleOutput, error) {
	return iam.AssumeRoleOutput{AccessKeyID: sessAKID, SecretAccessKey: sessKey, SessionToken: sessToken, Expiration: f.expires}, nil
}
