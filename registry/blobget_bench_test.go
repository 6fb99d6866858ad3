package registry

import (
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	bstorage "github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
	"github.com/berth-registry/berth/storage/disk"
)

// BenchmarkBlobGet pulls one 64 MiB blob through the whole /v2 path (gate,
// edge, App, the encrypting driver on disk): what a blob GET costs berth
// beyond storage. go test -run X -bench BlobGet -cpuprofile cpu.out ./registry
func BenchmarkBlobGet(b *testing.B) {
	be, err := disk.New(disk.Config{Root: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	drv, err := bstorage.New(bstorage.Options{Backend: be, Keyring: crypt.NewMemoryKeyring()})
	if err != nil {
		b.Fatal(err)
	}
	ts := startTestServer(b, AppOptions{Driver: drv, HTTPSecret: "bench", PurgeAge: time.Hour})
	tr := &testRegistry{t: b, url: ts.url, driver: drv}
	blob := make([]byte, 64<<20)
	if _, err := rand.NewChaCha8([32]byte{}).Read(blob); err != nil {
		b.Fatal(err)
	}
	const repo = "bench/blob"
	dg := tr.pushBlob(repo, blob, digest.SHA256)
	req, err := http.NewRequest(http.MethodGet, ts.url+"/v2/"+repo+"/blobs/"+dg.String(), nil)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(blob)))
	b.ResetTimer()
	for range b.N {
		res, err := testClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{res.Body}, buf)
		res.Body.Close()
		if err != nil || n != int64(len(blob)) || res.StatusCode != http.StatusOK {
			b.Fatalf("GET: %d, %d bytes, %v", res.StatusCode, n, err)
		}
	}
}
