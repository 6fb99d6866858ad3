package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/internal/testenv"
	"github.com/berth-registry/berth/storage/crypt"
)

// env is one MinIO server shared by the subtests of TestBackend; each
// subtest gets its own key prefix, so they can run in parallel.
type env struct {
	m      *testenv.MinIO
	bucket string
	// spoolOnly runs uploads with no part memory: every part goes through
	// a spool file (the path taken once the pool's budget is spent).
	spoolOnly bool
}

func newEnv(t *testing.T) *env {
	t.Helper()
	m := testenv.StartMinIO(t)
	e := &env{m: m, bucket: "berth-test"}
	m.MakeBucket(t, e.bucket)
	return e
}

func (e *env) config(t *testing.T) Config {
	return Config{
		Endpoint:  e.m.Endpoint,
		Bucket:    e.bucket,
		Prefix:    "t/" + regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"),
		AccessKey: e.m.AccessKey,
		SecretKey: e.m.SecretKey,
		PathStyle: true,
	}
}

func (e *env) backend(t *testing.T) *Backend {
	return e.backendWith(t, e.config(t))
}

func (e *env) backendWith(t *testing.T, cfg Config) *Backend {
	t.Helper()
	b, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

// countRequests makes b's S3 client count the HTTP requests it sends.
func countRequests(t *testing.T, b *Backend, cfg Config) *atomic.Int64 {
	t.Helper()
	host, secure, _ := cfg.endpoint()
	opts, err := cfg.clientOptions(secure, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := new(atomic.Int64)
	opts.Transport = countingTransport{opts.Transport, n}
	core, err := minio.NewCore(host, opts)
	if err != nil {
		t.Fatal(err)
	}
	b.core = core
	return n
}

type countingTransport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func header(t *testing.T) []byte { return random(t, crypt.HeaderSize) }

func mustPut(t *testing.T, b *Backend, p string, hdr, body []byte) {
	t.Helper()
	if err := b.Put(ctx(t), p, hdr, body); err != nil {
		t.Fatalf("Put(%s): %v", p, err)
	}
}

// mustGet reads the whole object at p from offset 0.
func mustGet(t *testing.T, b *Backend, p string) (hdr, body []byte) {
	t.Helper()
	hdr, size, rc, err := b.Get(ctx(t), p, 0)
	if err != nil {
		t.Fatalf("Get(%s): %v", p, err)
	}
	defer rc.Close()
	body, err = io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%s) read: %v", p, err)
	}
	if int64(len(body)) != size {
		t.Fatalf("Get(%s): size %d but %d bytes read", p, size, len(body))
	}
	return hdr, body
}

func wantEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes, want %d (contents differ)", what, len(got), len(want))
	}
}

// wantNotFound checks that err is a bare PathNotFoundError for p: the
// registry tests with a type assertion, not errors.As.
func wantNotFound(t *testing.T, err error, p string) {
	t.Helper()
	nf, ok := err.(storagedriver.PathNotFoundError)
	if !ok {
		t.Fatalf("got %v (%T), want storagedriver.PathNotFoundError", err, err)
	}
	if nf.Path != p {
		t.Fatalf("PathNotFoundError for %q, want %q", nf.Path, p)
	}
}

func wantErrIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, want)
	}
}

// rawKeys lists every key in the bucket below prefix, bypassing the backend.
func (e *env) rawKeys(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	for obj := range e.m.Client(t).ListObjectsIter(ctx(t), e.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	return keys
}
