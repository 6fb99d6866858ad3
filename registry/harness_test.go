package registry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metrics"
)

// The package's tests run the real Server (gate, edge, App, the metadata
// middleware) over a real SQLite store; only the credential check is a
// stand-in (login tokens are tested in auth/token and iam).

const (
	testReg      = "123456789012"
	testUser     = "AWS"
	testPassword = "registry-test-password"
)

// testCredentials accepts testUser/testPassword as a principal of testReg.
type testCredentials struct{}

func (testCredentials) Basic(_ context.Context, user, password string) (auth.Principal, error) {
	if user != testUser || password != testPassword {
		return auth.Principal{}, errors.New("bad credentials")
	}
	return auth.Principal{ARN: "arn:aws:iam::" + testReg + ":user/tester", Account: testReg}, nil
}

// authTransport sends the test credentials with every request.
type authTransport struct{}

func (authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(testUser, testPassword)
	return http.DefaultTransport.RoundTrip(r)
}

// testClient is what the tests' clients use: it logs in.
var testClient = &http.Client{Transport: authTransport{}}

// testServer is a running Server and the store behind it.
type testServer struct {
	srv   *Server
	store metadata.Store
	url   string
}

// openTestStore opens a SQLite store whose registry testReg creates
// repositories on push (a ROOT CREATE_ON_PUSH template) and allows blob
// mounts.
func openTestStore(t testing.TB) metadata.Store {
	t.Helper()
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "metadata.db"), metadata.WithTagRule(ecrmodel.TagImmutable))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.EnsureRegistry(ctx, testReg); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateTemplate(ctx, metadata.Template{RegistryID: testReg, Prefix: "ROOT", AppliedFor: []string{"CREATE_ON_PUSH"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSetting(ctx, testReg, "account.BLOB_MOUNTING", "ENABLED"); err != nil {
		t.Fatal(err)
	}
	return st
}

// startTestServer runs a Server over app's driver behind httptest; gate
// changes its gate's options (credentials and authorizer).
func startTestServer(t testing.TB, app AppOptions, gate ...func(*GateOptions)) *testServer {
	t.Helper()
	st := openTestStore(t)
	meta, err := NewMeta(st, app.Driver, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(meta.Close)
	app.Meta = meta
	m := metrics.New("test-version")
	g := GateOptions{Store: st, Credentials: testCredentials{}, RegistryID: testReg,
		Region: "us-east-1", PublicHost: "registry.test"}
	for _, f := range gate {
		f(&g)
	}
	s, err := New(context.Background(), Options{
		App:     app,
		Metrics: m,
		Log:     slog.New(slog.DiscardHandler),
		Gate:    g,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	// The registry's part of a node's mux (node/mux.go has the rest).
	mux := http.NewServeMux()
	mux.Handle("/v2/", s.V2())
	mux.Handle("GET /metrics", m.Handler())
	ts := httptest.NewServer(s.Wrap(mux))
	t.Cleanup(ts.Close)
	return &testServer{srv: s, store: st, url: ts.URL}
}

// startServer runs a Server with app behind httptest and returns its URL.
func startServer(t *testing.T, app AppOptions) string {
	return startTestServer(t, app).url
}

func serve(t *testing.T, drv storagedriver.StorageDriver) string {
	return startServer(t, AppOptions{Driver: drv, HTTPSecret: "t", PurgeAge: 3600e9})
}
