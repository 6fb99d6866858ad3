package e2e_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCrane pushes a random one-layer image with crane, pulls it back as an
// OCI layout and blob by blob, copies it to another repository (a cross-repo
// mount), and lists and inspects it — on disk and on MinIO.
func TestCrane(t *testing.T) {
	t.Parallel()
	for _, store := range storeKinds {
		t.Run(store, func(t *testing.T) {
			crane := goTool(t, "crane")
			b := startBerth(t, store)
			c := newCLI(t, b.CACert).login(b)
			im := newImage(t, c, 1<<20)
			reg := host(b.URL)
			src, dst := reg+"/e2e/crane", reg+"/e2e/crane-copy"

			c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", src+":v1")
			dg := strings.TrimSpace(c.run(crane, "digest", src+":v1").stdout)
			raw := []byte(c.run(crane, "manifest", src+":v1").stdout)
			if digestOf(raw) != dg {
				t.Fatalf("crane digest %s, but the manifest's sha256 is %s", dg, digestOf(raw))
			}
			m := parseManifest(t, raw)
			if len(m.Layers) != 1 {
				t.Fatalf("want 1 layer, got %d", len(m.Layers))
			}
			layer := m.Layers[0].Digest

			// Pull as an OCI layout: every blob crane wrote is what was pushed.
			out := c.path("pulled")
			c.run(crane, "pull", "--format", "oci", src+":v1", out)
			blobPath := func(d string) string { return filepath.Join(out, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")) }
			im.checkGzipLayer(t, "crane pull layer", readFile(t, blobPath(layer)), layer)
			if got := digestOf(readFile(t, blobPath(m.Config.Digest))); got != m.Config.Digest {
				t.Fatalf("crane pull config: digest %s, want %s", got, m.Config.Digest)
			}
			im.checkGzipLayer(t, "crane blob", []byte(c.run(crane, "blob", src+"@"+layer).stdout), layer)

			// Copy to another repository: the blobs are mounted, not re-uploaded.
			cp := c.run(crane, "copy", src+":v1", dst+":v2")
			for _, d := range []string{layer, m.Config.Digest} {
				if !strings.Contains(cp.stderr, "mounted blob: "+d) {
					t.Errorf("crane copy did not mount %s (cross-repo mount):\n%s", d, cp.stderr)
				}
			}
			if got := strings.TrimSpace(c.run(crane, "digest", dst+":v2").stdout); got != dg {
				t.Fatalf("copied digest %s, want %s", got, dg)
			}
			im.checkGzipLayer(t, "crane blob (copy)", []byte(c.run(crane, "blob", dst+"@"+layer).stdout), layer)

			for repo, tag := range map[string]string{src: "v1", dst: "v2"} {
				tags := strings.Fields(c.run(crane, "ls", repo).stdout)
				if !slices.Equal(tags, []string{tag}) {
					t.Errorf("crane ls %s = %q, want [%s]", repo, tags, tag)
				}
			}
		})
	}
}
