package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// newTestBackend is an ECRBackend over a real Server (gate, edge, App,
// metadata middleware) on an in-memory driver; repos are created in its
// store.
func newTestBackend(t *testing.T, deleteEnabled bool, repos ...string) (*ECRBackend, *inmemory.Driver) {
	t.Helper()
	drv := inmemory.New()
	ts := startTestServer(t, AppOptions{Driver: drv, HTTPSecret: "backend-test", DeleteEnabled: deleteEnabled, PurgeAge: time.Hour})
	for _, r := range repos {
		if _, err := ts.store.CreateRepository(context.Background(), metadata.Repository{RegistryID: testReg, Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	signer := &BlobURLSigner{Key: []byte("0123456789abcdef0123456789abcdef")}
	return ts.srv.ECRBackend(signer, "https://registry.example/"), drv
}

// pushBlob uploads data in parts of at most part bytes.
func pushBlob(t *testing.T, b *ECRBackend, repo string, data []byte, part int) string {
	t.Helper()
	ctx := context.Background()
	id, err := b.InitiateUpload(ctx, testReg, repo)
	if err != nil {
		t.Fatalf("InitiateUpload: %v", err)
	}
	for off := 0; off < len(data); off += part {
		end := min(off+part, len(data))
		last, err := b.UploadPart(ctx, testReg, repo, id, int64(off), data[off:end])
		if err != nil {
			t.Fatalf("UploadPart %d-%d: %v", off, end-1, err)
		}
		if last != int64(end-1) {
			t.Fatalf("UploadPart %d-%d: last = %d", off, end-1, last)
		}
	}
	d := digest.FromBytes(data).String()
	if err := b.CompleteUpload(ctx, testReg, repo, id, d); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	return d
}

func ociManifest(t *testing.T, config string, layers ...string) []byte {
	t.Helper()
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     v1.MediaTypeImageManifest,
		"config":        map[string]any{"mediaType": v1.MediaTypeImageConfig, "digest": config, "size": 2},
	}
	var ls []map[string]any
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": v1.MediaTypeImageLayerGzip, "digest": l, "size": 3})
	}
	m["layers"] = ls
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ociIndex lists manifests, each given by its body (or, for one that is
// not there, by a digest string).
func ociIndex(t *testing.T, children ...any) []byte {
	t.Helper()
	var ms []map[string]any
	for _, c := range children {
		d, size := "", 100
		switch c := c.(type) {
		case []byte:
			d, size = digest.FromBytes(c).String(), len(c)
		case string:
			d = c
		}
		ms = append(ms, map[string]any{"mediaType": v1.MediaTypeImageManifest, "digest": d, "size": size,
			"platform": map[string]string{"os": "linux", "architecture": "amd64"}})
	}
	b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": v1.MediaTypeImageIndex, "manifests": ms})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestECRBackendManifestsAndBlobs(t *testing.T) {
	b, _ := newTestBackend(t, true, "team/app")
	ctx := context.Background()
	const repo = "team/app"
	cfg := pushBlob(t, b, repo, []byte("{}"), 1)
	layer := pushBlob(t, b, repo, []byte("abc"), 2)

	if n, err := b.StatBlob(ctx, testReg, repo, layer); err != nil || n != 3 {
		t.Fatalf("StatBlob = %d, %v", n, err)
	}
	if _, err := b.StatBlob(ctx, testReg, repo, digest.FromString("nope").String()); !errors.Is(err, ecrmodel.ErrBlobUnknown) {
		t.Fatalf("StatBlob of a missing blob: %v", err)
	}

	body := ociManifest(t, cfg, layer)
	d, err := b.PutManifest(ctx, testReg, repo, "v1", "", body)
	if err != nil {
		t.Fatalf("PutManifest: %v", err)
	}
	if d != digest.FromBytes(body).String() {
		t.Fatalf("digest %s", d)
	}
	for _, ref := range []string{"v1", d} {
		m, err := b.GetManifest(ctx, testReg, repo, ref, nil)
		if err != nil || m.Digest != d || m.MediaType != v1.MediaTypeImageManifest || string(m.Body) != string(body) {
			t.Fatalf("GetManifest %s = %+v, %v", ref, m, err)
		}
	}
	if _, err := b.GetManifest(ctx, testReg, repo, "v1", []string{"application/vnd.docker.distribution.manifest.v2+json"}); !errors.Is(err, ecrmodel.ErrMediaTypeNotAccepted) {
		t.Fatalf("GetManifest with a foreign accept list: %v", err)
	}
	if _, err := b.GetManifest(ctx, testReg, repo, "v1", []string{"application/*"}); err != nil {
		t.Fatalf("GetManifest accepting application/*: %v", err)
	}
	if _, err := b.GetManifest(ctx, testReg, repo, "v2", nil); !errors.Is(err, ecrmodel.ErrManifestUnknown) {
		t.Fatalf("GetManifest of an unknown tag: %v", err)
	}

	// By digest, with the media type left to the body.
	idx := ociIndex(t, body)
	if got, err := b.PutManifest(ctx, testReg, repo, "", "", idx); err != nil || got != digest.FromBytes(idx).String() {
		t.Fatalf("PutManifest index = %s, %v", got, err)
	}

	// Failures: TestPutErrors.

	u, err := b.DownloadURL(ctx, testReg, repo, layer)
	if err != nil || !strings.HasPrefix(u, "https://registry.example/v2/"+repo+"/blobs/"+layer+"?") {
		t.Fatalf("DownloadURL = %s, %v", u, err)
	}
	pu, _ := url.Parse(u)
	r := httptest.NewRequest("GET", pu.RequestURI(), nil)
	if !b.urls.Verify(r, testReg, repo, layer) {
		t.Fatal("the download URL does not verify")
	}
}

func TestECRBackendUploads(t *testing.T) {
	b, _ := newTestBackend(t, true, "uploads")
	ctx := context.Background()
	const repo = "uploads"

	id, err := b.InitiateUpload(ctx, testReg, repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CompleteUpload(ctx, testReg, repo, id, digest.FromString("").String()); !errors.Is(err, ecrmodel.ErrEmptyUpload) {
		t.Fatalf("completing an empty upload: %v", err)
	}
	// One byte: the Range header says "0-0" as for none; the state
	// token tells them apart.
	if last, err := b.UploadPart(ctx, testReg, repo, id, 0, []byte("x")); err != nil || last != 0 {
		t.Fatalf("first part: %d, %v", last, err)
	}
	for _, first := range []int64{0, 5, -1} {
		var pe *ecrmodel.PartError
		if _, err := b.UploadPart(ctx, testReg, repo, id, first, []byte("y")); !errors.As(err, &pe) || pe.LastValidByte != 0 {
			t.Fatalf("part at %d: %v, want PartError{0}", first, err)
		}
	}
	if last, err := b.UploadPart(ctx, testReg, repo, id, 1, []byte("yz")); err != nil || last != 2 {
		t.Fatalf("second part: %d, %v", last, err)
	}
	if err := b.CompleteUpload(ctx, testReg, repo, id, digest.FromString("other").String()); !errors.Is(err, ecrmodel.ErrDigestMismatch) {
		t.Fatalf("completing with a wrong digest: %v", err)
	}

	unknown := "6f1d6a5e-8a44-4b1e-9a53-1c2b3d4e5f60"
	if _, err := b.UploadPart(ctx, testReg, repo, unknown, 0, []byte("x")); !errors.Is(err, ecrmodel.ErrUploadUnknown) {
		t.Fatalf("part of an unknown upload: %v", err)
	}
	if err := b.CompleteUpload(ctx, testReg, repo, unknown, digest.FromString("x").String()); !errors.Is(err, ecrmodel.ErrUploadUnknown) {
		t.Fatalf("completing an unknown upload: %v", err)
	}

	// An upload continues from the state in storage alone: a second
	// backend (another node) finishes what the first started.
	id, err = b.InitiateUpload(ctx, testReg, repo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.UploadPart(ctx, testReg, repo, id, 0, []byte("hello ")); err != nil {
		t.Fatal(err)
	}
	meta2, err := NewMeta(b.meta.store, b.driver, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := &ECRBackend{meta: meta2, urls: b.urls, publicBase: b.publicBase, driver: b.driver}
	if _, err := other.UploadPart(ctx, testReg, repo, id, 6, []byte("world")); err != nil {
		t.Fatal(err)
	}
	d := digest.FromString("hello world").String()
	if err := other.CompleteUpload(ctx, testReg, repo, id, d); err != nil {
		t.Fatal(err)
	}
	if n, err := b.StatBlob(ctx, testReg, repo, d); err != nil || n != 11 {
		t.Fatalf("StatBlob = %d, %v", n, err)
	}
}

// TestECRBackendDeletes: the store decides, storage links follow, with
// client DELETE enabled or not (in-process deletes never need it).
func TestECRBackendDeletes(t *testing.T) {
	for _, enabled := range []bool{true, false} {
		t.Run(fmt.Sprintf("delete enabled %v", enabled), func(t *testing.T) {
			const repo = "del/repo"
			b, drv := newTestBackend(t, enabled, repo)
			ctx := context.Background()
			cfg := pushBlob(t, b, repo, []byte("{}"), 2)
			d, err := b.PutManifest(ctx, testReg, repo, "a", "", ociManifest(t, cfg))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.PutManifest(ctx, testReg, repo, "b", "", ociManifest(t, cfg)); err != nil {
				t.Fatal(err)
			}
			if err := b.DeleteManifest(ctx, testReg, repo, d, true); !metadata.Is(err, metadata.Changed) {
				t.Fatalf("DeleteManifest of a tagged image, if untagged: %v", err)
			}
			if err := b.DeleteManifest(ctx, testReg, repo, d, false); err != nil {
				t.Fatalf("DeleteManifest: %v", err)
			}
			for _, tag := range []string{"a", "b"} {
				if _, err := b.GetManifest(ctx, testReg, repo, tag, nil); !errors.Is(err, ecrmodel.ErrManifestUnknown) {
					t.Fatalf("tag %s after DeleteManifest: %v", tag, err)
				}
			}
			link := path.Join(repositoriesRoot, repo, "_manifests/revisions/sha256", digest.Digest(d).Encoded(), "link")
			if _, err := drv.Stat(ctx, link); !isPathNotFound(err) {
				t.Fatalf("revision link after DeleteManifest: %v", err)
			}
			if err := b.DeleteManifest(ctx, testReg, repo, digest.FromString("none").String(), false); !errors.Is(err, ecrmodel.ErrManifestUnknown) {
				t.Fatalf("DeleteManifest of a missing manifest: %v", err)
			}

			if err := b.DeleteRepository(ctx, testReg, repo); err != nil {
				t.Fatalf("DeleteRepository: %v", err)
			}
			if _, err := drv.Stat(ctx, path.Join(repositoriesRoot, repo)); !isPathNotFound(err) {
				t.Fatalf("repository directory after DeleteRepository: %v", err)
			}
			if err := b.DeleteRepository(ctx, testReg, repo); err != nil {
				t.Fatalf("DeleteRepository again: %v", err)
			}
			if err := b.DeleteRepository(ctx, testReg, "../escape"); !errors.Is(err, ecrmodel.ErrRepositoryUnknown) {
				t.Fatalf("DeleteRepository of a bad name: %v", err)
			}
		})
	}
}

// TestPutErrors: what a manifest put fails with becomes ecrmodel's typed
// errors, never wording to parse.
func TestPutErrors(t *testing.T) {
	b, _ := newTestBackend(t, true, "errs", "other")
	ctx := context.Background()
	cfg := pushBlob(t, b, "errs", []byte("{}"), 2)
	missing := digest.FromString("missing").String()
	var unknown *ecrmodel.ManifestRefsUnknownError
	_, err := b.PutManifest(ctx, testReg, "errs", "x", "", ociManifest(t, cfg, missing))
	if !errors.As(err, &unknown) || unknown.Children || len(unknown.Digests) != 1 || unknown.Digests[0] != missing {
		t.Fatalf("missing layer: %v", err)
	}
	_, err = b.PutManifest(ctx, testReg, "errs", "x", "", ociIndex(t, missing))
	if !errors.As(err, &unknown) || !unknown.Children {
		t.Fatalf("missing child: %v", err)
	}
	var invalid *ecrmodel.ManifestInvalidError
	for _, body := range []string{`null`, `{"schemaVersion":1}`, `{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "config": 7}`} {
		if _, err := b.PutManifest(ctx, testReg, "errs", "x", "", []byte(body)); !errors.As(err, &invalid) {
			t.Errorf("%s: %v, want ManifestInvalidError", body, err)
		}
	}
	// A blob pushed to another repository is not this one's to reference.
	if _, err := b.PutManifest(ctx, testReg, "other", "x", "", ociManifest(t, cfg)); !errors.As(err, &unknown) || unknown.Digests[0] != cfg {
		t.Fatalf("blob of another repository: %v", err)
	}
}
