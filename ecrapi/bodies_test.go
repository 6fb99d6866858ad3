package ecrapi_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/internal/httpx"
)

const (
	bodyKeyID  = "AKIAIOSFODNN7EXAMPLE"
	bodySecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// sigv4Authn is the real authenticator over one known key, for a registry
// in us-east-1.
func sigv4Authn() ecrapi.Authenticator {
	return &auth.APIAuthenticator{Service: "ecr", Verifier: &sigv4.Verifier{
		Regions: []string{testRegion},
		Lookup: func(_ context.Context, id string) (auth.Credential, error) {
			if id != bodyKeyID {
				return auth.Credential{}, sigv4.UnrecognizedClient()
			}
			return auth.Credential{AccessKeyID: id, Secret: bodySecret, Principal: testPrincipal}, nil
		},
	}}
}

// countingBody yields n bytes of '{', counting what was read.
type countingBody struct {
	mu      sync.Mutex
	n, read int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read >= c.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), c.n-c.read)
	for i := range k {
		p[i] = '{'
	}
	c.read += k
	return int(k), nil
}

func (c *countingBody) bytesRead() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.read
}

// signedRequest is an ECR call of op signed by the aws-sdk-go-v2 signer
// with key id for region, over a body of hash payloadHash.
func signedRequest(t *testing.T, op, id, region, payloadHash string, body io.Reader, length int64) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://api.ecr.test/", body)
	r.ContentLength = length
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", ecrapi.TargetPrefix+op)
	if id != "" {
		creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: bodySecret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash, "ecr", region, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func hashOf(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

type apiErr struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func decodeErr(t *testing.T, w *httptest.ResponseRecorder) apiErr {
	t.Helper()
	var e apiErr
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	if h := w.Header().Get("X-Amzn-ErrorType"); h != e.Type {
		t.Fatalf("X-Amzn-ErrorType %q, __type %q", h, e.Type)
	}
	return e
}

// TestRefusedBeforeTheBody: a request that cannot authenticate, or whose
// declared body is over what its operation can carry, is answered without
// a byte of its body read.
func TestRefusedBeforeTheBody(t *testing.T) {
	t.Parallel()
	api := ecrapi.New(ecrapi.Deps{Authn: sigv4Authn(), RegistryID: testRegistryID, Region: testRegion})
	const huge = 28<<20 + 1
	for _, c := range []struct {
		name, op, id, region string
		length               int64
		status               int
		typ, msg             string
	}{
		{name: "no signature", op: "UploadLayerPart", length: huge,
			status: 403, typ: "MissingAuthenticationTokenException", msg: "Missing Authentication Token"},
		{name: "unknown access key", op: "UploadLayerPart", id: "AKIAUNKNOWNUNKNOWN00", region: testRegion, length: huge,
			status: 400, typ: "UnrecognizedClientException", msg: "The security token included in the request is invalid."},
		{name: "another region", op: "PutImage", id: bodyKeyID, region: "eu-west-1", length: 1 << 20,
			status: 400, typ: "InvalidSignatureException", msg: "Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{name: "over UploadLayerPart's limit", op: "UploadLayerPart", id: bodyKeyID, region: testRegion, length: huge,
			status: 413, typ: "ValidationException", msg: "Request body exceeds the 29360128 bytes UploadLayerPart accepts"},
		{name: "over PutImage's limit", op: "PutImage", id: bodyKeyID, region: testRegion, length: ecrapi.BodyLimit("PutImage") + 1,
			status: 413, typ: "ValidationException", msg: "Request body exceeds the 25231360 bytes PutImage accepts"},
		{name: "a small operation with a large body", op: "DescribeRepositories", id: bodyKeyID, region: testRegion, length: 256<<10 + 1,
			status: 413, typ: "ValidationException", msg: "Request body exceeds the 262144 bytes DescribeRepositories accepts"},
		{name: "a policy over the small limit", op: "SetRepositoryPolicy", id: bodyKeyID, region: testRegion, length: 1<<20 + 1,
			status: 413, typ: "ValidationException", msg: "Request body exceeds the 1048576 bytes SetRepositoryPolicy accepts"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := &countingBody{n: c.length}
			r := signedRequest(t, c.op, c.id, c.region, hashOf(nil), body, c.length)
			w := httptest.NewRecorder()
			api.ServeHTTP(w, r)
			e := decodeErr(t, w)
			if w.Code != c.status || e.Type != c.typ || e.Message != c.msg {
				t.Errorf("got %d %s %q, want %d %s %q", w.Code, e.Type, e.Message, c.status, c.typ, c.msg)
			}
			if n := body.bytesRead(); n != 0 {
				t.Errorf("%d bytes of the body were read", n)
			}
		})
	}
}

// TestSlowBody: a body trickled slower than the API's minimum rate ends in
// a RequestTimeoutException (which SDKs retry), not a held connection. The
// body goes out a byte at a time over a raw connection: an HTTP client
// would buffer it.
func TestSlowBody(t *testing.T) {
	t.Parallel()
	api := ecrapi.New(ecrapi.Deps{Authn: sigv4Authn(), RegistryID: testRegistryID, Region: testRegion,
		BodyRate: httpx.Rate{BytesPerSecond: 1000, Window: 500 * time.Millisecond}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	body := []byte(`{"repositoryNames":["` + strings.Repeat("a", 100) + `"]}`)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.1\r\n"+
		"X-Amz-Target: %sDescribeRepositories\r\nAuthorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/ecr/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=%s\r\nX-Amz-Date: %s\r\nContent-Length: %d\r\n\r\n",
		srv.Listener.Addr(), ecrapi.TargetPrefix, bodyKeyID, start.UTC().Format("20060102"), testRegion,
		strings.Repeat("0", 64), start.UTC().Format("20060102T150405Z"), len(body))
	go func() {
		for _, b := range body {
			if _, err := conn.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apiErr
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusRequestTimeout || e.Type != "RequestTimeoutException" {
		t.Fatalf("trickled body: %d %s %q", resp.StatusCode, e.Type, e.Message)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cut after %v", d)
	}
}

// TestBodyBudget: bodies held at once are bounded; a call that finds no
// room within the wait is throttled, and one that finds room proceeds.
func TestBodyBudget(t *testing.T) {
	api := ecrapi.New(ecrapi.Deps{Authn: sigv4Authn(), RegistryID: testRegistryID, Region: testRegion})
	ecrapi.SetBodyBudget(api, 100, 300*time.Millisecond)
	t.Cleanup(func() { ecrapi.SetBodyBudget(api, 1, 10*time.Second) })

	// A first call holds 80 bytes of budget while its body is pending.
	pr, pw := io.Pipe()
	first := signedRequest(t, "DescribeRepositories", bodyKeyID, testRegion, hashOf(nil), pr, 80)
	done := make(chan *httptest.ResponseRecorder)
	go func() { w := httptest.NewRecorder(); api.ServeHTTP(w, first); done <- w }()
	if _, err := pw.Write([]byte("{")); err != nil { // the first call is reading
		t.Fatal(err)
	}
	second := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		// Signed over another body: it fails at the signature, once read.
		api.ServeHTTP(w, signedRequest(t, "DescribeRepositories", bodyKeyID, testRegion, hashOf(nil), strings.NewReader("{"+strings.Repeat(" ", 38)+"}"), 40))
		return w
	}
	w := second()
	if e := decodeErr(t, w); w.Code != 400 || e.Type != "ThrottlingException" {
		t.Fatalf("a call beyond the budget: %d %s %q", w.Code, e.Type, e.Message)
	}
	pw.CloseWithError(errors.New("gone"))
	<-done
	// The budget is back: the same call now gets as far as the signature.
	if w := second(); decodeErr(t, w).Type != "InvalidSignatureException" {
		t.Fatalf("the budget was not given back: %s", w.Body)
	}
}
