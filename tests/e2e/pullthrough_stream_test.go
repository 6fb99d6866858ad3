package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestPullThroughStreams: a cold pull is not held up by the import. The
// manifest GET is answered with the upstream's bytes before any blob was
// fetched; a blob GET streams the upstream's bytes while berth stores
// them: the client has the first bytes while the upstream (a proxy in
// front of the reference registry) still holds back all but its first
// MiB. Afterwards the image is cached, and the layer was fetched from the
// upstream once (the background import waited for the streaming GET
// instead of fetching it again). A HEAD of the uncached blob answers the
// upstream's size without fetching it.
func TestPullThroughStreams(t *testing.T) {
	t.Parallel()
	up := startRefRegistry(t)
	proxy := newCountingProxy(t, up)
	b := testenv.StartBerth(t, testenv.BerthOptions{Extra: fmt.Sprintf(
		// The background import keeps off the layer long enough that a
		// loaded machine's pause between the test's requests cannot hand
		// it the fetch the client's GET is to stream.
		"pull_through:\n  ca_file: %s\n  import_delay: 15s\n", proxy.caFile)})
	watchLog(t, b)
	ctx := testenv.Ctx(t, 3*time.Minute)
	c := newCLI(t, bothCAs(t, b.CACert, up.caFile)).login(b)
	crane := goTool(t, "crane")
	c.write("l.tar", makeTar(t, tarFile{name: "big.bin", data: randBytes(t, 4<<20)}))
	upRef := up.addr + "/lib/stream:v1"
	c.run(crane, "append", "-f", c.path("l.tar"), "-t", upRef)
	upManifest := []byte(c.run(crane, "manifest", upRef).stdout)
	layer := parseManifest(t, upManifest).Layers[0].Digest
	layerBytes := []byte(c.run(crane, "blob", up.addr+"/lib/stream@"+layer).stdout)
	proxy.mu.Lock()
	proxy.hold, proxy.release = layer, make(chan struct{})
	proxy.mu.Unlock()
	released := false
	defer func() {
		if !released {
			close(proxy.release)
		}
	}()
	if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("slow"), UpstreamRegistryUrl: aws.String(proxy.addr())}); err != nil {
		t.Fatal(err)
	}

	hc := clientFor(t, b.CACert)
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+path, nil)
		req.SetBasicAuth(b.User, b.Password)
		req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/v2/slow/lib/stream/manifests/v1")
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	proxy.mu.Lock()
	fetched := len(proxy.blobs)
	proxy.mu.Unlock()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, upManifest) || resp.Header.Get("Docker-Content-Digest") != digestOf(upManifest) {
		t.Fatalf("cold manifest GET: %d %q, want the upstream's bytes", resp.StatusCode, got)
	}
	if fetched != 0 {
		t.Fatalf("%d blobs fetched from the upstream before the manifest was answered", fetched)
	}

	// A HEAD of the blob the cache lacks is the upstream's HEAD: its size,
	// nothing fetched.
	req, _ := http.NewRequestWithContext(ctx, http.MethodHead, b.URL+"/v2/slow/lib/stream/blobs/"+layer, nil)
	req.SetBasicAuth(b.User, b.Password)
	head, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	proxy.mu.Lock()
	fetched = proxy.blobs[layer]
	proxy.mu.Unlock()
	if head.StatusCode != http.StatusOK || head.ContentLength != int64(len(layerBytes)) || fetched != 0 {
		t.Fatalf("HEAD of the uncached layer: %s, Content-Length %d, %d GETs upstream", head.Status, head.ContentLength, fetched)
	}

	resp = get("/v2/slow/lib/stream/blobs/" + layer)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(layerBytes)) {
		t.Fatalf("cold blob GET: %s, Content-Length %d", resp.Status, resp.ContentLength)
	}
	first := make([]byte, 512<<10)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("first bytes of the blob while the upstream holds the rest: %v", err)
	}
	close(proxy.release)
	released = true
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sameBytes(t, "streamed layer", append(first, rest...), layerBytes)

	checkCached(t, b, "slow/lib/stream", "v1", digestOf(upManifest))
	sameBytes(t, "cached layer", []byte(c.run(crane, "blob", b.Addr+"/slow/lib/stream@"+layer).stdout), layerBytes)
	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if n := proxy.blobs[layer]; n != 1 {
		t.Errorf("layer fetched %d times from the upstream, want once", n)
	}
}
