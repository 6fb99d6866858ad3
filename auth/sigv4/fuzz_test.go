package sigv4

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzVerify feeds any Authorization header, X-Amz-Date, Date, session
// token and query string to Verify and Precheck: they never panic; they
// accept only what verifies, and refuse everything else with one of AWS's
// exceptions (a 4xx, a message, no more than a bounded echo of the input),
// Precheck with Verify's error whenever the body plays no part. Seeds:
// testdata/fuzz/FuzzVerify and the header of a valid request.
func FuzzVerify(f *testing.F) {
	authz, amzDate := validHeader(f)
	f.Add(authz, amzDate, "", "", "")
	f.Fuzz(fuzzVerify)
}

// validHeader is a correctly signed request's Authorization header and
// X-Amz-Date (at t0), for the seeds.
func validHeader(tb testing.TB) (authz, amzDate string) {
	r, err := http.NewRequest(http.MethodPost, "http://api.ecr.test:8443/", strings.NewReader("{}"))
	if err != nil {
		tb.Fatal(err)
	}
	setECRHeaders(r)
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex("{}"), "ecr", "us-east-1", t0); err != nil {
		tb.Fatal(err)
	}
	return r.Header.Get("Authorization"), r.Header.Get("X-Amz-Date")
}

func setECRHeaders(r *http.Request) {
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
}

var awsTypes = map[string]bool{
	"MissingAuthenticationTokenException": true, "IncompleteSignatureException": true,
	"InvalidSignatureException": true, "UnrecognizedClientException": true, "ExpiredTokenException": true,
}

func fuzzVerify(t *testing.T, authz, amzDate, date, token, query string) {
	r, err := http.NewRequest(http.MethodPost, "http://api.ecr.test:8443/", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	r.URL.RawQuery = query
	setECRHeaders(r)
	for k, v := range map[string]string{"Authorization": authz, "X-Amz-Date": amzDate, "Date": date, "X-Amz-Security-Token": token} {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	v := verifier(t0)
	v.Regions = []string{"us-east-1"}
	_, verr := v.Verify(r, []byte("{}"), "ecr")
	perr := v.Precheck(r, "ecr")
	if verr == nil {
		if perr != nil {
			t.Fatalf("Verify accepts, Precheck refuses: %v", perr)
		}
		return
	}
	var e *Error
	if !errors.As(verr, &e) {
		t.Fatalf("Verify: %v (%T), want an *Error", verr, verr)
	}
	if !awsTypes[e.Type] || e.Status < 400 || e.Status > 499 || e.Message == "" {
		t.Fatalf("Verify: %s %d %q", e.Type, e.Status, e.Message)
	}
	if len(e.Message) > 3*maxEcho+400 {
		t.Fatalf("Verify: a %d-byte message echoes too much of the input", len(e.Message))
	}
	if !bodyDependent(verr) && fmt.Sprint(perr) != fmt.Sprint(verr) {
		t.Fatalf("Precheck: %v, Verify: %v", perr, verr)
	}
}
