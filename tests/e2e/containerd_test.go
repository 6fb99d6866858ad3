package e2e_test

import (
	"strings"
	"testing"
)

// TestContainerd pulls an image from berth with containerd (its own daemon,
// root, state and socket under the test's temp dir; CRI disabled), reads the
// layer back from containerd's content store and from `ctr images export`,
// and pushes it to another repository with ctr — on MinIO.
func TestContainerd(t *testing.T) {
	t.Parallel()
	ctrBin, crane := sysTool(t, "ctr"), goTool(t, "crane")
	b := startBerth(t, "minio")
	c := newCLI(t, b.CACert).login(b)
	reg := host(b.URL)
	ref, pushRef := reg+"/e2e/ctr:v1", reg+"/e2e/ctr-pushed:v1"

	im := newImage(t, c, 1<<20)
	c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", ref)
	m := parseManifest(t, []byte(c.run(crane, "manifest", ref).stdout))
	layer := m.Layers[0].Digest

	sock := startContainerd(t)
	// ctr fetches in its own process: give it only the system roots, so the
	// CA in hosts.toml is the only way it can trust berth.
	sysOnly := newCLI(t, "")
	ctr := func(args ...string) (cmdResult, error) {
		t.Helper()
		return sysOnly.try(ctrBin, append([]string{"--address", sock, "--namespace", "e2e"}, args...)...)
	}
	// containerd 1.6 talks plain HTTP to 127.0.0.1 unless a hosts.toml says
	// https; the CA is given there. Without it the pull must fail on TLS.
	noCA := hostsDir(t, reg, "")
	if res, err := ctr("images", "pull", "--user", b.User+":"+b.Password, "--hosts-dir", noCA, ref); err == nil {
		t.Fatalf("ctr pull without berth's CA succeeded; TLS is not verified:\n%s", res.stdout)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("ctr pull without berth's CA: want a certificate error, got %v", err)
	}
	hosts := hostsDir(t, reg, b.CACert)
	must := func(args ...string) cmdResult {
		t.Helper()
		res, err := ctr(args...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	must("images", "pull", "--user", b.User+":"+b.Password, "--hosts-dir", hosts, ref)

	im.checkGzipLayer(t, "ctr content get", []byte(must("content", "get", layer).stdout), layer)

	export := sysOnly.path("export.tar")
	must("images", "export", export, ref)
	blobs := tarFiles(t, readFile(t, export))
	im.checkGzipLayer(t, "ctr images export: layer", blobs["blobs/sha256/"+strings.TrimPrefix(layer, "sha256:")], layer)

	must("images", "tag", ref, pushRef)
	must("images", "push", "--user", b.User+":"+b.Password, "--hosts-dir", hosts, pushRef)
	back := parseManifest(t, []byte(c.run(crane, "manifest", pushRef).stdout))
	if back.Layers[0].Digest != layer {
		t.Fatalf("ctr push: layer %s, want %s", back.Layers[0].Digest, layer)
	}
	im.checkGzipLayer(t, "ctr push, crane blob", []byte(c.run(crane, "blob", reg+"/e2e/ctr-pushed@"+layer).stdout), layer)
}
