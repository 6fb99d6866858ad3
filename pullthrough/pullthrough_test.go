package pullthrough_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

const reg = "123456789012"

func rules(t *testing.T) *pullthrough.Rules {
	t.Helper()
	st, err := metadata.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &pullthrough.Rules{Store: st, Region: "us-east-1"}
}

func s(v string) *string { return &v }

func TestCreateValidation(t *testing.T) {
	rs := rules(t)
	ctx := context.Background()
	arn := "arn:aws:secretsmanager:us-east-1:" + reg + ":secret:ecr-pullthroughcache/hub-AbCdEf"
	cases := []struct {
		name     string
		in       pullthrough.CreateInput
		typ, msg string
	}{
		{"no prefix", pullthrough.CreateInput{UpstreamRegistryURL: s("quay.io")}, "ValidationException",
			"1 validation error detected: Value null at 'ecrRepositoryPrefix' failed to satisfy constraint: Member must not be null"},
		{"no url", pullthrough.CreateInput{EcrRepositoryPrefix: s("quay")}, "ValidationException",
			"1 validation error detected: Value null at 'upstreamRegistryUrl' failed to satisfy constraint: Member must not be null"},
		{"short prefix", pullthrough.CreateInput{EcrRepositoryPrefix: s("q"), UpstreamRegistryURL: s("quay.io")}, "InvalidParameterException",
			"Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		{"long prefix", pullthrough.CreateInput{EcrRepositoryPrefix: s(strings.Repeat("a", 31)), UpstreamRegistryURL: s("quay.io")}, "InvalidParameterException",
			"Invalid parameter at 'ecrRepositoryPrefix' failed to satisfy constraint: 'must have length less than or equal to 30'"},
		{"upper case", pullthrough.CreateInput{EcrRepositoryPrefix: s("Quay"), UpstreamRegistryURL: s("quay.io")}, "InvalidParameterException", ""},
		{"root with upstream prefix", pullthrough.CreateInput{EcrRepositoryPrefix: s("ROOT"), UpstreamRegistryURL: s("quay.io"), UpstreamRepositoryPrefix: s("up")}, "InvalidParameterException", ""},
		{"bad url", pullthrough.CreateInput{EcrRepositoryPrefix: s("quay"), UpstreamRegistryURL: s("ftp://quay.io")}, "UnsupportedUpstreamRegistryException",
			"The specified upstream registry isn't supported."},
		{"bad enum", pullthrough.CreateInput{EcrRepositoryPrefix: s("quay"), UpstreamRegistryURL: s("quay.io"), UpstreamRegistry: s("dockerhub")}, "ValidationException", ""},
		{"bad arn", pullthrough.CreateInput{EcrRepositoryPrefix: s("quay"), UpstreamRegistryURL: s("quay.io"), CredentialArn: s("arn:aws:secretsmanager:us-east-1:" + reg + ":secret:other/x-AbCdEf12345")}, "InvalidParameterException", ""},
		{"arn of another region", pullthrough.CreateInput{EcrRepositoryPrefix: s("quay"), UpstreamRegistryURL: s("quay.io"), CredentialArn: s(strings.Replace(arn, "us-east-1", "eu-west-1", 1))}, "SecretNotFoundException",
			"The ARN of the secret specified in the pull through cache rule was not found. Update the pull through cache rule with a valid secret ARN and try again."},
	}
	for _, c := range cases {
		_, err := rs.Create(ctx, reg, c.in)
		var e *pullthrough.Error
		if !asErr(err, &e) || e.Type != c.typ || (c.msg != "" && e.Message != c.msg) {
			t.Errorf("%s: %v, want %s %q", c.name, err, c.typ, c.msg)
		}
	}
	r, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("docker-hub/"), UpstreamRegistryURL: s("registry-1.docker.io"), CredentialArn: s(arn)})
	if err != nil || r.Prefix != "docker-hub" || r.UpstreamRegistry != "docker-hub" || r.UpstreamPrefix != "ROOT" {
		t.Fatalf("create: %+v %v", r, err)
	}
	if _, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("docker-hub"), UpstreamRegistryURL: s("quay.io")}); !pullthrough.IsError(err, "PullThroughCacheRuleAlreadyExistsException") {
		t.Fatalf("duplicate: %v", err)
	}
}

func asErr(err error, e **pullthrough.Error) bool {
	pe, ok := err.(*pullthrough.Error)
	*e = pe
	return ok
}

func TestMatch(t *testing.T) {
	rs := rules(t)
	ctx := context.Background()
	for _, in := range []pullthrough.CreateInput{
		{EcrRepositoryPrefix: s("ecr-public"), UpstreamRegistryURL: s("public.ecr.aws")},
		{EcrRepositoryPrefix: s("team-a"), UpstreamRegistryURL: s("a.example"), UpstreamRepositoryPrefix: s("team-a")},
		{EcrRepositoryPrefix: s("my-app"), UpstreamRegistryURL: s("b.example"), UpstreamRepositoryPrefix: s("upstream-app")},
		{EcrRepositoryPrefix: s("my-app/special"), UpstreamRegistryURL: s("c.example")},
	} {
		if _, err := rs.Create(ctx, reg, in); err != nil {
			t.Fatal(err)
		}
	}
	for repo, want := range map[string]string{
		"ecr-public/my-app/image1": "public.ecr.aws my-app/image1",
		"team-a/myapp/image1":      "a.example team-a/myapp/image1",
		"my-app/image1":            "b.example upstream-app/image1",
		"my-app/special/x":         "c.example x",
		"my-app":                   "",
		"other/x":                  "",
	} {
		r, up, ok, err := rs.Match(ctx, reg, repo)
		got := ""
		if ok {
			got = r.UpstreamURL + " " + up
		}
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", repo, got, err, want)
		}
	}
	// ROOT covers everything else.
	if _, err := rs.Create(ctx, reg, pullthrough.CreateInput{EcrRepositoryPrefix: s("ROOT"), UpstreamRegistryURL: s("d.example")}); err != nil {
		t.Fatal(err)
	}
	if r, up, ok, _ := rs.Match(ctx, reg, "other/x"); !ok || r.UpstreamURL != "d.example" || up != "other/x" {
		t.Errorf("ROOT: %+v %q %v", r, up, ok)
	}
}

// tokenRegistry answers like Docker Hub: 401 with a Bearer challenge, a
// token endpoint taking Basic credentials (or none), and the API only with
// the token for the right scope.
func tokenRegistry(t *testing.T, user, pass string) (*httptest.Server, *http.Client) {
	var srv *httptest.Server
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if user != "" && (!ok || u != user || p != pass) {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"token": "tok:" + r.URL.Query().Get("scope")})
			return
		}
		scope := ""
		if strings.HasPrefix(r.URL.Path, "/v2/lib/app/") {
			scope = "repository:lib/app:pull"
		}
		if r.Header.Get("Authorization") != "Bearer tok:"+scope {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="registry.test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v2/":
			w.WriteHeader(http.StatusOK)
		case "/v2/lib/app/manifests/v1":
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", "sha256:abc")
			_, _ = w.Write([]byte(`{"schemaVersion":2}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestUpstreamBearerAuth(t *testing.T) {
	ctx := context.Background()
	// Anonymous token flow.
	srv, hc := tokenRegistry(t, "", "")
	u := &pullthrough.Upstream{HTTP: hc, Host: strings.TrimPrefix(srv.URL, "https://")}
	if err := u.Ping(ctx); err != nil {
		t.Fatalf("anonymous ping: %v", err)
	}
	body, mt, err := u.GetManifest(ctx, "lib/app", "v1")
	if err != nil || string(body) != `{"schemaVersion":2}` || mt != "application/vnd.oci.image.manifest.v1+json" {
		t.Fatalf("manifest: %q %q %v", body, mt, err)
	}
	if d, err := u.HeadManifest(ctx, "lib/app", "v1"); err != nil || d != "sha256:abc" {
		t.Fatalf("head: %q %v", d, err)
	}
	if _, _, err := u.GetManifest(ctx, "lib/app", "v2"); !pullthrough.NotFoundUpstream(err) {
		t.Fatalf("missing manifest: %v", err)
	}

	// With credentials; wrong ones are Denied.
	srv, hc = tokenRegistry(t, "alice", "s3cret")
	host := strings.TrimPrefix(srv.URL, "https://")
	ok := &pullthrough.Upstream{HTTP: hc, Host: host, Creds: &pullthrough.Credentials{Username: "alice", Password: "s3cret"}}
	if _, _, err := ok.GetManifest(ctx, "lib/app", "v1"); err != nil {
		t.Fatalf("with credentials: %v", err)
	}
	bad := &pullthrough.Upstream{HTTP: hc, Host: host, Creds: &pullthrough.Credentials{Username: "alice", Password: "nope"}}
	if err := bad.Ping(ctx); !pullthrough.Denied(err) {
		t.Fatalf("bad credentials: %v", err)
	}
	anon := &pullthrough.Upstream{HTTP: hc, Host: host}
	if err := anon.Ping(ctx); !pullthrough.Denied(err) {
		t.Fatalf("no credentials: %v", err)
	}
	// Nothing listens: unreachable (the cache is served).
	down := &pullthrough.Upstream{HTTP: hc, Host: "127.0.0.1:1"}
	if err := down.Ping(ctx); !pullthrough.Unreachable(err) {
		t.Fatalf("down: %v", err)
	}
}
