package e2e_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// watchRSS samples pid's resident set every 10 ms after resetting its
// high-water mark; stop reports the peak in bytes (the larger of the
// samples and VmHWM).
func watchRSS(t *testing.T, pid int) (stop func() int64) {
	t.Helper()
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) // resets VmHWM
	quit, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, procStatus(pid, "VmRSS"))
			select {
			case <-quit:
				done <- max(peak, procStatus(pid, "VmHWM"))
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 { close(quit); return <-done }
}

// procStatus is a "kB" field of /proc/<pid>/status, in bytes.
func procStatus(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// filler is n bytes of JSON-ish filler, made as it is read.
type filler struct{ n int64 }

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), f.n)
	for i := range k {
		p[i] = 'A'
	}
	f.n -= k
	return int(k), nil
}

// emptySHA256 is the payload hash of an empty body.
var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// TestUnauthenticatedFlood: 64 concurrent 28 MiB UploadLayerPart calls
// that cannot authenticate (no signature, an unknown access key, a
// signature for another region) and single-request blob uploads without a
// login token, over HTTP/1.1 and again over HTTP/2, are each refused
// before their body is read: berth's resident set stays under 150 MiB.
func TestUnauthenticatedFlood(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	const (
		clients = 64
		size    = 28 << 20
		limit   = 150 << 20
	)
	ctx := testenv.Ctx(t, 3*time.Minute)
	before := procStatus(b.Pid(), "VmRSS")
	stop := watchRSS(t, b.Pid())
	kinds := []struct {
		name, id, region, status, code string
		v2                             bool // a blob upload without a login token instead
	}{
		{"no signature", "", "", "403", "MissingAuthenticationTokenException", false},
		{"unknown key", "AKIA" + strings.Repeat("Z", 16), "us-east-1", "400", "UnrecognizedClientException", false},
		{"another region", b.AccessKeyID, "eu-west-1", "400", "InvalidSignatureException", false},
		{"blob upload without a token", "", "", "401", "", true},
	}
	for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
		tr := &http.Transport{TLSClientConfig: b.TLSConfig(), ForceAttemptHTTP2: proto == "HTTP/2"}
		if proto == "HTTP/1.1" {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			outcomes = map[string]int{}
		)
		for i := range clients {
			k := kinds[i%len(kinds)]
			wg.Add(1)
			go func() {
				defer wg.Done()
				url := b.URL + "/"
				if k.v2 {
					url = b.URL + "/v2/e2e/flood/blobs/uploads/?digest=sha256:" + strings.Repeat("a", 64)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, &filler{n: size})
				req.ContentLength = size
				if !k.v2 {
					req.Header.Set("Content-Type", "application/x-amz-json-1.1")
					req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart")
				}
				if k.id != "" {
					creds := aws.Credentials{AccessKeyID: k.id, SecretAccessKey: "not the secret"}
					if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "ecr", k.region, time.Now()); err != nil {
						panic(err)
					}
				}
				got := ""
				resp, err := hc.Do(req)
				if err != nil {
					got = "error: " + err.Error()
				} else {
					got = strconv.Itoa(resp.StatusCode) + " " + resp.Header.Get("X-Amzn-ErrorType")
					resp.Body.Close()
				}
				want := k.status + " " + k.code
				mu.Lock()
				defer mu.Unlock()
				switch {
				case got == want:
					outcomes[k.name+": "+got]++
				case proto == "HTTP/1.1" && err != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)):
					// HTTP/1.1 cannot refuse a body without closing the
					// connection; a client still writing may see the
					// reset before it reads the answer (a retry gets the
					// same answer).
					outcomes[k.name+": reset while sending"]++
				default:
					outcomes[k.name+": UNEXPECTED "+got]++
				}
			}()
		}
		wg.Wait()
		tr.CloseIdleConnections()
		for o, n := range outcomes {
			t.Logf("%s: %d × %s", proto, n, o)
			if strings.Contains(o, "UNEXPECTED") {
				t.Errorf("%s: %d × %s", proto, n, o)
			}
		}
		for _, k := range kinds {
			if outcomes[k.name+": "+k.status+" "+k.code] < clients/len(kinds)/2 {
				t.Errorf("%s: %s: most requests must get the answer %s %s", proto, k.name, k.status, k.code)
			}
		}
	}
	peak := stop()
	t.Logf("berth RSS: %.1f MiB before, peak %.1f MiB during 2 × %d unauthenticated %d MiB POSTs",
		float64(before)/(1<<20), float64(peak)/(1<<20), clients, size>>20)
	if peak >= limit {
		t.Errorf("peak RSS %.1f MiB, want < %d MiB", float64(peak)/(1<<20), limit>>20)
	}
}

// trickled sends a request's head at once and then its body a byte a
// second over a TLS connection of its own, and reports when berth cut it
// off: its answer (status line) or "closed".
func trickled(t *testing.T, b *testenv.Berth, head string, body []byte) (time.Duration, string) {
	t.Helper()
	cfg := b.TLSConfig()
	cfg.NextProtos = []string{"http/1.1"}
	conn, err := tls.Dial("tcp", b.Addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for _, c := range body {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if _, err := conn.Write([]byte{c}); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return time.Since(start), "closed (" + err.Error() + ")"
	}
	return time.Since(start), strings.TrimSpace(line)
}

// signedHead is the head of an ECR or STS call signed with b's admin key
// over body.
func signedHead(t *testing.T, b *testenv.Berth, service, target, contentType string, body []byte) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.URL+"/", nil)
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, b.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.Host, len(body))
	for k, vs := range req.Header {
		head += k + ": " + vs[0] + "\r\n"
	}
	return head + "\r\n"
}

// TestSlowBodies: a body trickled at a byte a second is cut off: ECR API
// and STS calls (signed with a valid key) after about 10 s with
// RequestTimeout(Exception), a /v2 blob upload after about 30 s. A large
// upload at normal speed is unaffected.
func TestSlowBodies(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	a := newAPI(t, b)
	const repo = "e2e/slow"

	t.Run("ECR API", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"repositoryNames":["` + strings.Repeat("a", 200) + `"]}`)
		head := signedHead(t, b, "ecr", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "application/x-amz-json-1.1", body)
		d, got := trickled(t, b, head, body)
		t.Logf("cut after %.1fs: %s", d.Seconds(), got)
		if got != "HTTP/1.1 408 Request Timeout" || d < 8*time.Second || d > 20*time.Second {
			t.Errorf("trickled ECR call: %s after %v, want 408 after about 10 s", got, d)
		}
	})
	t.Run("STS", func(t *testing.T) {
		t.Parallel()
		body := []byte("Action=GetCallerIdentity&Version=2011-06-15&Pad=" + strings.Repeat("p", 200))
		head := signedHead(t, b, "sts", "", "application/x-www-form-urlencoded; charset=utf-8", body)
		d, got := trickled(t, b, head, body)
		t.Logf("cut after %.1fs: %s", d.Seconds(), got)
		if got != "HTTP/1.1 408 Request Timeout" || d < 8*time.Second || d > 20*time.Second {
			t.Errorf("trickled STS call: %s after %v, want 408 after about 10 s", got, d)
		}
	})
	t.Run("blob upload", func(t *testing.T) {
		t.Parallel()
		a := a.with(t)
		loc := a.abs(a.startUpload(repo))
		head := fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n",
			strings.TrimPrefix(loc, b.URL), b.Addr, b.BasicAuth())
		d, got := trickled(t, b, head, make([]byte, 1000))
		t.Logf("cut after %.1fs: %s", d.Seconds(), got)
		if d < 25*time.Second || d > 50*time.Second {
			t.Errorf("trickled PATCH: %s after %v, want it cut after about 30 s", got, d)
		}
	})
	t.Run("unauthenticated upload", func(t *testing.T) {
		t.Parallel()
		a := a.with(t)
		loc := a.abs(a.startUpload(repo))
		head := fmt.Sprintf("PATCH %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n",
			strings.TrimPrefix(loc, b.URL), b.Addr)
		d, got := trickled(t, b, head, make([]byte, 1000))
		t.Logf("answered after %.1fs: %s", d.Seconds(), got)
		if !strings.HasPrefix(got, "HTTP/1.1 401") || d > 5*time.Second {
			t.Errorf("unauthenticated trickled PATCH: %s after %v, want 401 at once", got, d)
		}
	})
	t.Run("large upload at speed", func(t *testing.T) {
		t.Parallel()
		a := a.with(t)
		data := randBytes(t, 256<<20)
		dg := a.pushBlob(repo, data, 1)
		if dg != digestOf(data) {
			t.Fatalf("pushed %s", dg)
		}
	})
}

// TestBadSignatureFlood: calls with a known access key id but a wrong
// signature can only be found out once their body is in; the API's body
// budget bounds what such a flood holds at once (the rest wait, or are
// throttled), so 64 concurrent 28 MiB ones keep berth's resident set
// bounded too.
func TestBadSignatureFlood(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	const (
		clients = 64
		size    = 28 << 20
		limit   = 256 << 20
	)
	ctx := testenv.Ctx(t, 3*time.Minute)
	stop := watchRSS(t, b.Pid())
	tr := &http.Transport{TLSClientConfig: b.TLSConfig(), TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		outcomes = map[string]int{}
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.URL+"/", &filler{n: size})
			req.ContentLength = size
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.UploadLayerPart")
			creds := aws.Credentials{AccessKeyID: b.AccessKeyID, SecretAccessKey: otherSecret(b.SecretAccessKey)}
			if err := v4.NewSigner().SignHTTP(ctx, creds, req, emptySHA256, "ecr", b.Region, time.Now()); err != nil {
				panic(err)
			}
			got := ""
			if resp, err := hc.Do(req); err != nil {
				got = "error"
			} else {
				got = strconv.Itoa(resp.StatusCode) + " " + resp.Header.Get("X-Amzn-ErrorType")
				resp.Body.Close()
			}
			mu.Lock()
			outcomes[got]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	peak := stop()
	for o, n := range outcomes {
		t.Logf("%d × %s", n, o)
		if o != "400 InvalidSignatureException" && o != "400 ThrottlingException" {
			t.Errorf("%d × %s, want InvalidSignatureException or ThrottlingException", n, o)
		}
	}
	t.Logf("berth peak RSS %.1f MiB during %d badly signed %d MiB POSTs", float64(peak)/(1<<20), clients, size>>20)
	if peak >= limit {
		t.Errorf("peak RSS %.1f MiB, want < %d MiB", float64(peak)/(1<<20), limit>>20)
	}
}

// TestSigV4Region: the aws CLI (botocore's signer) with AWS_ENDPOINT_URL
// and --region for another region than the registry's is refused as AWS
// refuses it: ECR with InvalidSignatureException, STS with
// SignatureDoesNotMatch, "Credential should be scoped to a valid region,
// not '<region>'. ". STS also takes us-east-1, the global endpoint's
// region.
func TestSigV4Region(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		registry string
		ok, bad  []string // ECR regions
		stsOK    []string
		stsBad   []string
	}{
		{registry: "us-east-1", ok: []string{"us-east-1"}, bad: []string{"eu-west-1"},
			stsOK: []string{"us-east-1"}, stsBad: []string{"eu-west-1"}},
		{registry: "eu-west-1", ok: []string{"eu-west-1"}, bad: []string{"us-east-1", "eu-central-1"},
			stsOK: []string{"eu-west-1", "us-east-1"}, stsBad: []string{"ap-southeast-2"}},
	} {
		t.Run(c.registry, func(t *testing.T) {
			t.Parallel()
			b := startDiskBerth(t, testenv.BerthOptions{Region: c.registry})
			ac := newAWSCLI(t, newCLI(t, b.CACert), b).withEnv("AWS_ENDPOINT_URL=" + b.URL)
			for _, r := range c.ok {
				ac.ok(nil, "ecr", "describe-repositories", "--region", r)
			}
			for _, r := range c.stsOK {
				ac.ok(nil, "sts", "get-caller-identity", "--region", r)
			}
			msg := func(r string) string { return "Credential should be scoped to a valid region, not '" + r + "'." }
			for _, r := range c.bad {
				res := ac.fails("InvalidSignatureException", "ecr", "describe-repositories", "--region", r)
				if !strings.Contains(res.stderr, msg(r)) {
					t.Errorf("ecr signed for %s: %s", r, res.stderr)
				}
			}
			for _, r := range c.stsBad {
				res := ac.fails("SignatureDoesNotMatch", "sts", "get-caller-identity", "--region", r)
				if !strings.Contains(res.stderr, msg(r)) {
					t.Errorf("sts signed for %s: %s", r, res.stderr)
				}
			}
		})
	}
}

// TestDownloadURLScheme: GetDownloadUrlForLayer hands out a URL with the
// scheme berth serves (http:// on plain HTTP), which an HTTP client without
// credentials fetches.
func TestDownloadURLScheme(t *testing.T) {
	t.Parallel()
	for _, plain := range []bool{true, false} {
		t.Run(map[bool]string{true: "plain", false: "tls"}[plain], func(t *testing.T) {
			t.Parallel()
			b := startDiskBerth(t, testenv.BerthOptions{Plain: plain})
			a := newAPI(t, b)
			data := randBytes(t, 100<<10)
			dg := a.pushBlob("e2e/dl", data, 1)
			ctx := testenv.Ctx(t, time.Minute)
			out, err := b.ECR().GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{
				RepositoryName: aws.String("e2e/dl"), LayerDigest: aws.String(dg)})
			if err != nil {
				t.Fatal(err)
			}
			u := aws.ToString(out.DownloadUrl)
			want := map[bool]string{true: "http://", false: "https://"}[plain]
			if !strings.HasPrefix(u, want) {
				t.Fatalf("downloadUrl %q, want %s…", u, want)
			}
			hc := &http.Client{Timeout: time.Minute}
			if !plain {
				hc = clientFor(t, b.CACert)
			}
			resp, err := hc.Get(u)
			if err != nil {
				t.Fatalf("GET %s: %v", u, err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET downloadUrl: %d %s", resp.StatusCode, got)
			}
			sameBytes(t, "layer from downloadUrl", got, data)
		})
	}
}

// TestRegistryHostsTLS: with an ECR-shaped ecr.public_host the generated
// certificate covers every account's registry host, not only the default
// account's: a TLS handshake verifying another account's host name
// succeeds, and that registry answers over it. Names outside the pattern
// still fail.
func TestRegistryHostsTLS(t *testing.T) {
	t.Parallel()
	const domain = ".dkr.ecr.us-east-1.berth.test"
	b := startDiskBerth(t, testenv.BerthOptions{Extra: `ecr: {public_host: "000000000000` + domain + `:5443"}`})
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"000000000000" + domain, true},
		{"123456789012" + domain, true},
		{"111122223333" + domain, true},
		{"a.123456789012" + domain, false}, // a wildcard covers one label
		{"registry.example.com", false},
	} {
		cfg := b.TLSConfig()
		cfg.ServerName = c.name
		cfg.NextProtos = []string{"http/1.1"}
		conn, err := tls.Dial("tcp", b.Addr, cfg)
		if !c.ok {
			if err == nil {
				conn.Close()
				t.Errorf("TLS handshake for %s succeeded", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("TLS handshake for %s: %v", c.name, err)
			continue
		}
		fmt.Fprintf(conn, "GET /v2/ HTTP/1.1\r\nHost: %s:5443\r\nConnection: close\r\n\r\n", c.name)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("GET /v2/ on %s: %v", c.name, err)
		} else {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /v2/ on %s: %d, want ECR's 401", c.name, resp.StatusCode)
			}
			t.Logf("%s: %d %s", c.name, resp.StatusCode, resp.Header.Get("Www-Authenticate"))
		}
		conn.Close()
	}
}

// TestPutImageMediaTypeCLI: `aws ecr put-image` of a Docker manifest
// without a mediaType field is refused as ECR refuses it, and accepted
// with --image-manifest-media-type, whose type the image then has.
func TestPutImageMediaTypeCLI(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	a := newAPI(t, b)
	const repo = "e2e/mediatype"
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := randBytes(t, 10<<10)
	cfgDigest, layerDigest := a.pushBlob(repo, cfg, 1), a.pushBlob(repo, layer, 1)
	manifest := fmt.Sprintf(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":%q},`+
		`"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":%q}]}`,
		len(cfg), cfgDigest, len(layer), layerDigest)
	ac := newAWSCLI(t, newCLI(t, b.CACert), b)
	res := ac.fails("InvalidParameterException", "ecr", "put-image", "--repository-name", repo, "--image-tag", "v1", "--image-manifest", manifest)
	if !strings.Contains(res.stderr, "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'") {
		t.Errorf("put-image without a media type: %s", res.stderr)
	}
	const docker = "application/vnd.docker.distribution.manifest.v2+json"
	var put struct {
		Image struct {
			ImageID                struct{ ImageDigest string } `json:"imageId"`
			ImageManifestMediaType string                       `json:"imageManifestMediaType"`
		} `json:"image"`
	}
	ac.ok(&put, "ecr", "put-image", "--repository-name", repo, "--image-tag", "v1", "--image-manifest", manifest,
		"--image-manifest-media-type", docker)
	if put.Image.ImageManifestMediaType != docker || put.Image.ImageID.ImageDigest != digestOf([]byte(manifest)) {
		t.Errorf("put-image: %+v", put.Image)
	}
	var desc struct {
		ImageDetails []struct{ ImageManifestMediaType string } `json:"imageDetails"`
	}
	ac.ok(&desc, "ecr", "describe-images", "--repository-name", repo, "--image-ids", "imageTag=v1")
	if len(desc.ImageDetails) != 1 || desc.ImageDetails[0].ImageManifestMediaType != docker {
		t.Errorf("describe-images: %+v", desc)
	}
	// The bytes pulled are the bytes pushed.
	r := a.do("GET", "/v2/"+repo+"/manifests/v1", nil, "Accept", docker+", application/vnd.oci.image.manifest.v1+json")
	a.expect(r, "GET manifest", http.StatusOK)
	if string(r.body) != manifest {
		t.Errorf("GET manifest: %s", r.body)
	}
}

// TestIAMDataDir: berth iam finds a running berth's store by --data-dir,
// as berth serve takes it.
func TestIAMDataDir(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.BerthBinary(t), "iam", "list", "--data-dir", b.DataDir)
	cmd.Dir = t.TempDir() // no ./berth-data to find by accident
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), b.AccessKeyID) {
		t.Fatalf("berth iam list --data-dir %s: %v\n%s", b.DataDir, err, out)
	}
}
