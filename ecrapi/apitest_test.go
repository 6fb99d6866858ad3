package ecrapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/metadata"
)

// Shared scaffolding for the package's tests: a real SQLite store, the
// API behind an httptest server and the real aws-sdk-go-v2 ECR client.

const (
	testRegistryID = "123456789012"
	testRegion     = "us-east-1"
)

// testPrincipal is what testAuthn returns for every request.
var testPrincipal = auth.Principal{
	ARN:         "arn:aws:iam::123456789012:user/tester",
	Account:     testRegistryID,
	AccessKeyID: "AKIDTESTTESTTESTTEST",
	UserID:      "AIDATESTTESTTESTTEST",
	Username:    "tester",
}

// testAuthn accepts every request as testPrincipal: SigV4 itself is
// tested in auth/sigv4.
type testAuthn struct{}

func (testAuthn) Precheck(*http.Request) error { return nil }

func (testAuthn) Authenticate(*http.Request, []byte) (auth.Principal, error) {
	return testPrincipal, nil
}

// testTokens issues a fixed password valid for 12 hours.
type testTokens struct{ now func() time.Time }

const testPassword = "test-password.AbC_123-xyz"

func (tt testTokens) Issue(_ context.Context, p auth.Principal) (string, time.Time, error) {
	if p.ARN == "" {
		return "", time.Time{}, errors.New("no principal")
	}
	return testPassword, tt.now().Add(12 * time.Hour), nil
}

// newTestAPI serves a fresh API over a fresh SQLite store and returns an
// ECR client pointed at it and the store.
func newTestAPI(t *testing.T) (*ecr.Client, metadata.Store) {
	return newTestAPIWith(t, nil)
}

// newTestAPIWith is newTestAPI with the Deps adjusted by mod before the
// API is built. When mod runs, d.Host is already the test server's
// host:port and d.Store the SQLite store.
func newTestAPIWith(t *testing.T, mod func(*ecrapi.Deps)) (*ecr.Client, metadata.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })

	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	d := ecrapi.Deps{
		Store:      st,
		Authn:      testAuthn{},
		Tokens:     testTokens{now: time.Now},
		RegistryID: testRegistryID,
		Region:     testRegion,
		Host:       strings.TrimPrefix(srv.URL, "http://"),
		PageKey:    []byte("0123456789abcdef0123456789abcdef"),
	}
	if mod != nil {
		mod(&d)
	}
	h = ecrapi.New(d)
	return newTestClient(srv.URL), st
}

// newTestClient is the real SDK client for endpoint, without retries (a
// ServerException must fail the test at once).
func newTestClient(endpoint string) *ecr.Client {
	return ecr.NewFromConfig(aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTESTTESTTESTTEST", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *ecr.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// wantErr fails t unless err is (or wraps) a T, e.g.
// wantErr[*types.RepositoryNotFoundException](t, err).
func wantErr[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error = %v, want %T", err, target)
	}
	return target
}
