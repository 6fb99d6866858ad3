package node

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/berth-registry/berth/metrics"
)

// TestMainMux: health, readiness with its reason, metrics, the registry
// and the API where they belong, and never distribution's debug handlers.
func TestMainMux(t *testing.T) {
	var down error
	v2 := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "registry") })
	api := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "api") })
	ts := httptest.NewServer(mainMux(v2, api, func(context.Context) error { return down }, metrics.New("t")))
	defer ts.Close()
	get := func(method, p string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/healthz", 200, `"ok"`},
		{"GET", "/readyz", 200, `"ok"`},
		{"GET", "/v2/x/manifests/y", 200, "registry"},
		{"POST", "/", 200, "api"},
		{"GET", "/?Action=GetCallerIdentity&Version=2011-06-15", 200, "api"},
		{"GET", "/metrics", 200, "go_goroutines"},
		// distribution registers debug handlers on http.DefaultServeMux;
		// berth must never serve them.
		{"GET", "/debug/vars", 404, ""},
		{"GET", "/debug/pprof/", 404, ""},
	} {
		if code, body := get(c.method, c.path); code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, code, body, c.code, c.body)
		}
	}
	down = errors.New("bucket unreachable")
	if code, body := get("GET", "/readyz"); code != 503 || !strings.Contains(body, "bucket unreachable") {
		t.Fatalf("/readyz down: %d %s", code, body)
	}
}
