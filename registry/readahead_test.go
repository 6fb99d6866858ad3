package registry

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestReadAheadBody(t *testing.T) {
	data := make([]byte, 3*uploadReadSize+17)
	_, _ = rand.Read(data)
	r := httptest.NewRequest(http.MethodPatch, "/v2/a/blobs/uploads/x", bytes.NewReader(data))
	release := readAhead(r)
	got, err := io.ReadAll(r.Body)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d of %d bytes: %v", len(got), len(data), err)
	}
	release()
	if _, err := r.Body.Read(make([]byte, 1)); !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Fatalf("read after release: %v", err)
	}
	if err := r.Body.Close(); err != nil {
		t.Fatal(err)
	}
	// Beyond the slots, bodies are read as they are.
	var releases []func()
	for range readAheadUploads {
		r := httptest.NewRequest(http.MethodPatch, "/v2/a/blobs/uploads/x", bytes.NewReader(data))
		releases = append(releases, readAhead(r))
		if _, ok := r.Body.(*readAheadBody); !ok {
			t.Fatalf("body %T with a slot free", r.Body)
		}
	}
	r = httptest.NewRequest(http.MethodPatch, "/v2/a/blobs/uploads/x", bytes.NewReader(data))
	readAhead(r)()
	if _, ok := r.Body.(*readAheadBody); ok {
		t.Fatal("a body read ahead beyond the slots")
	}
	for _, release := range releases {
		release()
	}
	// No body: nothing to wrap.
	r = httptest.NewRequest(http.MethodPut, "/v2/a/blobs/uploads/x", nil)
	readAhead(r)()
	if r.Body != http.NoBody {
		t.Fatalf("body %T, want http.NoBody", r.Body)
	}
}
