package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/metadata"
)

// faultyDriver fails the n-th storage write (PutContent, a writer's
// creation, Write or Commit, Move, Delete) after it is armed: the one test
// where a wrapper stands in for a failing bucket, to reach every step.
type faultyDriver struct {
	storagedriver.StorageDriver
	mu     sync.Mutex
	armed  bool
	failAt int // 1-based index of the write to fail
	writes int
	failed bool
}

var errInjected = errors.New("injected storage failure")

func (d *faultyDriver) arm(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed, d.failAt, d.writes, d.failed = true, n, 0, false
}

func (d *faultyDriver) disarm() (failed bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed = false
	return d.failed
}

// write counts one storage write and reports whether it fails.
func (d *faultyDriver) write() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.armed {
		return nil
	}
	d.writes++
	if d.writes == d.failAt {
		d.failed = true
		return errInjected
	}
	return nil
}

func (d *faultyDriver) PutContent(ctx context.Context, p string, b []byte) error {
	if err := d.write(); err != nil {
		return err
	}
	return d.StorageDriver.PutContent(ctx, p, b)
}

func (d *faultyDriver) Writer(ctx context.Context, p string, appendMode bool) (storagedriver.FileWriter, error) {
	if err := d.write(); err != nil {
		return nil, err
	}
	w, err := d.StorageDriver.Writer(ctx, p, appendMode)
	if err != nil {
		return nil, err
	}
	return &faultyWriter{FileWriter: w, d: d}, nil
}

func (d *faultyDriver) Move(ctx context.Context, from, to string) error {
	if err := d.write(); err != nil {
		return err
	}
	return d.StorageDriver.Move(ctx, from, to)
}

func (d *faultyDriver) Delete(ctx context.Context, p string) error {
	if err := d.write(); err != nil {
		return err
	}
	return d.StorageDriver.Delete(ctx, p)
}

type faultyWriter struct {
	storagedriver.FileWriter
	d *faultyDriver
}

func (w *faultyWriter) Write(p []byte) (int, error) {
	if err := w.d.write(); err != nil {
		return 0, err
	}
	return w.FileWriter.Write(p)
}

func (w *faultyWriter) Commit(ctx context.Context) error {
	if err := w.d.write(); err != nil {
		return err
	}
	return w.FileWriter.Commit(ctx)
}

// TestStorageFaults fails each storage write of a push, a tag move and a
// delete in turn: whatever failed, the client got an honest answer (2xx
// only for what happened), /v2 and the store agree afterwards, everything
// listed pulls, and the operation succeeds when retried.
func TestStorageFaults(t *testing.T) {
	const repo, tag = "faults/app", "latest"
	type env struct {
		tr  *testRegistry
		st  metadata.Store
		drv *faultyDriver
		// old is an image pushed and tagged before the fault, new one
		// whose blobs are uploaded but whose manifest is not.
		old, new []byte
	}
	scenarios := []struct {
		name string
		run  func(e *env) response // the operation whose writes fail
		done func(e *env) bool     // whether its effect is visible
	}{
		{"push", func(e *env) response {
			// A whole push: config and layer uploads, then the manifest.
			cfg, layer := []byte(`{"architecture":"amd64","os":"linux"}`), []byte("layer pushed under faults")
			for _, blob := range [][]byte{cfg, layer} {
				if res := e.tr.tryPushBlob(repo, blob); res.code != http.StatusCreated {
					return res
				}
			}
			e.new = mustJSON(t, v1.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageManifest,
				Config: v1.Descriptor{MediaType: v1.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))},
				Layers: []v1.Descriptor{{MediaType: v1.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}}})
			return e.tr.putManifest(repo, "pushed", v1.MediaTypeImageManifest, e.new)
		}, func(e *env) bool {
			return e.tr.headManifest(repo, "pushed").header.Get("Docker-Content-Digest") == digest.FromBytes(e.new).String()
		}},
		{"tag move", func(e *env) response {
			return e.tr.putManifest(repo, tag, v1.MediaTypeImageManifest, e.new)
		}, func(e *env) bool {
			return e.tr.headManifest(repo, tag).header.Get("Docker-Content-Digest") == digest.FromBytes(e.new).String()
		}},
		{"delete", func(e *env) response {
			return e.tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/"+digest.FromBytes(e.old).String(), nil)
		}, func(e *env) bool {
			return e.tr.headManifest(repo, digest.FromBytes(e.old).String()).code == http.StatusNotFound
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			for n := 1; ; n++ {
				drv := &faultyDriver{StorageDriver: inmemory.New()}
				ts := startTestServer(t, AppOptions{Driver: drv, HTTPSecret: "faults", DeleteEnabled: true, PurgeAge: time.Hour})
				e := &env{tr: &testRegistry{t: t, url: ts.url, driver: drv}, st: ts.store, drv: drv}
				e.old = e.tr.image(repo, digest.SHA256, v1.MediaTypeImageConfig, "", nil, map[string]string{"old": "1"})
				if res := e.tr.putManifest(repo, tag, v1.MediaTypeImageManifest, e.old); res.code != http.StatusCreated {
					t.Fatalf("setup push: %d %s", res.code, res.body)
				}
				e.new = e.tr.image(repo, digest.SHA256, v1.MediaTypeImageConfig, "", nil, map[string]string{"new": "1"})

				drv.arm(n)
				res := sc.run(e)
				failed := drv.disarm()
				if !failed {
					if res.code >= 300 {
						t.Fatalf("without a fault: %d %s", res.code, res.body)
					}
					t.Logf("%s: %d storage writes, each failed in turn", sc.name, n-1)
					return
				}
				what := fmt.Sprintf("write %d failing", n)
				if res.code >= 200 && res.code < 300 && !sc.done(e) {
					t.Fatalf("%s: answered %d but the %s did not happen", what, res.code, sc.name)
				}
				if res.code >= 400 && res.code < 500 {
					t.Fatalf("%s: a storage failure answered as the client's mistake: %d %s", what, res.code, res.body)
				}
				viewsAgree(t, what, e.tr, e.st, repo)
				if res.code >= 300 {
					// Retried once storage works again: it goes through.
					if res := sc.run(e); res.code >= 300 && !(sc.name == "delete" && res.code == http.StatusNotFound) {
						t.Fatalf("%s: the retry answered %d %s", what, res.code, res.body)
					}
					if !sc.done(e) {
						t.Fatalf("%s: the retry did not %s", what, sc.name)
					}
					viewsAgree(t, what+", after the retry", e.tr, e.st, repo)
				}
			}
		})
	}
}

// viewsAgree checks /v2 against the store: every tag resolves to the same
// image both ways, tags/list is the store's list, and every image the
// store lists pulls (manifest and blobs).
func viewsAgree(t *testing.T, what string, tr *testRegistry, st metadata.Store, repo string) {
	t.Helper()
	ctx := context.Background()
	tags, _, err := st.ListTags(ctx, testReg, repo, metadata.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	res := tr.do(http.MethodGet, "/v2/"+repo+"/tags/list", nil)
	var list struct{ Tags []string }
	if res.code != http.StatusOK || jsonUnmarshal(res.body, &list) != nil || !slices.Equal(list.Tags, tags) {
		t.Fatalf("%s: tags/list %d %s, the store has %v", what, res.code, res.body, tags)
	}
	for _, tg := range tags {
		d, err := st.ResolveTag(ctx, testReg, repo, tg)
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.headManifest(repo, tg).header.Get("Docker-Content-Digest"); got != d {
			t.Fatalf("%s: /v2 says %s:%s is %q, the store %s", what, repo, tg, got, d)
		}
	}
	imgs, _, err := st.ListImages(ctx, testReg, repo, metadata.TagAny, metadata.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		res := tr.do(http.MethodGet, "/v2/"+repo+"/manifests/"+img.Digest, nil, "Accept", v1.MediaTypeImageManifest)
		if res.code != http.StatusOK {
			t.Fatalf("%s: the store lists %s, GET answers %d %s", what, img.Digest, res.code, res.body)
		}
		for _, b := range img.Blobs {
			if res := tr.do(http.MethodGet, "/v2/"+repo+"/blobs/"+b, nil); res.code != http.StatusOK {
				t.Fatalf("%s: blob %s of listed %s: %d", what, b, img.Digest, res.code)
			}
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// tryPushBlob uploads content (POST, PUT ?digest=) and returns the first
// answer that is not a success, or the PUT's.
func (tr *testRegistry) tryPushBlob(repo string, content []byte) response {
	tr.t.Helper()
	start := tr.do(http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil)
	if start.code != http.StatusAccepted {
		return start
	}
	loc, err := url.Parse(start.header.Get("Location"))
	if err != nil {
		tr.t.Fatal(err)
	}
	q := loc.Query()
	q.Set("digest", digest.FromBytes(content).String())
	loc.RawQuery = q.Encode()
	return tr.do(http.MethodPut, loc.String(), content, "Content-Type", "application/octet-stream")
}
