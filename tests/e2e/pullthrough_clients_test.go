package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// multiArch is an image index pushed to an upstream: a linux/amd64 and a
// linux/arm64 image, each one gzip layer holding data.bin.
type multiArch struct {
	ref         string // upstream reference, by tag
	index       string // digest of the index
	amd64       string // digest of the linux/amd64 manifest
	amd64Layer  string // digest of its layer
	amd64Data   []byte // data.bin in that layer
	amd64Config string
}

// pulledAsUpstream checks that c pulls ma's tag from cached (a repository
// of the cache, host/prefix/repo) as upC pulls it from upRepo at the
// upstream (host/repo): the index's digest and bytes, and the linux/amd64
// layer and config blobs.
func pulledAsUpstream(t *testing.T, c, upC *cli, cached, upRepo string, ma multiArch) {
	t.Helper()
	crane := goTool(t, "crane")
	ref := cached + ma.ref[strings.LastIndex(ma.ref, ":"):]
	if d := strings.TrimSpace(c.run(crane, "digest", ref).stdout); d != ma.index {
		t.Fatalf("index through the cache %s: %s, the upstream's %s", ref, d, ma.index)
	}
	sameBytes(t, "index manifest", []byte(c.run(crane, "manifest", ref).stdout), []byte(upC.run(crane, "manifest", ma.ref).stdout))
	for _, d := range []string{ma.amd64Layer, ma.amd64Config} {
		sameBytes(t, "blob "+d, []byte(c.run(crane, "blob", cached+"@"+d).stdout),
			[]byte(upC.run(crane, "blob", upRepo+"@"+d).stdout))
	}
}

// pushMultiArch pushes a two-platform index to repo:tag at the upstream
// with crane (c's credentials). Real images on Docker Hub are indexes:
// docker and ctr resolve the tag to the index, pick the platform's manifest
// and fetch only its blobs, which is the path through berth's cache they
// take in practice.
func pushMultiArch(t *testing.T, c *cli, upstream, repo, tag string) multiArch {
	t.Helper()
	crane := goTool(t, "crane")
	ma := multiArch{ref: upstream + "/" + repo + ":" + tag}
	var refs []string
	for _, arch := range []string{"amd64", "arm64"} {
		data := randBytes(t, 256<<10)
		name := "layer-" + arch + ".tar"
		c.write(name, makeTar(t, tarFile{name: "data.bin", data: data}, tarFile{name: "etc/arch", data: []byte(arch + "\n")}))
		ref := upstream + "/" + repo + ":" + tag + "-" + arch
		c.run(crane, "append", "-f", c.path(name), "-t", ref)
		c.run(crane, "mutate", "--set-platform", "linux/"+arch, ref)
		if arch == "amd64" {
			ma.amd64 = strings.TrimSpace(c.run(crane, "digest", ref).stdout)
			m := parseManifest(t, []byte(c.run(crane, "manifest", ref).stdout))
			ma.amd64Layer, ma.amd64Config, ma.amd64Data = m.Layers[0].Digest, m.Config.Digest, data
		}
		refs = append(refs, "-m", ref)
	}
	c.run(crane, append(append([]string{"index", "append"}, refs...), "-t", ma.ref)...)
	ma.index = strings.TrimSpace(c.run(crane, "digest", ma.ref).stdout)
	return ma
}

// checkCached asserts what a user checks with the ECR API after a pull
// through the cache: the repository exists and holds the upstream's index
// under the tag.
func checkCached(t *testing.T, b *testenv.Berth, repo, tag, index string) {
	t.Helper()
	ctx := testenv.Ctx(t, time.Minute)
	repos, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
	if err != nil || len(repos.Repositories) != 1 {
		t.Fatalf("DescribeRepositories %s after the pull: %v %+v", repo, err, repos)
	}
	// The pull was answered while the image was imported in the
	// background: it is listed once the import has stored its manifest.
	var imgs *ecr.DescribeImagesOutput
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if imgs, err = b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)}); err != nil {
			t.Fatal(err)
		}
		for _, d := range imgs.ImageDetails {
			if aws.ToString(d.ImageDigest) == index && slices.Contains(d.ImageTags, tag) {
				return
			}
		}
		if time.Now().After(deadline) {
			break
		}
	}
	t.Fatalf("DescribeImages %s: no %s tagged %s among %+v", repo, index, tag, imgs.ImageDetails)
}

// TestPullThroughDocker: `docker login` with berth's ECR token and
// `docker pull <berth>/<prefix>/<upstream path>:<tag>` of a multi-platform
// image in the reference registry (HTTPS, its own CA) — the daemon's
// resolution (HEAD of the tag with its Accept list, the index, the
// platform's manifest, the blobs) through a cold cache. The digest docker
// records is the upstream's index digest, the layer docker saves holds the
// upstream's bytes, and the repository and image are there afterwards.
//
// berth listens on ::1 under a name of its own: the daemon skips TLS
// verification on 127.0.0.0/8 (see loopbackName).
func TestPullThroughDocker(t *testing.T) {
	t.Parallel()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI")
	}
	if out, err := exec.Command(docker, "info").CombinedOutput(); err != nil {
		t.Skipf("docker info failed (no daemon?): %v\n%s", err, tail(string(out), 500))
	}
	up := startRefRegistry(t)
	b := testenv.StartBerth(t, testenv.BerthOptions{ListenIP: "::1", Host: loopbackName(t),
		Extra: fmt.Sprintf("pull_through:\n  ca_file: %s\n", up.caFile)})
	watchLog(t, b)
	ctx := testenv.Ctx(t, 5*time.Minute)
	c := newCLI(t, bothCAs(t, b.CACert, up.caFile))
	ma := pushMultiArch(t, c, up.addr, "lib/multi", "v1")
	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ptc"), UpstreamRegistryUrl: aws.String(up.addr)}); err != nil {
		t.Fatal(err)
	}

	certs := filepath.Join("/etc/docker/certs.d", b.Addr)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certs) })
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), readFile(t, b.CACert), 0o644); err != nil {
		t.Fatal(err)
	}
	// As the ECR docs say: docker login -u AWS with the token.
	c.run(docker, "login", "-u", b.User, "-p", b.Password, b.Addr)

	name := b.Addr + "/ptc/lib/multi"
	ref := name + ":v1"
	t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", ref).Run() })
	c.run(docker, "pull", "--platform", "linux/amd64", ref)
	var img struct {
		RepoDigests  []string
		Architecture string
		RootFS       struct{ Layers []string }
	}
	inspect(t, c, docker, ref, &img)
	if !slices.Contains(img.RepoDigests, name+"@"+ma.index) || img.Architecture != "amd64" {
		t.Fatalf("docker pull through berth: digests %q arch %s, want %s (the upstream's index) and amd64",
			img.RepoDigests, img.Architecture, ma.index)
	}

	// The layer docker stored holds the upstream image's file.
	save := c.path("saved.tar")
	c.run(docker, "save", "-o", save, ref)
	files := tarFiles(t, readFile(t, save))
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("docker save manifest.json: %v %s", err, files["manifest.json"])
	}
	saved := files[manifest[0].Layers[0]]
	if bytes.HasPrefix(saved, []byte{0x1f, 0x8b}) { // the containerd image store saves it compressed
		saved = gunzip(t, saved)
	}
	sameBytes(t, "docker save: data.bin", tarEntry(t, saved, "data.bin"), ma.amd64Data)

	checkCached(t, b, "ptc/lib/multi", "v1", ma.index)

	// A second pull after rmi is served from the cache: the upstream is gone.
	c.run(docker, "rmi", ref)
	up.stop()
	c.run(docker, "pull", "--platform", "linux/amd64", ref)
	inspect(t, c, docker, ref, &img)
	if !slices.Contains(img.RepoDigests, name+"@"+ma.index) {
		t.Fatalf("docker pull from the cache: digests %q, want %s", img.RepoDigests, ma.index)
	}
}

// TestPullThroughContainerd: `ctr images pull --user AWS:<token>` (its
// own containerd; berth's CA only in hosts.toml) of a multi-platform image
// in the reference registry through a cold cache: the image ctr records
// has the upstream's index digest, the layer in containerd's content store
// holds the upstream's bytes, and the repository and image are there; then
// a cold pull by digest.
func TestPullThroughContainerd(t *testing.T) {
	t.Parallel()
	ctrBin := sysTool(t, "ctr")
	up := startRefRegistry(t)
	b := testenv.StartBerth(t, testenv.BerthOptions{Extra: fmt.Sprintf("pull_through:\n  ca_file: %s\n", up.caFile)})
	watchLog(t, b)
	ctx := testenv.Ctx(t, 5*time.Minute)
	c := newCLI(t, bothCAs(t, b.CACert, up.caFile))
	ma := pushMultiArch(t, c, up.addr, "lib/multi", "v1")
	pinned := pushMultiArch(t, c, up.addr, "lib/pinned", "v1")
	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ptc"), UpstreamRegistryUrl: aws.String(up.addr)}); err != nil {
		t.Fatal(err)
	}

	sock := startContainerd(t)
	sysOnly := newCLI(t, "")
	ctr := func(args ...string) cmdResult {
		t.Helper()
		res, err := sysOnly.try(ctrBin, append([]string{"--address", sock, "--namespace", "e2e"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	reg := host(b.URL)
	hosts := hostsDir(t, reg, b.CACert)
	ref := reg + "/ptc/lib/multi:v1"
	ctr("images", "pull", "--platform", "linux/amd64", "--user", b.User+":"+b.Password, "--hosts-dir", hosts, ref)

	// `ctr images ls`: REF TYPE DIGEST SIZE PLATFORMS LABELS.
	var digest string
	for _, line := range strings.Split(ctr("images", "ls").stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == ref {
			digest = f[2]
		}
	}
	if digest != ma.index {
		t.Fatalf("ctr pulled %s as %q, want the upstream's index %s", ref, digest, ma.index)
	}
	layer := []byte(ctr("content", "get", ma.amd64Layer).stdout)
	if digestOf(layer) != ma.amd64Layer {
		t.Fatalf("layer in containerd's store: %s, want %s", digestOf(layer), ma.amd64Layer)
	}
	sameBytes(t, "ctr content get: data.bin", tarEntry(t, gunzip(t, layer), "data.bin"), ma.amd64Data)
	checkCached(t, b, "ptc/lib/multi", "v1", ma.index)

	// A first pull by digest, as a pod spec pinning an image does: berth
	// (unlike ECR) imports it; ctr records the pinned digest.
	pinnedRef := reg + "/ptc/lib/pinned@" + pinned.index
	ctr("images", "pull", "--platform", "linux/amd64", "--user", b.User+":"+b.Password, "--hosts-dir", hosts, pinnedRef)
	digest = ""
	for _, line := range strings.Split(ctr("images", "ls").stdout, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == pinnedRef {
			digest = f[2]
		}
	}
	if digest != pinned.index {
		t.Fatalf("ctr pulled %s as %q", pinnedRef, digest)
	}
	layer = []byte(ctr("content", "get", pinned.amd64Layer).stdout)
	sameBytes(t, "pinned: data.bin", tarEntry(t, gunzip(t, layer), "data.bin"), pinned.amd64Data)
}

// TestPullThroughFromBerth: a second berth as the upstream, as the issue
// asks. The upstream berth holds a multi-platform image behind its own
// login; the first berth's rule names a Secrets Manager secret holding the
// upstream's ECR login (username AWS, the GetAuthorizationToken password as
// accessToken), which berth's importer answers the upstream's Basic
// challenge with. ValidatePullThroughCacheRule logs in; a crane pull
// through the first berth gets the upstream's digest and bytes; a rule
// without credentials gets nothing (the upstream berth does require them).
//
// An ECR token lasts 12 hours: a real deployment refreshes the secret
// (put-secret-value) as it would for ECR-to-ECR caching.
func TestPullThroughFromBerth(t *testing.T) {
	t.Parallel()
	up := testenv.StartBerth(t, testenv.BerthOptions{})
	watchLog(t, up)
	b := startBerthExtra(t, fmt.Sprintf("pull_through:\n  ca_file: %s\n", up.CACert))
	ctx := testenv.Ctx(t, 5*time.Minute)
	crane := goTool(t, "crane")

	upC := newCLI(t, up.CACert).login(up)
	ma := pushMultiArch(t, upC, up.Addr, "team/app", "v1")

	ac := newAWSCLI(t, newCLI(t, b.CACert), b)
	var secret struct{ ARN string }
	ac.ok(&secret, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/berth-upstream",
		"--secret-string", string(mustJSON(t, map[string]string{"username": up.User, "accessToken": up.Password})))
	ac.ok(nil, "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "upb",
		"--upstream-registry-url", up.Addr, "--credential-arn", secret.ARN)
	var v struct {
		IsValid bool
		Failure string
	}
	ac.ok(&v, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "upb")
	if !v.IsValid {
		t.Fatalf("validate with the upstream berth's login: %+v", v)
	}

	c := newCLI(t, b.CACert).login(b)
	ref := b.Addr + "/upb/team/app:v1"
	pulledAsUpstream(t, c, upC, b.Addr+"/upb/team/app", up.Addr+"/team/app", ma)
	pulled := c.path("pulled.tar")
	c.run(crane, "pull", "--platform", "linux/amd64", ref, pulled)
	checkCached(t, b, "upb/team/app", "v1", ma.index)

	// Without credentials the upstream berth refuses: no image.
	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("anon"), UpstreamRegistryUrl: aws.String(up.Addr)}); err != nil {
		t.Fatal(err)
	}
	if res, err := c.try(crane, "digest", b.Addr+"/anon/team/app:v1"); err == nil {
		t.Fatalf("pull through a rule without the upstream berth's login succeeded: %s", res.stdout)
	} else if !strings.Contains(err.Error(), "authentication to the upstream registry failed") {
		t.Fatalf("pull without the upstream berth's login: want ECR's upstream-authentication denial, got %v", err)
	}
}
