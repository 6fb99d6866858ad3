package pullthrough_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/berth-registry/berth/pullthrough"
)

// TestServeBlobStallTimeout: an upstream that stops sending mid-blob ends
// the fetch after the importer's StallTimeout (pull_through.stall_timeout),
// not the one-minute default: the client's download breaks and nothing
// is stored.
func TestServeBlobStallTimeout(t *testing.T) {
	blob := randBlob(1 << 20)
	d := digestOf(blob)
	up := &fakeUpstream{blobs: map[string][]byte{d: blob}, hold: make(chan struct{})}
	defer close(up.hold)
	im, tg := up.start(t)
	im.StallTimeout = 300 * time.Millisecond
	local := newMemLocal()
	srv, done := serveBlob(t, im, tg, local, d)
	start := time.Now()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Fatal("client read a stalled blob without an error")
	}
	select {
	case err := <-done:
		if !pullthrough.Broken(err) {
			t.Fatalf("ServeBlob: %v, want a broken stream", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeBlob still waiting for a stalled upstream after 10s")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the stall ended the fetch after %v, want about the 300ms stall timeout", took)
	}
	if ok, _ := local.HasBlob(context.Background(), d); ok {
		t.Fatal("stalled blob stored")
	}
}
