package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"golang.org/x/crypto/bcrypt"

	"github.com/berth-registry/berth/internal/testenv"
	"github.com/berth-registry/berth/tlsgen"
)

// refRegistry is the reference registry (distribution) serving HTTPS with
// a CA of its own: an upstream for the pull-through cache.
type refRegistry struct {
	addr, caFile string
	cmd          *exec.Cmd
	exited       chan struct{}
}

// startRefRegistry starts it; with login = user, password it requires
// that basic login (htpasswd).
func startRefRegistry(t *testing.T, login ...string) *refRegistry {
	t.Helper()
	bin := goTool(t, "registry")
	dir := t.TempDir()
	p := tlsgen.InDir(dir)
	if _, err := tlsgen.Ensure(p, nil); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort()
	authCfg := ""
	if len(login) == 2 {
		hash, err := bcrypt.GenerateFromPassword([]byte(login[1]), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		hp := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(hp, []byte(login[0]+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		authCfg = fmt.Sprintf("auth:\n  htpasswd:\n    realm: upstream\n    path: %s\n", hp)
	}
	cfg := authCfg + fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
  tls:
    certificate: %s
    key: %s
`, filepath.Join(dir, "data"), port, p.Cert, p.Key)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	rr := &refRegistry{addr: fmt.Sprintf("127.0.0.1:%d", port), caFile: p.CACert, exited: make(chan struct{})}
	rr.cmd = exec.Command(bin, "serve", cfgPath)
	rr.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	var log lockedBuffer
	rr.cmd.Stdout, rr.cmd.Stderr = &log, &log
	if err := rr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = rr.cmd.Wait(); close(rr.exited) }()
	t.Cleanup(func() {
		rr.stop()
		if t.Failed() {
			t.Logf("reference registry log:\n%s", tail(log.String(), 3000))
		}
	})
	hc := clientFor(t, rr.caFile)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := hc.Get("https://" + rr.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return rr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("reference registry not ready: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (rr *refRegistry) stop() {
	if rr.cmd.Process != nil {
		_ = rr.cmd.Process.Kill()
		<-rr.exited
	}
}

// bothCAs writes one PEM file trusting berth's and the upstream's CA.
func bothCAs(t *testing.T, files ...string) string {
	t.Helper()
	var all []byte
	for _, f := range files {
		all = append(append(all, readFile(t, f)...), '\n')
	}
	p := filepath.Join(t.TempDir(), "cas.pem")
	if err := os.WriteFile(p, all, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPullThroughFromReferenceRegistry: an image pushed to the reference
// registry (HTTPS, its own CA named by pull_through.ca_file) is pulled with
// crane through berth's pull-through cache: the repository is created on
// the first pull, manifest and layer bytes equal the upstream's, the image
// is an ordinary image (DescribeImages), a tag moved upstream is picked up
// after the re-check interval, a stopped upstream still serves the cache,
// and pullers without ecr:CreateRepository / ecr:BatchImportUpstreamImage
// get ECR's answers.
func TestPullThroughFromReferenceRegistry(t *testing.T) {
	t.Parallel()
	up := startRefRegistry(t)
	// The re-check interval must outlast the steps between the first pull
	// and the "within the interval" check (a few crane runs, near 5 s on a
	// loaded 2-core machine; 3 s made the test flaky there).
	const recheck = 10 * time.Second
	b := testenv.StartBerth(t, testenv.BerthOptions{Extra: fmt.Sprintf("pull_through:\n  ca_file: %s\n  tag_recheck_interval: %s\n", up.caFile, recheck)})
	watchLog(t, b)
	ctx := testenv.Ctx(t, 5*time.Minute)
	c := newCLI(t, bothCAs(t, b.CACert, up.caFile)).login(b)
	crane := goTool(t, "crane")

	// Push v1 upstream: one random layer on an empty base.
	layer1 := makeTar(t, tarFile{name: "hello.txt", data: randBytes(t, 300<<10)})
	c.write("l1.tar", layer1)
	upRef := up.addr + "/lib/app:v1"
	c.run(crane, "append", "-f", c.path("l1.tar"), "-t", upRef)
	upManifest := []byte(c.run(crane, "manifest", upRef).stdout)
	upDigest := strings.TrimSpace(c.run(crane, "digest", upRef).stdout)

	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ref"), UpstreamRegistryUrl: aws.String(up.addr)}); err != nil {
		t.Fatal(err)
	}

	// First pull through berth.
	ref := b.Addr + "/ref/lib/app:v1"
	firstPull := time.Now() // the tag's check is marked after this…
	got := []byte(c.run(crane, "manifest", ref).stdout)
	checked := time.Now() // …and before this (before berth answers)
	sameBytes(t, "manifest through berth", got, upManifest)
	if d := strings.TrimSpace(c.run(crane, "digest", ref).stdout); d != upDigest {
		t.Fatalf("digest through berth %s, upstream %s", d, upDigest)
	}
	m := parseManifest(t, got)
	for _, l := range append(m.Layers, m.Config) {
		ub := []byte(c.run(crane, "blob", up.addr+"/lib/app@"+l.Digest).stdout)
		bb := []byte(c.run(crane, "blob", b.Addr+"/ref/lib/app@"+l.Digest).stdout)
		sameBytes(t, "blob "+l.Digest, bb, ub)
	}
	c.run(crane, "pull", ref, c.path("pulled.tar"))

	checkCached(t, b, "ref/lib/app", "v1", upDigest)
	imgs, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("ref/lib/app")})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.ImageDetails) != 1 || len(imgs.ImageDetails[0].ImageTags) != 1 {
		t.Fatalf("DescribeImages: %+v", imgs.ImageDetails)
	}

	// The tag moves upstream: the cache serves v1 until the re-check.
	layer2 := makeTar(t, tarFile{name: "hello.txt", data: randBytes(t, 100<<10)})
	c.write("l2.tar", layer2)
	c.run(crane, "append", "-f", c.path("l2.tar"), "-t", upRef)
	upDigest2 := strings.TrimSpace(c.run(crane, "digest", upRef).stdout)
	d := strings.TrimSpace(c.run(crane, "digest", ref).stdout)
	switch inside := time.Since(firstPull) < recheck; {
	case inside && d != upDigest:
		t.Fatalf("within the re-check interval (%s after the first pull): %s, want the cached %s", time.Since(firstPull), d, upDigest)
	case !inside:
		// A machine this slow re-checked already: the in-interval check is
		// moot, and that pull marked the tag checked again.
		t.Logf("%s after the first pull: past the re-check interval", time.Since(firstPull).Round(time.Millisecond))
		checked = time.Now()
	}
	time.Sleep(time.Until(checked.Add(recheck + 500*time.Millisecond)))
	if d := strings.TrimSpace(c.run(crane, "digest", ref).stdout); d != upDigest2 {
		t.Fatalf("after the re-check interval: %s, want the moved tag's %s", d, upDigest2)
	}
	checkCached(t, b, "ref/lib/app", "v1", upDigest2) // imported in the background

	// A first pull by digest (berth, unlike ECR, imports it).
	c.write("l3.tar", makeTar(t, tarFile{name: "d.txt", data: randBytes(t, 50<<10)}))
	c.run(crane, "append", "-f", c.path("l3.tar"), "-t", up.addr+"/lib/app:bydigest")
	byDigest := strings.TrimSpace(c.run(crane, "digest", up.addr+"/lib/app:bydigest").stdout)
	sameBytes(t, "manifest pulled by digest", []byte(c.run(crane, "manifest", b.Addr+"/ref/lib/app@"+byDigest).stdout),
		[]byte(c.run(crane, "manifest", up.addr+"/lib/app@"+byDigest).stdout))

	// The pull-through collectors saw the imports.
	mresp, err := clientFor(t, b.CACert).Get(b.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{"berth_pull_through_misses_total 3", "berth_pull_through_hits_total", "berth_pull_through_upstream_seconds_count"} {
		if !strings.Contains(string(mbody), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(mbody), "berth_pull_through_bytes_fetched_total 0\n") {
		t.Errorf("/metrics: no bytes fetched")
	}

	// Callers without the pull-through permissions, as on ECR.
	ro := newPuller(t, b, "ptc-readonly", "AmazonEC2ContainerRegistryReadOnly")
	if r := ro.get(ctx, "/v2/ref/lib/other/manifests/v1"); r.status != http.StatusNotFound || !strings.Contains(r.body, "NAME_UNKNOWN") {
		t.Fatalf("read-only puller, new cache repository: %d %s", r.status, r.body)
	}
	c.run(crane, "tag", upRef, "v3")
	if r := ro.get(ctx, "/v2/ref/lib/app/manifests/v3"); r.status != http.StatusNotFound || !strings.Contains(r.body, "MANIFEST_UNKNOWN") ||
		!strings.Contains(r.body, "Requested image not found") {
		t.Fatalf("read-only puller, uncached tag: %d %s", r.status, r.body)
	}
	po := newPuller(t, b, "ptc-pullonly", "AmazonEC2ContainerRegistryPullOnly")
	if r := po.get(ctx, "/v2/ref/lib/app/manifests/v3"); r.status != http.StatusOK {
		t.Fatalf("pull-only puller (BatchImportUpstreamImage), uncached tag: %d %s", r.status, r.body)
	}

	// The upstream goes away: the cache is still served, also after the
	// re-check interval.
	up.stop()
	time.Sleep(recheck + 500*time.Millisecond)
	if d := strings.TrimSpace(c.run(crane, "digest", ref).stdout); d != upDigest2 {
		t.Fatalf("upstream stopped: %s, want the cached %s", d, upDigest2)
	}
	c.run(crane, "pull", ref, c.path("pulled2.tar"))
	// Nothing cached and no upstream: an error, no repository content.
	if r := po.get(ctx, "/v2/ref/lib/app/manifests/nope"); r.status < 400 {
		t.Fatalf("uncached tag with the upstream down: %d %s", r.status, r.body)
	}
}

// puller is a /v2 client logged in as one IAM user.
type puller struct {
	t          *testing.T
	b          *testenv.Berth
	user, pass string
	hc         *http.Client
}

type pullResp struct {
	status int
	body   string
}

func newPuller(t *testing.T, b *testenv.Berth, name, policy string) *puller {
	t.Helper()
	id, secret := b.NewUser("000000000000", name, policy)
	ctx := testenv.Ctx(t, time.Minute)
	user, pass := b.Login(ctx, b.ECRWith(id, secret, ""))
	return &puller{t: t, b: b, user: user, pass: pass, hc: clientFor(t, b.CACert)}
}

func (p *puller) get(ctx context.Context, path string) pullResp {
	p.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+p.b.Addr+path, nil)
	req.SetBasicAuth(p.user, p.pass)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := p.hc.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	n, _ := resp.Body.Read(buf)
	sb.Write(buf[:n])
	return pullResp{status: resp.StatusCode, body: sb.String()}
}
