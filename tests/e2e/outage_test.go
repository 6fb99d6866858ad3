package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestMinIOOutage stops MinIO in the middle of a push: the requests that
// need storage fail with a clean 5xx and a registry error body, /readyz says
// 503, nothing half-written becomes visible, and after MinIO is back the
// whole push, retried, succeeds and pulls back identical. It runs on a MinIO
// of its own.
func TestMinIOOutage(t *testing.T) {
	t.Parallel()
	m := testenv.StartMinIO(t)
	b := testenv.StartBerth(t, testenv.BerthOptions{Storage: m.S3Storage(newBucket(t, m), "berth")})
	watchLog(t, b)
	a := newAPI(t, b)
	const repo = "e2e/outage"

	layer := randBytes(t, 3<<20)
	dg := digestOf(layer)
	half := len(layer) / 2

	loc := a.startUpload(repo)
	loc, r := a.patch(loc, layer[:half], 0)
	a.expect(r, "PATCH before the outage", http.StatusAccepted)

	m.Stop()
	stopped := time.Now()
	if r := a.do("GET", "/readyz", nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz while MinIO is down: want 503, got %s", r)
	}
	next, r := a.patch(loc, layer[half:], half)
	expect5xx(t, "PATCH while MinIO is down", r)
	if next != "" {
		loc = next
	}
	r = a.do("PUT", withQuery(loc, "digest", dg), nil)
	expect5xx(t, "PUT (complete upload) while MinIO is down", r)
	if s := a.headStatus("/v2/" + repo + "/blobs/" + dg); s == http.StatusOK {
		t.Errorf("HEAD blob while MinIO is down: 200; the upload must not be visible")
	}
	t.Logf("requests during the outage took %s", time.Since(stopped).Round(time.Millisecond))

	m.Start()
	waitReady(t, a)
	a.expectNoBlob(repo, dg)
	a.expectNoManifest(repo, "v1")

	// The whole push again, from a new upload.
	mdg, manifest := a.pushImage(repo, "v1", layer, "application/octet-stream", 2)
	sameBytes(t, "layer after the outage", a.getBlob(repo, dg), layer)
	sameBytes(t, "manifest after the outage", a.do("GET", "/v2/"+repo+"/manifests/v1", nil, "Accept", mtOCIManifest).body, manifest)
	if got := a.do("HEAD", "/v2/"+repo+"/manifests/v1", nil, "Accept", mtOCIManifest).header.Get("Docker-Content-Digest"); got != mdg {
		t.Errorf("manifest digest %q, want %s", got, mdg)
	}
}
