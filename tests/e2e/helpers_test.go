package e2e_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/testenv"
)

const installHint = "run scripts/install-tools.sh"

// ---- berth --------------------------------------------------------------

// storeKinds are the storages the per-storage tests run on.
var storeKinds = []string{"disk", "minio"}

// startBerth starts berth over TLS on the given storage ("disk", or "minio":
// a fresh bucket on the shared MinIO), and checks its log for panics when the
// test ends (and prints the log's tail if the test failed).
func startBerth(t *testing.T, store string) *testenv.Berth {
	t.Helper()
	var o testenv.BerthOptions
	switch store {
	case "disk":
	case "minio":
		m := sharedMinIO(t)
		o.Storage = m.S3Storage(newBucket(t, m), "berth")
	default:
		t.Fatalf("unknown store %q", store)
	}
	b := testenv.StartBerth(t, o)
	watchLog(t, b)
	return b
}

// watchLog fails the test if the log mentions a panic, and shows the log's
// tail when the test failed, with every goroutine's stack if the server
// still runs (a hang shows where it hangs).
func watchLog(t *testing.T, b *testenv.Berth) {
	t.Cleanup(func() {
		l := b.Log()
		if strings.Contains(strings.ToLower(l), "panic") {
			t.Errorf("berth log mentions a panic:\n%s", tail(l, 8000))
		} else if t.Failed() {
			t.Logf("berth log (tail):\n%s", tail(l, 4000))
			if st := b.Stacks(); st != "" {
				t.Logf("berth goroutines at the end of the test:\n%s", head(st, 256<<10))
			}
		}
	})
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// host is the registry host:port of a berth URL.
func host(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil {
		panic(err)
	}
	return u.Host
}

// clientFor is an HTTP client that trusts only the CA in caFile.
func clientFor(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	return &http.Client{Transport: tr, Timeout: 3 * time.Minute}
}

// lockedBuffer collects a process's output safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ---- command-line clients -----------------------------------------------

// goTool is the path of crane, oras or regctl from scripts/install-tools.sh.
func goTool(t *testing.T, name string) string {
	t.Helper()
	p := testenv.ToolPath(name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found at %s (%v); %s", name, p, err, installHint)
	}
	return p
}

// sysTool is the path of a tool from a Debian package (skopeo, containerd, ctr).
func sysTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH (%v); %s (it installs the Debian packages skopeo and containerd)", name, err, installHint)
	}
	return p
}

// cli runs client commands with a private HOME (so no client config leaks in
// or out) and SSL_CERT_FILE set to the system bundle plus berth's CA.
type cli struct {
	t       *testing.T
	dir     string   // working directory, for relative file names
	env     []string // environment of every command
	caFile  string   // berth's CA (PEM)
	certDir string   // a directory holding only ca.crt (skopeo's --*-cert-dir)
	bundle  string   // system roots + berth's CA
}

// newCLI prepares the clients' environment for a berth whose CA is caFile.
// With caFile empty the clients trust only the system roots.
func newCLI(t *testing.T, caFile string) *cli {
	t.Helper()
	c := &cli{t: t, dir: t.TempDir(), caFile: caFile}
	home := t.TempDir()
	var system []byte
	for _, p := range []string{os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"} {
		if b, err := os.ReadFile(p); p != "" && err == nil {
			system = b
			break
		}
	}
	bundle := append([]byte(nil), system...)
	if caFile != "" {
		ca, err := os.ReadFile(caFile)
		if err != nil {
			t.Fatal(err)
		}
		bundle = append(append(bundle, '\n'), ca...)
		c.certDir = t.TempDir()
		if err := os.WriteFile(filepath.Join(c.certDir, "ca.crt"), ca, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c.bundle = filepath.Join(home, "ca-bundle.pem")
	if err := os.WriteFile(c.bundle, bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME", "SSL_CERT_FILE", "DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR":
			continue
		}
		c.env = append(c.env, kv)
	}
	c.env = append(c.env, "HOME="+home, "SSL_CERT_FILE="+c.bundle, "DOCKER_CONFIG="+filepath.Join(home, ".docker"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_RUNTIME_DIR="+filepath.Join(home, "run"))
	return c
}

// login gives the clients b's registry credentials (a Docker config.json
// in the private HOME, which crane, oras, regctl, skopeo and docker read).
func (c *cli) login(b *testenv.Berth) *cli {
	for _, kv := range c.env {
		if dir, ok := strings.CutPrefix(kv, "DOCKER_CONFIG="); ok {
			b.DockerConfig(dir)
		}
	}
	return c
}

type cmdResult struct {
	stdout, stderr string
}

// run runs a command and fails the test if it fails.
func (c *cli) run(bin string, args ...string) cmdResult {
	c.t.Helper()
	res, err := c.try(bin, args...)
	if err != nil {
		c.t.Fatalf("%v", err)
	}
	return res
}

// try runs a command (2-minute limit) and returns an error that shows the
// command and its output when it fails.
func (c *cli) try(bin string, args ...string) (cmdResult, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res := cmdResult{out.String(), errb.String()}
	c.t.Logf("$ %s %s  (%.1fs)", filepath.Base(bin), strings.Join(args, " "), time.Since(start).Seconds())
	if err != nil {
		return res, fmt.Errorf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), err,
			tail(res.stdout, 3000), tail(res.stderr, 3000))
	}
	return res, nil
}

// in is c with another working directory.
func (c *cli) in(dir string) *cli {
	cp := *c
	cp.dir = dir
	return &cp
}

// with is c, for another (sub)test.
func (c *cli) with(t *testing.T) *cli {
	cp := *c
	cp.t = t
	return &cp
}

// path is name inside the working directory.
func (c *cli) path(name string) string { return filepath.Join(c.dir, name) }

// write writes a file in the working directory and returns its path.
func (c *cli) write(name string, data []byte) string {
	c.t.Helper()
	p := c.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// ---- content ------------------------------------------------------------

// randBytes is n random bytes.
func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// randHex is n random bytes in hex.
func randHex(t *testing.T, n int) string { return hex.EncodeToString(randBytes(t, n)) }

// digestOf is b's sha256 digest, "sha256:<hex>".
func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// tarFile is a regular file in a tar.
type tarFile struct {
	name string
	data []byte
}

// makeTar builds an uncompressed tar of regular files (fixed metadata).
func makeTar(t *testing.T, files ...tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg,
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarEntry returns the content of the regular file name in a tar stream
// (a leading "./" or "/" on either side is ignored).
func tarEntry(t *testing.T, tarball []byte, name string) []byte {
	t.Helper()
	clean := func(s string) string { return strings.TrimPrefix(strings.TrimPrefix(s, "./"), "/") }
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("no %s in the tar", name)
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		if clean(h.Name) == clean(name) && h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

// tarFiles reads every regular file of a tar into memory, by name.
func tarFiles(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(h.Name, "./")] = data
	}
}

// gunzip decompresses b.
func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

// readFile is os.ReadFile failing the test on error.
func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameBytes fails the test unless got is want (compared by sha256).
func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if g, w := digestOf(got), digestOf(want); g != w {
		t.Fatalf("%s: got %d bytes %s, want %d bytes %s", what, len(got), g, len(want), w)
	}
}

// image is a one-layer image as a client pushes it.
type image struct {
	layerTar []byte // uncompressed layer
	file     tarFile
	tarPath  string // layerTar on disk
}

// newImage makes a layer tar holding one random file of n bytes.
func newImage(t *testing.T, c *cli, n int) image {
	t.Helper()
	f := tarFile{name: "data/random.bin", data: randBytes(t, n)}
	lt := makeTar(t, tarFile{name: "data/hello.txt", data: []byte("hello from " + t.Name() + "\n")}, f)
	return image{layerTar: lt, file: f, tarPath: c.write("layer-"+randHex(t, 4)+".tar", lt)}
}

// checkGzipLayer checks that a pulled gzip layer blob has the pushed
// content: its digest, and its uncompressed bytes equal to the layer tar.
func (im image) checkGzipLayer(t *testing.T, what string, blob []byte, wantDigest string) {
	t.Helper()
	if d := digestOf(blob); d != wantDigest {
		t.Fatalf("%s: blob digest %s, manifest says %s", what, d, wantDigest)
	}
	lt := gunzip(t, blob)
	sameBytes(t, what+" (uncompressed layer)", lt, im.layerTar)
	sameBytes(t, what+" ("+im.file.name+")", tarEntry(t, lt, im.file.name), im.file.data)
}

// ociManifest is the part of an image manifest the tests read and write.
type ociManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Subject       *descriptor       `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

const (
	mtOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex    = "application/vnd.oci.image.index.v1+json"
	mtOCIConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayerTar    = "application/vnd.oci.image.layer.v1.tar"
)

// parseManifest decodes an image manifest.
func parseManifest(t *testing.T, b []byte) ociManifest {
	t.Helper()
	var m ociManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v\n%s", err, tail(string(b), 2000))
	}
	return m
}

// mustJSON is json.Marshal failing the test on error.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---- raw registry API -----------------------------------------------------

// api speaks the distribution API to one registry.
type api struct {
	t    *testing.T
	base string // https://host:port
	c    *http.Client
	b    *testenv.Berth
}

// newAPI speaks to b, trusting its CA.
func newAPI(t *testing.T, b *testenv.Berth) api {
	c := *b.Client
	c.Timeout = 3 * time.Minute
	return api{t: t, base: b.URL, c: &c, b: b}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// codes are the registry error codes of an error body, or nil if the body
// is not a registry error.
func (r response) codes() []string {
	var e struct {
		Errors []struct {
			Code string `json:"code"`
		} `json:"errors"`
	}
	if json.Unmarshal(r.body, &e) != nil {
		return nil
	}
	var cs []string
	for _, x := range e.Errors {
		cs = append(cs, x.Code)
	}
	return cs
}

// String shows the status, content type and (the end of) the body.
func (r response) String() string {
	return fmt.Sprintf("%d %s %s", r.status, r.header.Get("Content-Type"), tail(string(r.body), 600))
}

// abs resolves a path or a Location header against the registry's URL.
func (a api) abs(ref string) string {
	u, err := url.Parse(a.base)
	if err != nil {
		a.t.Fatal(err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		a.t.Fatalf("bad location %q: %v", ref, err)
	}
	return u.ResolveReference(r).String()
}

// try sends one request; hdr is key, value pairs.
func (a api) try(method, ref string, body []byte, hdr ...string) (response, error) {
	req, err := http.NewRequest(method, a.abs(ref), bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: reading body: %w", method, ref, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// do is try, failing the test when the request gets no response.
func (a api) do(method, ref string, body []byte, hdr ...string) response {
	a.t.Helper()
	r, err := a.try(method, ref, body, hdr...)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, ref, err)
	}
	return r
}

// expect fails the test unless r has the status.
func (a api) expect(r response, what string, status int) {
	a.t.Helper()
	if r.status != status {
		a.t.Fatalf("%s: want %d, got %s", what, status, r)
	}
}

// withQuery appends a query parameter to a Location.
func withQuery(loc, k, v string) string {
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	return loc + sep + url.QueryEscape(k) + "=" + url.QueryEscape(v)
}

// startUpload POSTs a new upload and returns its Location.
func (a api) startUpload(repo string) string {
	a.t.Helper()
	r := a.do("POST", "/v2/"+repo+"/blobs/uploads/", nil)
	a.expect(r, "POST upload", http.StatusAccepted)
	loc := r.header.Get("Location")
	if loc == "" {
		a.t.Fatalf("POST upload: no Location: %s", r)
	}
	return loc
}

// patch sends one chunk at offset and returns the next Location.
func (a api) patch(loc string, chunk []byte, offset int) (string, response) {
	a.t.Helper()
	r := a.do("PATCH", loc, chunk, "Content-Type", "application/octet-stream",
		"Content-Range", fmt.Sprintf("%d-%d", offset, offset+len(chunk)-1))
	return r.header.Get("Location"), r
}

// pushBlob uploads data in the given number of PATCH chunks and a final
// PUT, and returns its digest.
func (a api) pushBlob(repo string, data []byte, chunks int) string {
	a.t.Helper()
	dg := digestOf(data)
	loc := a.startUpload(repo)
	size := (len(data) + chunks - 1) / chunks
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		var r response
		loc, r = a.patch(loc, data[off:end], off)
		a.expect(r, fmt.Sprintf("PATCH %d-%d", off, end-1), http.StatusAccepted)
	}
	r := a.do("PUT", withQuery(loc, "digest", dg), nil)
	a.expect(r, "PUT upload", http.StatusCreated)
	if got := r.header.Get("Docker-Content-Digest"); got != dg {
		a.t.Fatalf("PUT upload: Docker-Content-Digest %q, want %q", got, dg)
	}
	return dg
}

// putManifest PUTs a manifest and returns its digest.
func (a api) putManifest(repo, ref, mediaType string, body []byte) string {
	a.t.Helper()
	r := a.do("PUT", "/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mediaType)
	a.expect(r, "PUT manifest "+repo+":"+ref, http.StatusCreated)
	return digestOf(body)
}

// getBlob GETs a blob and checks its digest.
func (a api) getBlob(repo, dg string) []byte {
	a.t.Helper()
	r := a.do("GET", "/v2/"+repo+"/blobs/"+dg, nil)
	a.expect(r, "GET blob "+dg, http.StatusOK)
	if got := digestOf(r.body); got != dg {
		a.t.Fatalf("GET blob %s: content has digest %s", dg, got)
	}
	return r.body
}

// headStatus is the status of a HEAD request.
func (a api) headStatus(ref string) int {
	a.t.Helper()
	return a.do("HEAD", ref, nil).status
}

// pushImage pushes a config blob, one layer blob (in chunks) and an OCI
// manifest with the given layer media type; it returns the manifest's
// digest and bytes.
func (a api) pushImage(repo, tag string, layer []byte, layerMT string, chunks int) (digest string, manifest []byte) {
	a.t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cfgDg := a.pushBlob(repo, cfg, 1)
	layerDg := a.pushBlob(repo, layer, chunks)
	manifest = mustJSON(a.t, ociManifest{SchemaVersion: 2, MediaType: mtOCIManifest,
		Config: descriptor{MediaType: mtOCIConfig, Digest: cfgDg, Size: int64(len(cfg))},
		Layers: []descriptor{{MediaType: layerMT, Digest: layerDg, Size: int64(len(layer))}}})
	return a.putManifest(repo, tag, mtOCIManifest, manifest), manifest
}

// with is a, for another (sub)test.
func (a api) with(t *testing.T) api {
	a.t = t
	return a
}

// expectError checks the status (never a 5xx) and that the body is a
// registry error carrying one of the codes.
func expectError(t *testing.T, what string, r response, statuses []int, codes ...string) {
	t.Helper()
	if r.status >= 500 {
		t.Errorf("%s: server error: %s", what, r)
		return
	}
	if !slices.Contains(statuses, r.status) {
		t.Errorf("%s: status %d, want one of %v: %s", what, r.status, statuses, r)
		return
	}
	got := r.codes()
	for _, c := range got {
		if slices.Contains(codes, c) {
			return
		}
	}
	t.Errorf("%s: error codes %q, want one of %q: %s", what, got, codes, r)
}

// expect5xx checks r is a server error with a registry error body.
func expect5xx(t *testing.T, what string, r response) {
	t.Helper()
	if r.status < 500 || r.status > 599 {
		t.Errorf("%s: want a 5xx, got %s", what, r)
	} else if len(r.codes()) == 0 {
		t.Errorf("%s: %d without a registry error body: %s", what, r.status, r)
	} else {
		t.Logf("%s: %s", what, r)
	}
}

// expectNoBlob checks that none of the digests is a blob of repo (HEAD and
// GET both 404).
func (a api) expectNoBlob(repo string, digests ...string) {
	a.t.Helper()
	for _, d := range digests {
		if s := a.headStatus("/v2/" + repo + "/blobs/" + d); s != http.StatusNotFound {
			a.t.Errorf("HEAD blob %s: status %d, want 404", d, s)
		}
		r := a.do("GET", "/v2/"+repo+"/blobs/"+d, nil)
		if r.status != http.StatusNotFound || !slices.Contains(r.codes(), "BLOB_UNKNOWN") {
			a.t.Errorf("GET blob %s: want 404 BLOB_UNKNOWN, got %s", d, r)
		}
	}
}

// expectNoManifest checks that repo has no manifest under ref.
func (a api) expectNoManifest(repo, ref string) {
	a.t.Helper()
	r := a.do("GET", "/v2/"+repo+"/manifests/"+ref, nil, "Accept", mtOCIManifest)
	if r.status != http.StatusNotFound {
		a.t.Errorf("GET manifest %s:%s: want 404, got %s", repo, ref, r)
	}
}

// waitReady waits up to a minute for /readyz to answer 200.
func waitReady(t *testing.T, a api) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r, err := a.try("GET", "/readyz", nil)
		if err == nil && r.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 a minute after MinIO restarted: %v %s", err, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sendTruncated sends a request over its own HTTP/1.1 connection that
// declares Content-Length: declared but carries only body, then closes its
// side of the connection and reads until the server has answered or closed:
// the handler is done with the request when this returns. It returns the
// first line of the answer, if any.
func (a api) sendTruncated(method, ref string, body []byte, declared int) string {
	a.t.Helper()
	u, err := url.Parse(a.abs(ref))
	if err != nil {
		a.t.Fatal(err)
	}
	cfg := a.b.TLSConfig()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", u.Host, cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: "+a.b.BasicAuth()+"\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		method, u.RequestURI(), u.Host, declared)
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		a.t.Fatal(err)
	}
	if err := conn.CloseWrite(); err != nil {
		a.t.Fatal(err)
	}
	answer, err := io.ReadAll(conn)
	first, _, _ := strings.Cut(string(answer), "\r\n")
	if err != nil {
		first += fmt.Sprintf(" (read: %v)", err)
	}
	if first == "" {
		first = "(connection closed without an answer)"
	}
	return first
}

// ---- files ----------------------------------------------------------------

// scanFor walks root and reports every regular file that contains any of
// the needles, and how many bytes it read. Files that vanish meanwhile
// (other tests share the MinIO data dir) are skipped.
func scanFor(t *testing.T, root string, needles ...[]byte) (hits []string, scanned int64) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		scanned += int64(len(b))
		for i, n := range needles {
			if bytes.Contains(b, n) {
				hits = append(hits, fmt.Sprintf("%s (needle %d)", p, i))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}
	return hits, scanned
}

// stopProcess sends SIGTERM and waits (SIGKILL after 10 s).
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// ---- daemons ----------------------------------------------------------------

// startContainerd runs a containerd of the test's own (root, state and
// sockets under a temp dir, CRI disabled) and returns its socket.
func startContainerd(t *testing.T) string {
	t.Helper()
	bin := sysTool(t, "containerd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "containerd.sock")
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc", filepath.Join(dir, "opt"))
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var log lockedBuffer
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stopProcess(cmd, exited)
		if t.Failed() {
			t.Logf("containerd log (tail):\n%s", tail(log.String(), 3000))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("containerd exited during start:\n%s", tail(log.String(), 3000))
		default:
		}
		if strings.Contains(log.String(), "containerd successfully booted") {
			if _, err := os.Stat(sock); err == nil {
				return sock
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd not ready after 30s:\n%s", tail(log.String(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hostsDir writes a containerd hosts directory for reg that uses https and,
// when caFile is set, trusts it.
func hostsDir(t *testing.T, reg, caFile string) string {
	t.Helper()
	dir := t.TempDir()
	toml := fmt.Sprintf("server = %q\n[host.%q]\n  capabilities = [\"pull\", \"resolve\", \"push\"]\n", "https://"+reg, "https://"+reg)
	if caFile != "" {
		toml += fmt.Sprintf("  ca = %q\n", caFile)
	}
	if err := os.MkdirAll(filepath.Join(dir, reg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, reg, "hosts.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loopbackName gives ::1 a name of its own in /etc/hosts for the test and
// returns it. The Docker daemon treats 127.0.0.0/8 (and names resolving
// there) as an insecure registry and skips TLS verification; an IPv6
// loopback name keeps the traffic on loopback and the daemon verifying
// berth's certificate through /etc/docker/certs.d. The daemon reads this
// machine's /etc/hosts; the line is removed again in cleanup.
func loopbackName(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback (%v): the Docker daemon would not verify TLS on 127.0.0.0/8", err)
	}
	ln.Close()
	name := "berth-e2e-" + randHex(t, 4) + ".test"
	line := "::1 " + name + "\n"
	if err := editHosts(func(b []byte) []byte { return append(b, line...) }); err != nil {
		t.Skipf("cannot add a name for ::1 to /etc/hosts: %v", err)
	}
	t.Cleanup(func() {
		_ = editHosts(func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), line, "")) })
	})
	waitDockerResolves(t, name)
	return name
}

// waitDockerResolves waits until the Docker daemon resolves name. The
// daemon is a Go program: its resolver keeps /etc/hosts for 5 seconds
// before looking at it again, so a name added while another test's docker
// commands run is "no such host" to it for up to 5 s — docker commands do
// not retry that. A pull from port 1 of the name asks the daemon's
// resolver; anything but "no such host" means the name resolves.
func waitDockerResolves(t *testing.T, name string) {
	t.Helper()
	docker, err := exec.LookPath("docker")
	if err != nil {
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := exec.Command(docker, "pull", name+":1/berth-e2e/resolve-probe:none").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no such host") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Docker daemon does not resolve %s from /etc/hosts after 20 s: %s", name, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// hostsMu and an flock on /etc/hosts serialise its edits: the cleanup's
// read-modify-write of one test must not drop the line another test (in
// this process or another test binary) has just added, or that test's
// name stops resolving under it.
var hostsMu sync.Mutex

// editHosts rewrites /etc/hosts in place with edit, under the locks.
func editHosts(edit func([]byte) []byte) error {
	hostsMu.Lock()
	defer hostsMu.Unlock()
	f, err := os.OpenFile("/etc/hosts", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	b = edit(b)
	// In place (truncate and write), not by rename: /etc/hosts is often a
	// bind mount in a container.
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	return err
}

// inspect decodes `docker image inspect ref` into v.
func inspect(t *testing.T, c *cli, docker, ref string, v any) {
	t.Helper()
	out := c.run(docker, "image", "inspect", ref).stdout
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		t.Fatalf("docker image inspect %s: %v\n%s", ref, err, out)
	}
	if err := json.Unmarshal(list[0], v); err != nil {
		t.Fatal(err)
	}
}

// head is the first n bytes of s.
func head(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n…"
	}
	return s
}
