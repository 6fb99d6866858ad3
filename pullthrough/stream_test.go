package pullthrough_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// memLocal is a cache repository in memory; PutBlob commits only bytes
// that are their digest, as berth's push path does.
type memLocal struct {
	mu        sync.Mutex
	blobs     map[string][]byte
	manifests map[string]string // ref → digest
}

func newMemLocal() *memLocal {
	return &memLocal{blobs: map[string][]byte{}, manifests: map[string]string{}}
}

func (l *memLocal) ManifestDigest(_ context.Context, ref string) (string, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d, ok := l.manifests[ref]
	return d, ok, nil
}

func (l *memLocal) HasBlob(_ context.Context, d string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.blobs[d]
	return ok, nil
}

func (l *memLocal) PutBlob(_ context.Context, d string, _ int64, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	if digestOf(b) != d {
		return errors.New("digest mismatch")
	}
	l.mu.Lock()
	l.blobs[d] = b
	l.mu.Unlock()
	return nil
}

func (l *memLocal) PutManifest(_ context.Context, ref, _ string, body []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.manifests[ref] = digestOf(body)
	l.manifests[digestOf(body)] = digestOf(body)
	return nil
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type memChecks struct{}

func (memChecks) TagCheckedAt(context.Context, string, string, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (memChecks) MarkTagChecked(context.Context, string, string, string, time.Time) error { return nil }

// fakeUpstream serves one image over TLS: blob bytes go out in two
// halves, the second once hold is closed (or at once when nil); corrupt
// flips a byte of the second half.
type fakeUpstream struct {
	manifest []byte
	blobs    map[string][]byte
	hold     chan struct{}
	corrupt  bool
	gets     atomic.Int32
}

func (f *fakeUpstream) start(t *testing.T) (*pullthrough.Importer, pullthrough.Target) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Docker-Content-Digest", digestOf(f.manifest))
			_, _ = w.Write(f.manifest)
		case strings.Contains(r.URL.Path, "/blobs/"):
			b, ok := f.blobs[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			if r.Method == http.MethodHead {
				return
			}
			f.gets.Add(1)
			half := len(b) / 2
			_, _ = w.Write(b[:half])
			w.(http.Flusher).Flush()
			if f.hold != nil {
				<-f.hold
			}
			rest := bytes.Clone(b[half:])
			if f.corrupt {
				rest[0] ^= 0xff
			}
			_, _ = w.Write(rest)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	im := &pullthrough.Importer{Upstreams: &pullthrough.Upstreams{HTTP: hc}, Checks: memChecks{}, Grace: 10 * time.Millisecond}
	t.Cleanup(im.Close)
	host := strings.TrimPrefix(srv.URL, "https://")
	return im, pullthrough.Target{RegistryID: reg, Repo: "hub/lib/app", Upstream: "lib/app",
		Rule: metadata.PullThroughRule{RegistryID: reg, Prefix: "hub", UpstreamURL: host}}
}

func randBlob(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}

// serveBlob is the /v2 edge's use of ServeBlob.
func serveBlob(t *testing.T, im *pullthrough.Importer, tg pullthrough.Target, local pullthrough.Local, dgst string) (*httptest.Server, chan error) {
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := im.ServeBlob(r.Context(), tg, dgst, local, w)
		done <- err
		if pullthrough.Broken(err) {
			panic(http.ErrAbortHandler)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, done
}

func TestServeBlobStreamsWhileStoring(t *testing.T) {
	blob := randBlob(2 << 20)
	d := digestOf(blob)
	up := &fakeUpstream{blobs: map[string][]byte{d: blob}, hold: make(chan struct{})}
	im, tg := up.start(t)
	local := newMemLocal()
	srv, done := serveBlob(t, im, tg, local, d)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != d || resp.ContentLength != int64(len(blob)) {
		t.Fatalf("answer: %s %v", resp.Status, resp.Header)
	}
	// The first bytes arrive while the upstream still holds back half.
	first := make([]byte, 256<<10)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	if ok, _ := local.HasBlob(context.Background(), d); ok {
		t.Fatal("stored before the upstream finished")
	}
	close(up.hold)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(first, rest...), blob) {
		t.Fatal("streamed bytes differ from the upstream's")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitStored(t, local, d)
	if n := up.gets.Load(); n != 1 {
		t.Fatalf("stored after %d upstream GETs, want 1", n)
	}
}

// waitStored waits for the store ServeBlob leaves running in the
// background to commit d.
func waitStored(t *testing.T, local pullthrough.Local, d string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if ok, _ := local.HasBlob(context.Background(), d); ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not stored", d)
		}
	}
}

func TestServeBlobWrongBytesStoreNothing(t *testing.T) {
	blob := randBlob(1 << 20)
	d := digestOf(blob)
	up := &fakeUpstream{blobs: map[string][]byte{d: blob}, corrupt: true}
	im, tg := up.start(t)
	local := newMemLocal()
	srv, done := serveBlob(t, im, tg, local, d)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Fatalf("client read %d bytes of a corrupted blob without an error", len(got))
	}
	if err := <-done; !pullthrough.Broken(err) {
		t.Fatalf("ServeBlob: %v, want a broken stream", err)
	}
	im.Close() // waits for the store ServeBlob left running
	if ok, _ := local.HasBlob(context.Background(), d); ok {
		t.Fatal("corrupted blob stored")
	}
}

func TestEnsureManifestAnswersBeforeImport(t *testing.T) {
	blob := randBlob(1 << 20)
	d := digestOf(blob)
	cfg := []byte(`{}`)
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"digest":%q,"size":2},"layers":[{"digest":%q,"size":%d}]}`, digestOf(cfg), d, len(blob)))
	up := &fakeUpstream{manifest: manifest, blobs: map[string][]byte{d: blob, digestOf(cfg): cfg}, hold: make(chan struct{})}
	im, tg := up.start(t)
	local := newMemLocal()
	ctx := context.Background()
	m, err := im.EnsureManifest(ctx, tg, "v1", local, func() error { return nil })
	if err != nil || m == nil || !bytes.Equal(m.Body, manifest) || m.Digest != digestOf(manifest) {
		t.Fatalf("EnsureManifest: %+v %v", m, err)
	}
	if n := up.gets.Load(); n != 0 {
		t.Fatalf("%d blobs fetched before the manifest was answered", n)
	}
	// A second pull during the import: the same bytes, no second import.
	if m2, err := im.EnsureManifest(ctx, tg, "v1", local, func() error { return nil }); err != nil || m2 == nil || m2.Digest != m.Digest {
		t.Fatalf("second pull: %+v %v", m2, err)
	}
	close(up.hold)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if dg, ok, _ := local.ManifestDigest(ctx, "v1"); ok && dg == m.Digest {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background import did not store the image")
		}
	}
	for _, b := range []string{d, digestOf(cfg)} {
		if ok, _ := local.HasBlob(ctx, b); !ok {
			t.Fatalf("blob %s missing after the import stored the manifest", b)
		}
	}
	if n := up.gets.Load(); n != 2 {
		t.Fatalf("%d blob GETs upstream, want 2", n)
	}
	if m3, err := im.EnsureManifest(ctx, tg, "v1", local, func() error { return nil }); err != nil || m3 != nil {
		t.Fatalf("after the import: %+v %v, want the cache", m3, err)
	}
}

// memLeases are the store's leases in memory.
type memLeases struct {
	mu     sync.Mutex
	owners map[string]string
}

func (l *memLeases) AcquireLease(_ context.Context, name, owner string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owners == nil {
		l.owners = map[string]string{}
	}
	if o, ok := l.owners[name]; ok && o != owner {
		return false, nil
	}
	l.owners[name] = owner
	return true, nil
}

func (l *memLeases) RenewLease(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}

func (l *memLeases) ReleaseLease(_ context.Context, name, owner string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owners[name] == owner {
		delete(l.owners, name)
	}
	return nil
}

// TestServeBlobWaitsForTheFetchUnderWay: a second GET while the first
// streams waits for it and is served the stored copy; the upstream is
// read once.
func TestServeBlobWaitsForTheFetchUnderWay(t *testing.T) {
	blob := randBlob(1 << 20)
	d := digestOf(blob)
	up := &fakeUpstream{blobs: map[string][]byte{d: blob}, hold: make(chan struct{})}
	im, tg := up.start(t)
	im.Leases = &memLeases{}
	local := newMemLocal()
	srv, done := serveBlob(t, im, tg, local, d)
	first, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	waited := make(chan error, 1)
	go func() {
		stored, err := im.ServeBlob(context.Background(), tg, d, local, httptest.NewRecorder())
		if err == nil && !stored {
			err = errors.New("the second GET fetched the blob itself")
		}
		waited <- err
	}()
	select {
	case err := <-waited:
		t.Fatalf("second GET returned while the first still streams: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(up.hold)
	if got, err := io.ReadAll(first.Body); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("first GET: %d bytes, %v", len(got), err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if n := up.gets.Load(); n != 1 {
		t.Fatalf("%d upstream GETs, want 1", n)
	}
}

// TestServeBlobClientLeaves: a client that disconnects mid-stream does not
// stop the store.
func TestServeBlobClientLeaves(t *testing.T) {
	blob := randBlob(2 << 20)
	d := digestOf(blob)
	up := &fakeUpstream{blobs: map[string][]byte{d: blob}, hold: make(chan struct{})}
	im, tg := up.start(t)
	local := newMemLocal()
	srv, done := serveBlob(t, im, tg, local, d)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	close(up.hold)
	if err := <-done; err != nil {
		t.Fatalf("ServeBlob after the client left: %v", err)
	}
	waitStored(t, local, d)
}

// slowLocal is a memLocal whose PutBlob, once it has read the whole body,
// waits for commit before it commits: a store slower than the client.
type slowLocal struct {
	*memLocal
	commit chan struct{}
}

func (l *slowLocal) PutBlob(ctx context.Context, d string, size int64, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	<-l.commit
	return l.memLocal.PutBlob(ctx, d, size, bytes.NewReader(b))
}

// TestServeBlobClientDoesNotWaitForTheStore: the client has the whole
// blob, its last chunk a few bytes, and the handler has returned (a
// kept-alive connection is free for the client's next request), while
// the store has not committed; the lease is held until it has.
func TestServeBlobClientDoesNotWaitForTheStore(t *testing.T) {
	blob := randBlob(256<<10 + 100)
	d := digestOf(blob)
	up := &fakeUpstream{blobs: map[string][]byte{d: blob}}
	im, tg := up.start(t)
	im.Leases = &memLeases{}
	local := &slowLocal{memLocal: newMemLocal(), commit: make(chan struct{})}
	var once sync.Once
	release := func() { once.Do(func() { close(local.commit) }) }
	srv, done := serveBlob(t, im, tg, local, d)
	t.Cleanup(release) // runs before the server's Close, which waits for the handler
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(resp.Body)
		got <- b
	}()
	select {
	case b := <-got:
		if !bytes.Equal(b, blob) {
			t.Fatalf("client read %d bytes, not the blob", len(b))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client's blob waits for the store's commit")
	}
	resp.Body.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler waits for the store's commit")
	}
	// Another GET meanwhile waits for the lease, then finds the stored copy.
	again := make(chan error, 1)
	go func() {
		stored, err := im.ServeBlob(context.Background(), tg, d, local, httptest.NewRecorder())
		if err == nil && !stored {
			err = errors.New("a second GET fetched the blob while the first one's store held its lease")
		}
		again <- err
	}()
	time.Sleep(200 * time.Millisecond)
	release()
	if err := <-again; err != nil {
		t.Fatal(err)
	}
	if n := up.gets.Load(); n != 1 {
		t.Fatalf("%d upstream GETs, want 1", n)
	}
}
