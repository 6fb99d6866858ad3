package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
)

// readFaultDriver fails blob reads while failReads is set: opening the
// reader (as an unreachable bucket does), not the Stat before it.
type readFaultDriver struct {
	storagedriver.StorageDriver
	failReads atomic.Bool
}

func (d *readFaultDriver) Reader(ctx context.Context, p string, off int64) (io.ReadCloser, error) {
	if d.failReads.Load() && strings.HasSuffix(p, "/data") {
		return nil, errors.New("injected: storage unreachable")
	}
	return d.StorageDriver.Reader(ctx, p, off)
}

// TestBlobGetBody: a blob GET sends the exact bytes (whole and ranged)
// through the gathering writer, and a storage failure before the first byte
// is a 503 UNAVAILABLE with a registry error, not a 200 without a body.
func TestBlobGetBody(t *testing.T) {
	drv := &readFaultDriver{StorageDriver: inmemory.New()}
	ts := startTestServer(t, AppOptions{Driver: drv, HTTPSecret: "blobs", PurgeAge: time.Hour})
	tr := &testRegistry{t: t, url: ts.url, driver: drv}
	const repo = "blobs/app"
	blob := make([]byte, 3*blobWriteSize+12345)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	dg := tr.pushBlob(repo, blob, digest.SHA256)
	path := "/v2/" + repo + "/blobs/" + dg.String()

	res := tr.do(http.MethodGet, path, nil)
	if res.code != http.StatusOK || !bytes.Equal(res.body, blob) {
		t.Fatalf("GET: %d, %d bytes, want 200 and the %d bytes pushed", res.code, len(res.body), len(blob))
	}
	res = tr.do(http.MethodGet, path, nil, "Range", "bytes=1000-"+strconv.Itoa(blobWriteSize+999))
	if res.code != http.StatusPartialContent || !bytes.Equal(res.body, blob[1000:blobWriteSize+1000]) {
		t.Fatalf("ranged GET: %d, %d bytes, want 206 and bytes 1000..%d", res.code, len(res.body), blobWriteSize+999)
	}

	drv.failReads.Store(true)
	res = tr.do(http.MethodGet, path, nil)
	if res.code != http.StatusServiceUnavailable || res.errCode() != "UNAVAILABLE" {
		t.Fatalf("GET while storage fails: %d %s, want 503 UNAVAILABLE", res.code, res.body)
	}
	if res := tr.do(http.MethodHead, path, nil); res.code != http.StatusOK {
		t.Fatalf("HEAD while reads fail: %d, want 200 (it reads no body)", res.code)
	}
	drv.failReads.Store(false)
	if res := tr.do(http.MethodGet, path, nil); res.code != http.StatusOK || !bytes.Equal(res.body, blob) {
		t.Fatalf("GET after storage is back: %d, %d bytes", res.code, len(res.body))
	}
}
