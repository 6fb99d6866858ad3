package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/auth"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tempAKID   = "ASIAIOSFODNN7EXAMPLE"
	tempSecret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	tempToken  = "FwoGZXIvYXdzEXAMPLEtokenEXAMPLEtoken"
)

// t0 is the clock of most cases.
var t0 = time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)

// testKeys is a Lookup over a fixed set of credentials.
func testKeys(creds ...Credential) func(context.Context, string) (Credential, error) {
	return func(_ context.Context, id string) (Credential, error) {
		for _, c := range creds {
			if c.AccessKeyID == id {
				return c, nil
			}
		}
		return Credential{}, UnrecognizedClient()
	}
}

func longLived() Credential {
	return Credential{AccessKeyID: testAKID, Secret: testSecret, Principal: auth.Principal{
		ARN: "arn:aws:iam::123456789012:user/alice", Account: "123456789012", AccessKeyID: testAKID, Username: "alice",
	}}
}

func temporary(expires time.Time) Credential {
	return Credential{AccessKeyID: tempAKID, Secret: tempSecret, SessionToken: tempToken, Expires: expires,
		Principal: auth.Principal{ARN: "arn:aws:sts::123456789012:assumed-role/r/s", Account: "123456789012", AccessKeyID: tempAKID}}
}

func verifier(now time.Time) *Verifier {
	return &Verifier{
		Lookup: testKeys(longLived(), temporary(now.Add(time.Hour))),
		Now:    func() time.Time { return now },
	}
}

// ecrRequest is what aws-sdk-go-v2's ECR client sends (before signing).
func ecrRequest(t *testing.T, body string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://api.ecr.test:8443/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
	r.Header.Set("Amz-Sdk-Invocation-Id", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
	r.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.48.0")
	return r
}

func hashHex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// sign signs r as the SDK does, at time at.
func sign(t *testing.T, r *http.Request, body string, creds aws.Credentials, service, region string, at time.Time) {
	t.Helper()
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex(body), service, region, at); err != nil {
		t.Fatal(err)
	}
}

// wire sends r through HTTP/1.1 serialization and parsing, so the verifier
// sees exactly what a server would (Host moved out of the header map,
// RequestURI parsed, ...). It returns the server-side request and its body.
func wire(t *testing.T, r *http.Request) (*http.Request, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(sr.Body)
	if err != nil {
		t.Fatal(err)
	}
	return sr, body
}

// wantErr checks err against an expected AWS type and message ("" means
// success; a message ending in "…" is a prefix).
func wantErr(t *testing.T, err error, typ, msg string) {
	t.Helper()
	if typ == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want %s", err, err, typ)
	}
	if e.AWSErrorType() != typ {
		t.Fatalf("type %s (%s), want %s", e.Type, e.Message, typ)
	}
	if p, ok := strings.CutSuffix(msg, "…"); ok {
		if !strings.HasPrefix(e.Message, p) {
			t.Fatalf("message %q, want prefix %q", e.Message, p)
		}
	} else if msg != "" && e.Message != msg {
		t.Fatalf("message %q, want %q", e.Message, msg)
	}
}
