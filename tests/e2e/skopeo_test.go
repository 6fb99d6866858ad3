package e2e_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSkopeo copies an image from berth into an OCI layout directory with
// skopeo and from there into another repository — on MinIO.
func TestSkopeo(t *testing.T) {
	t.Parallel()
	skopeo, crane := sysTool(t, "skopeo"), goTool(t, "crane")
	b := startBerth(t, "minio")
	c := newCLI(t, b.CACert).login(b)
	reg := host(b.URL)
	src, dst := reg+"/e2e/skopeo:v1", reg+"/e2e/skopeo-back:v1"
	policy := c.write("policy.json", []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`))
	sk := func(args ...string) { c.run(skopeo, append([]string{"--policy", policy}, args...)...) }

	im := newImage(t, c, 1<<20)
	c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", src)
	want := parseManifest(t, []byte(c.run(crane, "manifest", src).stdout))
	layer := want.Layers[0].Digest

	// berth → OCI layout: the layout's blobs are what was pushed.
	layout := c.path("layout")
	sk("copy", "--src-cert-dir", c.certDir, "docker://"+src, "oci:"+layout+":v1")
	var index struct{ Manifests []descriptor }
	if err := json.Unmarshal(readFile(t, filepath.Join(layout, "index.json")), &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("layout index.json: %v %+v", err, index)
	}
	blob := func(d string) []byte {
		return readFile(t, filepath.Join(layout, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
	}
	got := parseManifest(t, blob(index.Manifests[0].Digest))
	if len(got.Layers) != 1 || got.Layers[0].Digest != layer {
		t.Fatalf("layout manifest layers %+v, want %s", got.Layers, layer)
	}
	im.checkGzipLayer(t, "skopeo copy to oci: layer", blob(layer), layer)

	// OCI layout → another repository: same layer, same bytes.
	sk("copy", "--dest-cert-dir", c.certDir, "oci:"+layout+":v1", "docker://"+dst)
	back := parseManifest(t, []byte(c.run(crane, "manifest", dst).stdout))
	if len(back.Layers) != 1 || back.Layers[0].Digest != layer || back.Config.Digest != want.Config.Digest {
		t.Fatalf("copied back: config %s layers %+v, want config %s layer %s", back.Config.Digest, back.Layers, want.Config.Digest, layer)
	}
	im.checkGzipLayer(t, "skopeo copy back: layer", []byte(c.run(crane, "blob", strings.TrimSuffix(dst, ":v1")+"@"+layer).stdout), layer)
}
