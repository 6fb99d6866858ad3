package e2e_test

import (
	"slices"
	"strings"
	"testing"
)

// TestRegctl copies an image between repositories with regctl, reads its
// manifest, tags and layer blob back, and puts, lists and gets an artifact
// that refers to it — on MinIO.
func TestRegctl(t *testing.T) {
	t.Parallel()
	regctl, crane := goTool(t, "regctl"), goTool(t, "crane")
	b := startBerth(t, "minio")
	c := newCLI(t, b.CACert).login(b)
	reg := host(b.URL)
	src, dst := reg+"/e2e/regctl-src:v1", reg+"/e2e/regctl"

	// regctl's own CA setting (in $HOME/.regctl of the private HOME).
	c.run(regctl, "registry", "set", "--tls", "enabled", "--cacert", string(readFile(t, b.CACert)), reg)

	im := newImage(t, c, 768<<10)
	c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", src)
	want := []byte(c.run(crane, "manifest", src).stdout)

	c.run(regctl, "image", "copy", src, dst+":v1")
	got := []byte(c.run(regctl, "manifest", "get", "--format", "raw-body", dst+":v1").stdout)
	sameBytes(t, "regctl manifest get", got, want)
	m := parseManifest(t, got)
	layer := m.Layers[0].Digest
	im.checkGzipLayer(t, "regctl blob get", []byte(c.run(regctl, "blob", "get", dst, layer).stdout), layer)
	cfg := []byte(c.run(regctl, "blob", "get", dst, m.Config.Digest).stdout)
	if digestOf(cfg) != m.Config.Digest {
		t.Fatalf("regctl blob get config: digest %s, want %s", digestOf(cfg), m.Config.Digest)
	}

	// An artifact whose subject is the copied image.
	note := []byte("reviewed " + randHex(t, 16) + "\n")
	c.write("note.txt", note)
	c.run(regctl, "artifact", "put", "--artifact-type", "application/vnd.berth.e2e.note",
		"-f", "note.txt", "-m", "text/plain", "--subject", dst+":v1", dst+":note")
	sameBytes(t, "regctl artifact get", []byte(c.run(regctl, "artifact", "get", dst+":note").stdout), note)
	noteDigest := digestOf([]byte(c.run(regctl, "manifest", "get", "--format", "raw-body", dst+":note").stdout))
	list := c.run(regctl, "artifact", "list", "--format", "{{json .}}", dst+":v1").stdout
	if !strings.Contains(list, noteDigest) || !strings.Contains(list, "application/vnd.berth.e2e.note") {
		t.Errorf("regctl artifact list does not show %s:\n%s", noteDigest, list)
	}

	tags := strings.Fields(c.run(regctl, "tag", "ls", dst).stdout)
	for _, want := range []string{"v1", "note"} {
		if !slices.Contains(tags, want) {
			t.Errorf("regctl tag ls %s = %q, missing %s", dst, tags, want)
		}
	}
}
