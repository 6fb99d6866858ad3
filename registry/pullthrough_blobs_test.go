package registry

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMissWriter: the cache's 200 goes through with its headers and body;
// its 404 is kept back (the upstream answers instead) and can be replayed.
func TestMissWriter(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("X-Request-Id", "r1")
	mw := &missWriter{w: rec, h: rec.Header().Clone()}
	mw.Header().Set("Docker-Content-Digest", "sha256:aa")
	_, _ = mw.ReadFrom(strings.NewReader("blob bytes"))
	if mw.miss || rec.Code != http.StatusOK || rec.Body.String() != "blob bytes" ||
		rec.Header().Get("Docker-Content-Digest") != "sha256:aa" || rec.Header().Get("X-Request-Id") != "r1" {
		t.Fatalf("hit: miss=%v %d %q %v", mw.miss, rec.Code, rec.Body.String(), rec.Header())
	}

	rec = httptest.NewRecorder()
	mw = &missWriter{w: rec, h: rec.Header().Clone()}
	mw.Header().Set("Content-Type", "application/json")
	mw.WriteHeader(http.StatusNotFound)
	_, _ = mw.Write([]byte(`{"errors":[{"code":"BLOB_UNKNOWN"}]}`))
	if !mw.miss || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
		t.Fatalf("miss leaked: miss=%v %q %v", mw.miss, rec.Body.String(), rec.Header())
	}
	mw.replay()
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "BLOB_UNKNOWN") || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("replay: %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
}
