package e2e_test

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestCanary pushes about 2 MiB of content built from a random 32-byte
// marker (as hex text and as raw bytes), uncompressed so a plaintext store
// would hold the marker verbatim, then checks that the marker appears in no
// file under berth's data dir nor, on MinIO, under MinIO's data dir — while
// the content pulled back does contain it. On disk and on MinIO.
func TestCanary(t *testing.T) {
	t.Parallel()
	for _, store := range storeKinds {
		t.Run(store, func(t *testing.T) {
			oras := goTool(t, "oras")
			b := startBerth(t, store)
			a := newAPI(t, b)
			c := newCLI(t, b.CACert).login(b)

			marker := randBytes(t, 32)
			hexMarker := []byte(hex.EncodeToString(marker))
			content := append(bytes.Repeat(append(hexMarker, '\n'), 1<<20/65), bytes.Repeat(marker, 1<<20/32)...)
			layer := makeTar(t, tarFile{name: "canary.txt", data: content})

			// Raw API: an uncompressed tar layer in three PATCH chunks.
			dg, manifest := a.pushImage("e2e/canary", "v1", layer, mtLayerTar, 3)
			pulled := a.getBlob("e2e/canary", parseManifest(t, manifest).Layers[0].Digest)
			sameBytes(t, "pulled layer", pulled, layer)
			sameBytes(t, "pulled manifest", a.do("GET", "/v2/e2e/canary/manifests/"+dg, nil, "Accept", mtOCIManifest).body, manifest)
			// oras: the same content as a plain file (oras does not compress).
			c.write("in/canary.txt", content)
			c.in(c.path("in")).run(oras, "push", "--ca-file", b.CACert, host(b.URL)+"/e2e/canary-oras:v1", "canary.txt")
			c.run(oras, "pull", "--ca-file", b.CACert, "-o", c.path("out"), host(b.URL)+"/e2e/canary-oras:v1")
			orasPulled := readFile(t, c.path("out/canary.txt"))
			sameBytes(t, "oras pull", orasPulled, content)

			// Not vacuous: what comes back holds the marker in both forms.
			for _, got := range [][]byte{pulled, orasPulled} {
				if !bytes.Contains(got, hexMarker) || !bytes.Contains(got, marker) {
					t.Fatal("the pulled content does not contain the marker")
				}
			}

			// The scanner finds the marker where it is in plaintext.
			if hits, _ := scanFor(t, c.path("in"), hexMarker, marker); len(hits) != 2 {
				t.Fatalf("scanner self-check: want both needles found in the client's copy, got %q", hits)
			}

			dirs := []string{b.DataDir}
			if store == "minio" {
				dirs = append(dirs, sharedMinIO(t).DataDir)
			}
			var total int64
			for _, d := range dirs {
				hits, n := scanFor(t, d, hexMarker, marker)
				total += n
				for _, h := range hits {
					t.Errorf("plaintext marker found at rest: %s", h)
				}
			}
			// The stored (encrypted) copies were scanned too.
			if total < int64(2*len(content)) {
				t.Errorf("scanned only %d bytes under %v; the two stored copies alone are %d", total, dirs, 2*len(content))
			}
		})
	}
}
