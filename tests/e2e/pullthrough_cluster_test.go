package e2e_test

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// countingProxy is an HTTPS reverse proxy in front of the reference
// registry that counts the blob GETs it forwards, by digest.
type countingProxy struct {
	srv    *httptest.Server
	caFile string
	mu     sync.Mutex
	blobs  map[string]int
	// corrupt, when set, is a blob digest whose bytes the proxy changes.
	corrupt string
	// hold, when set, is a blob digest the proxy sends only its first
	// MiB of until release is closed.
	hold    string
	release chan struct{}
}

func newCountingProxy(t *testing.T, up *refRegistry) *countingProxy {
	t.Helper()
	target, _ := url.Parse("https://" + up.addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = clientFor(t, up.caFile).Transport
	p := &countingProxy{blobs: map[string]int{}}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if i := strings.Index(r.URL.Path, "/blobs/sha256:"); i > 0 && r.Method == http.MethodGet {
			p.mu.Lock()
			p.blobs[r.URL.Path[i+len("/blobs/"):]]++
			p.mu.Unlock()
		}
		r.Host = target.Host
		p.mu.Lock()
		bad := p.corrupt != "" && strings.HasSuffix(r.URL.Path, "/blobs/"+p.corrupt)
		held := p.hold != "" && strings.HasSuffix(r.URL.Path, "/blobs/"+p.hold) && r.Method == http.MethodGet
		p.mu.Unlock()
		if bad {
			w = &flipWriter{ResponseWriter: w}
		}
		if held {
			w = &holdWriter{ResponseWriter: w, after: 1 << 20, release: p.release}
		}
		rp.ServeHTTP(w, r)
	}))
	p.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	p.caFile = filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *countingProxy) addr() string { return strings.TrimPrefix(p.srv.URL, "https://") }

// TestPullThroughOnceAcrossNodes: 8 concurrent crane pulls of a cold image
// through three nodes sharing PostgreSQL and MinIO fetch each blob from the
// upstream exactly once, and every puller gets the upstream's bytes.
//
// The image is the 100 MiB: four 25 MiB layers of random bytes (so
// gzip keeps them that size), large enough that a fetch takes long beside
// the pullers' requests on the other nodes, so they really wait on the
// lease. About 10 s more than a 32 MiB image on the 2-core machine `make
// test` runs on (8 pulls write 800 MiB of OCI layouts).
func TestPullThroughOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	up := startRefRegistry(t)
	proxy := newCountingProxy(t, up)
	m := sharedMinIO(t)
	dsn := testenv.StartPostgres(t)
	nodes := testenv.StartCluster(t, 3, testenv.BerthOptions{
		Storage: m.S3Storage(newBucket(t, m), "berth"),
		Extra: fmt.Sprintf("metadata: {engine: postgres, dsn: %q}\npull_through:\n  ca_file: %s\n",
			dsn, proxy.caFile),
	})
	for _, b := range nodes {
		watchLog(t, b)
	}
	ctx := testenv.Ctx(t, 5*time.Minute)
	c := newCLI(t, bothCAs(t, nodes[0].CACert, nodes[1].CACert, nodes[2].CACert, up.caFile))
	auths := map[string]any{}
	for _, b := range nodes {
		auths[b.Addr] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(b.User + ":" + b.Password))}
	}
	for _, kv := range c.env {
		if dir, ok := strings.CutPrefix(kv, "DOCKER_CONFIG="); ok {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"), mustJSON(t, map[string]any{"auths": auths}), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	crane := goTool(t, "crane")
	var layers []string
	for i := range 4 {
		name := fmt.Sprintf("l%d.tar", i)
		c.write(name, makeTar(t, tarFile{name: name, data: randBytes(t, 25<<20)}))
		layers = append(layers, "-f", c.path(name))
	}
	upRef := up.addr + "/lib/big:v1"
	c.run(crane, append(append([]string{"append"}, layers...), "-t", upRef)...)
	want := strings.TrimSpace(c.run(crane, "digest", upRef).stdout)
	if _, err := nodes[0].ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("hub"), UpstreamRegistryUrl: aws.String(proxy.addr())}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := nodes[i%len(nodes)]
			res, err := c.try(crane, "pull", "--format", "oci", b.Addr+"/hub/lib/big:v1", c.path(fmt.Sprintf("out%d", i)))
			if err != nil {
				errs <- fmt.Errorf("pull %d via %s: %v %s", i, b.Addr, err, res.stderr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range nodes {
		if d := strings.TrimSpace(c.run(crane, "digest", nodes[i].Addr+"/hub/lib/big:v1").stdout); d != want {
			t.Fatalf("node %d serves %s, upstream %s", i, d, want)
		}
	}
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if len(proxy.blobs) != 5 { // 4 layers and the config
		t.Errorf("blobs fetched upstream: %v, want 5 distinct", proxy.blobs)
	}
	for d, n := range proxy.blobs {
		if n != 1 {
			t.Errorf("blob %s fetched %d times from upstream, want once", d, n)
		}
	}
}

// flipWriter changes the first byte of a body: a lying upstream.
type flipWriter struct {
	http.ResponseWriter
	done bool
}

func (f *flipWriter) Write(b []byte) (int, error) {
	if !f.done && len(b) > 0 {
		f.done = true
		c := append([]byte(nil), b...)
		c[0] ^= 0xff
		return f.ResponseWriter.Write(c)
	}
	return f.ResponseWriter.Write(b)
}

// holdWriter sends the first after bytes of a body, then waits for
// release: a slow upstream.
type holdWriter struct {
	http.ResponseWriter
	after   int
	sent    int
	release chan struct{}
}

func (h *holdWriter) Write(b []byte) (int, error) {
	if h.sent >= h.after {
		<-h.release
	}
	n, err := h.ResponseWriter.Write(b)
	h.sent += n
	if h.sent >= h.after {
		h.ResponseWriter.(http.Flusher).Flush()
	}
	return n, err
}

// TestPullThroughLyingUpstream: an upstream whose blob bytes do not match
// their digest fails the pull and leaves no image and no such blob in the
// cache; once the upstream tells the truth the same pull works.
func TestPullThroughLyingUpstream(t *testing.T) {
	t.Parallel()
	up := startRefRegistry(t)
	proxy := newCountingProxy(t, up)
	b := testenv.StartBerth(t, testenv.BerthOptions{Extra: fmt.Sprintf("pull_through:\n  ca_file: %s\n", proxy.caFile)})
	watchLog(t, b)
	ctx := testenv.Ctx(t, 3*time.Minute)
	c := newCLI(t, bothCAs(t, b.CACert, up.caFile)).login(b)
	crane := goTool(t, "crane")
	c.write("l.tar", makeTar(t, tarFile{name: "x", data: randBytes(t, 1<<20)}))
	upRef := up.addr + "/lib/liar:v1"
	c.run(crane, "append", "-f", c.path("l.tar"), "-t", upRef)
	m := parseManifest(t, []byte(c.run(crane, "manifest", upRef).stdout))
	layer := m.Layers[0].Digest
	proxy.mu.Lock()
	proxy.corrupt = layer
	proxy.mu.Unlock()
	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("lie"), UpstreamRegistryUrl: aws.String(proxy.addr())}); err != nil {
		t.Fatal(err)
	}
	ref := b.Addr + "/lie/lib/liar:v1"
	// The manifest is answered from the upstream at once; the layer's
	// stream is broken off when its bytes turn out not to be its digest,
	// so the pull fails rather than taking wrong bytes.
	if res, err := c.try(crane, "pull", ref, c.path("liar.tar")); err == nil {
		t.Fatalf("pull through a lying upstream succeeded: %s", res.stdout)
	}
	// The background import fails the same way and stores nothing.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(b.Log(), "background import failed"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the background import of the lying upstream's image did not fail")
		}
	}
	imgs, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("lie/lib/liar")})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs.ImageDetails) != 0 {
		t.Fatalf("images after a failed import: %+v", imgs.ImageDetails)
	}
	avail, err := b.ECR().BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{
		RepositoryName: aws.String("lie/lib/liar"), LayerDigests: []string{layer}})
	if err != nil {
		t.Fatal(err)
	}
	if len(avail.Layers) != 0 || len(avail.Failures) != 1 || string(avail.Failures[0].FailureCode) != "MissingLayerDigest" {
		t.Fatalf("the corrupted blob is stored: %+v %+v", avail.Layers, avail.Failures)
	}
	proxy.mu.Lock()
	proxy.corrupt = ""
	proxy.mu.Unlock()
	if d := strings.TrimSpace(c.run(crane, "digest", ref).stdout); d != strings.TrimSpace(c.run(crane, "digest", upRef).stdout) {
		t.Fatalf("after the upstream recovered: %s", d)
	}
	c.run(crane, "pull", ref, c.path("liar.tar"))
	checkCached(t, b, "lie/lib/liar", "v1", strings.TrimSpace(c.run(crane, "digest", upRef).stdout))
}
