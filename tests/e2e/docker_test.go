package e2e_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestDocker pushes an image made offline (docker import of a small rootfs)
// to berth with the Docker daemon, removes it locally, pulls it back and
// compares image ID, digest and file bytes — on MinIO.
//
// The daemon treats 127.0.0.0/8 as an insecure registry and would skip TLS
// verification there, so this test runs its own berth on ::1 under a name
// of its own (loopbackName), trusted through /etc/docker/certs.d/<host:port>.
func TestDocker(t *testing.T) {
	t.Parallel()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI")
	}
	if out, err := exec.Command(docker, "info").CombinedOutput(); err != nil {
		t.Skipf("docker info failed (no daemon?): %v\n%s", err, tail(string(out), 500))
	}
	crane := goTool(t, "crane")
	host := loopbackName(t)
	m := sharedMinIO(t)
	b := testenv.StartBerth(t, testenv.BerthOptions{ListenIP: "::1", Host: host, Storage: m.S3Storage(newBucket(t, m), "berth")})
	watchLog(t, b)
	c := newCLI(t, b.CACert).login(b)
	reg := b.Addr
	name := reg + "/e2e/docker"
	local := "berth-e2e/tiny:" + randHex(t, 6)
	ref := name + ":v1"
	t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", local, ref).Run() })

	data := randBytes(t, 512<<10)
	rootfs := c.write("rootfs.tar", makeTar(t, tarFile{name: "data.bin", data: data}, tarFile{name: "etc/hostname", data: []byte("berth-e2e\n")}))
	id := strings.TrimSpace(c.run(docker, "import", rootfs, local).stdout)
	c.run(docker, "tag", local, ref)

	// Without the CA the daemon must refuse berth's certificate.
	if res, err := c.try(docker, "push", ref); err == nil {
		t.Fatalf("docker push without berth's CA succeeded; TLS is not verified:\n%s", res.stdout)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("docker push without berth's CA: want a certificate error, got %v", err)
	}
	certs := filepath.Join("/etc/docker/certs.d", reg)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certs) })
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), readFile(t, b.CACert), 0o644); err != nil {
		t.Fatal(err)
	}
	c.run(docker, "push", ref)

	var before struct {
		ID          string
		RepoDigests []string
		RootFS      struct{ Layers []string }
	}
	inspect(t, c, docker, ref, &before)
	if before.ID != id || len(before.RepoDigests) != 1 || len(before.RootFS.Layers) != 1 {
		t.Fatalf("after push: %+v (import said %s)", before, id)
	}
	diffID := before.RootFS.Layers[0]

	// What berth stores: the manifest docker's digest names, a layer whose
	// uncompressed sha256 is the diff ID, holding the file.
	dg := strings.TrimPrefix(before.RepoDigests[0], name+"@")
	raw := []byte(c.run(crane, "manifest", name+"@"+dg).stdout)
	if digestOf(raw) != dg {
		t.Fatalf("manifest digest %s, docker says %s", digestOf(raw), dg)
	}
	layerDg := parseManifest(t, raw).Layers[0].Digest
	blob := []byte(c.run(crane, "blob", name+"@"+layerDg).stdout)
	if digestOf(blob) != layerDg {
		t.Fatalf("layer blob digest %s, want %s", digestOf(blob), layerDg)
	}
	lt := gunzip(t, blob)
	if digestOf(lt) != diffID {
		t.Fatalf("uncompressed layer %s, want diff ID %s", digestOf(lt), diffID)
	}
	sameBytes(t, "layer in berth: data.bin", tarEntry(t, lt, "data.bin"), data)

	// Remove it locally, pull it back.
	c.run(docker, "rmi", local, ref)
	if _, err := c.try(docker, "image", "inspect", id); err == nil {
		t.Fatalf("image %s still present after rmi", id)
	}
	c.run(docker, "pull", ref)
	var after struct {
		ID          string
		RepoDigests []string
	}
	inspect(t, c, docker, ref, &after)
	if after.ID != id || !slices.Contains(after.RepoDigests, name+"@"+dg) {
		t.Fatalf("pulled image: ID %s digests %q, want ID %s digest %s", after.ID, after.RepoDigests, id, dg)
	}

	// docker save: the layer is the pushed one, byte for byte.
	save := c.path("saved.tar")
	c.run(docker, "save", "-o", save, ref)
	files := tarFiles(t, readFile(t, save))
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("docker save manifest.json: %v %s", err, files["manifest.json"])
	}
	saved := files[manifest[0].Layers[0]]
	sameBytes(t, "docker save layer", saved, lt)
	sameBytes(t, "docker save: data.bin", tarEntry(t, saved, "data.bin"), data)
}
