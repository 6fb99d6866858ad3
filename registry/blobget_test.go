package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
)

// writeToDriver counts the blob readers whose WriteTo was used: the edge's
// own blob GET takes it, the App's fileReader never does.
// With failBody set, a blob's reader opens but its first read fails (the
// store went away after answering the GET's headers).
type writeToDriver struct {
	storagedriver.StorageDriver
	writeTos atomic.Int32
	failBody atomic.Bool
}

func (d *writeToDriver) Reader(ctx context.Context, p string, off int64) (io.ReadCloser, error) {
	rc, err := d.StorageDriver.Reader(ctx, p, off)
	if err != nil || !strings.HasSuffix(p, "/data") {
		return rc, err
	}
	return &writeToReader{ReadCloser: rc, n: &d.writeTos, fail: d.failBody.Load()}, nil
}

type writeToReader struct {
	io.ReadCloser
	n    *atomic.Int32
	fail bool
}

var errBodyLost = errors.New("injected: connection to storage lost")

func (r *writeToReader) Read(p []byte) (int, error) {
	if r.fail {
		return 0, errBodyLost
	}
	return r.ReadCloser.Read(p)
}

func (r *writeToReader) WriteTo(w io.Writer) (int64, error) {
	r.n.Add(1)
	if r.fail {
		return 0, errBodyLost
	}
	return io.Copy(w, struct{ io.Reader }{r.ReadCloser})
}

// TestBlobGetDirect: a plain blob GET is served by the edge straight from
// the driver's reader, with the App's exact status, headers and bytes; a
// conditional or ranged GET, a HEAD and an unknown blob still go to the App.
func TestBlobGetDirect(t *testing.T) {
	drv := &writeToDriver{StorageDriver: inmemory.New()}
	ts := startTestServer(t, AppOptions{Driver: drv, HTTPSecret: "blobs", PurgeAge: time.Hour})
	tr := &testRegistry{t: t, url: ts.url, driver: drv}
	const repo = "blobs/direct"
	blob := make([]byte, 2*blobWriteSize+777)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(blob)
	dg := tr.pushBlob(repo, blob, digest.SHA256)
	path := "/v2/" + repo + "/blobs/" + dg.String()

	direct := tr.do(http.MethodGet, path, nil)
	if direct.code != http.StatusOK || !bytes.Equal(direct.body, blob) {
		t.Fatalf("GET: %d, %d bytes, want 200 and the %d bytes pushed", direct.code, len(direct.body), len(blob))
	}
	if n := drv.writeTos.Load(); n != 1 {
		t.Fatalf("plain GET: the edge served %d bodies, want 1 (not the App)", n)
	}
	// An If-None-Match that does not match makes the App serve the same 200.
	app := tr.do(http.MethodGet, path, nil, "If-None-Match", `"sha256:other"`)
	if app.code != http.StatusOK || !bytes.Equal(app.body, blob) {
		t.Fatalf("GET through the App: %d, %d bytes", app.code, len(app.body))
	}
	if n := drv.writeTos.Load(); n != 1 {
		t.Fatalf("conditional GET went to the edge's own path")
	}
	for _, h := range []string{"Content-Length", "Content-Type", "Docker-Content-Digest", "Etag", "Cache-Control",
		"Accept-Ranges", "Docker-Distribution-Api-Version", "Last-Modified", "Content-Range"} {
		if got, want := direct.header.Values(h), app.header.Values(h); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("header %s: edge %q, App %q", h, got, want)
		}
	}
	if len(direct.header) != len(app.header) {
		t.Errorf("headers: edge %v, App %v", direct.header, app.header)
	}

	if res := tr.do(http.MethodGet, path, nil, "If-None-Match", `"`+dg.String()+`"`); res.code != http.StatusNotModified {
		t.Errorf("If-None-Match with the digest: %d, want 304", res.code)
	}
	if res := tr.do(http.MethodGet, path, nil, "Range", "bytes=10-19"); res.code != http.StatusPartialContent ||
		!bytes.Equal(res.body, blob[10:20]) {
		t.Errorf("ranged GET: %d %q", res.code, res.body)
	}
	if res := tr.do(http.MethodHead, path, nil); res.code != http.StatusOK || res.header.Get("Content-Length") != direct.header.Get("Content-Length") {
		t.Errorf("HEAD: %d, Content-Length %q", res.code, res.header.Get("Content-Length"))
	}
	other := digest.FromString("not pushed")
	if res := tr.do(http.MethodGet, "/v2/"+repo+"/blobs/"+other.String(), nil); res.code != http.StatusNotFound || res.errCode() != "BLOB_UNKNOWN" {
		t.Errorf("unknown blob: %d %s, want 404 BLOB_UNKNOWN", res.code, res.body)
	}
	if n := drv.writeTos.Load(); n != 1 {
		t.Errorf("%d bodies served by the edge, want only the plain GET's", n)
	}

	// The body fails before its first byte: 503 UNAVAILABLE, not a 200
	// without a body.
	drv.failBody.Store(true)
	if res := tr.do(http.MethodGet, path, nil); res.code != http.StatusServiceUnavailable || res.errCode() != "UNAVAILABLE" {
		t.Errorf("GET with a failing body: %d %s, want 503 UNAVAILABLE", res.code, res.body)
	}
	if n := drv.writeTos.Load(); n != 2 {
		t.Errorf("the failing GET was not the edge's (%d bodies)", n)
	}
}
