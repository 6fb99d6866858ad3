package pullthrough_test

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth/pullthrough"
)

// TestHTTPClientSpeaksHTTP1: blobs stream from an upstream offering
// HTTP/2 over HTTP/1.1 (Go's HTTP/2 client moves bulk bytes at about
// half the rate for more CPU), trusting the configured CA file.
func TestHTTPClientSpeaksHTTP1(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Proto))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	// The server does speak HTTP/2 to a client that asks for it.
	if resp, err := srv.Client().Get(srv.URL); err != nil || resp.ProtoMajor != 2 {
		t.Fatalf("test server: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	hc, err := pullthrough.NewHTTPClient(ca)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 1 {
		t.Fatalf("upstream reached over %s, want HTTP/1.1", resp.Proto)
	}
}
