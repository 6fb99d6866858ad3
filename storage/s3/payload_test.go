package s3

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage/crypt"
)

// headerTransport records X-Amz-Content-Sha256 of every PUT it sends.
type headerTransport struct {
	rt   http.RoundTripper
	mu   *sync.Mutex
	seen map[string]int // header value → count
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		v := r.Header.Get("X-Amz-Content-Sha256")
		if len(v) == 64 {
			v = "<hex sha256>"
		}
		h.mu.Lock()
		h.seen[v]++
		h.mu.Unlock()
	}
	return h.rt.RoundTrip(r)
}

// recordPayloads makes b's client record how it signs PUT bodies.
func recordPayloads(t *testing.T, b *Backend, cfg Config) func() map[string]int {
	t.Helper()
	host, secure, _ := cfg.endpoint()
	opts, err := cfg.clientOptions(secure, 0)
	if err != nil {
		t.Fatal(err)
	}
	ht := headerTransport{rt: opts.Transport, mu: new(sync.Mutex), seen: map[string]int{}}
	opts.Transport = ht
	core, err := minio.NewCore(host, opts)
	if err != nil {
		t.Fatal(err)
	}
	b.core = core
	return func() map[string]int {
		ht.mu.Lock()
		defer ht.mu.Unlock()
		out := map[string]int{}
		for k, v := range ht.seen {
			out[k] = v
		}
		return out
	}
}

// testPayloads checks that every body berth PUTs (parts, the pending part,
// pointers, sidecars, whole objects) goes as UNSIGNED-PAYLOAD by default and
// signed with storage.s3.signed_payloads, and that MinIO accepts both over
// plain HTTP: the data reads back intact.
func testPayloads(t *testing.T, e *env) {
	for _, tc := range []struct {
		signed bool
		want   string
	}{
		{false, "UNSIGNED-PAYLOAD"},
		{true, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
	} {
		cfg := smallParts(t, e)
		cfg.SignedPayloads = tc.signed
		cfg.Prefix += map[bool]string{false: "-unsigned", true: "-signed"}[tc.signed]
		b := e.backendWith(t, cfg)
		seen := recordPayloads(t, b, cfg)
		c := context.Background()
		hdr := header(t)

		body := random(t, 2*int(b.partSize)+3*crypt.SlotSize+5)
		up, err := b.CreateUpload(c, "/p/up", hdr)
		if err != nil {
			t.Fatal(err)
		}
		if err := up.Write(c, body[:b.partSize+crypt.SlotSize]); err != nil {
			t.Fatal(err)
		}
		if err := up.Persist(c); err != nil {
			t.Fatal(err)
		}
		if err := b.PutSidecar(c, "/p/up", []byte("state")); err != nil {
			t.Fatal(err)
		}
		up, err = b.ResumeUpload(c, "/p/up")
		if err != nil {
			t.Fatal(err)
		}
		if err := up.Complete(c, body[b.partSize+crypt.SlotSize:]); err != nil {
			t.Fatal(err)
		}
		_, got := mustGet(t, b, "/p/up")
		wantEqual(t, "uploaded body", got, body)
		mustPut(t, b, "/p/small", hdr, body[:100])
		_, got = mustGet(t, b, "/p/small")
		wantEqual(t, "small object", got, body[:100])

		s := seen()
		if len(s) != 1 || s[tc.want] == 0 {
			t.Errorf("signed_payloads=%v: PUT bodies sent as %v, want all %s", tc.signed, s, tc.want)
		}
	}
}
