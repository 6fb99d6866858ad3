package sts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
)

// TestRegions: with the regions a berth in eu-west-1 serves (its own and
// us-east-1, the global endpoint's), the SDK signing for another region
// gets STS's SignatureDoesNotMatch, as from a regional STS endpoint.
func TestRegions(t *testing.T) {
	v := &sigv4.Verifier{Lookup: keys("", time.Time{}), Regions: []string{"eu-west-1", "us-east-1"}}
	srv := httptest.NewServer(&Handler{Authn: &auth.APIAuthenticator{Verifier: v, Service: "sts"}})
	t.Cleanup(srv.Close)
	for _, c := range []struct {
		region, code string
	}{
		{"eu-west-1", ""},
		{"us-east-1", ""},
		{"ap-southeast-2", "SignatureDoesNotMatch"},
	} {
		cl := awssts.New(awssts.Options{BaseEndpoint: aws.String(srv.URL), Region: c.region, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(userAKID, userKey, "")})
		_, err := cl.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
		if c.code == "" {
			if err != nil {
				t.Errorf("signed for %s: %v", c.region, err)
			}
			continue
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code ||
			ae.ErrorMessage() != "Credential should be scoped to a valid region, not '"+c.region+"'. " {
			t.Errorf("signed for %s: %v, want %s", c.region, err, c.code)
		}
	}
}

// TestRefusedUnread: a call without a signature or with an unknown key, or
// declaring a body over MaxBody, is answered without its body read.
func TestRefusedUnread(t *testing.T) {
	v := &sigv4.Verifier{Lookup: keys("", time.Time{}), Regions: []string{"us-east-1"}}
	h := &Handler{Authn: &auth.APIAuthenticator{Verifier: v, Service: "sts"}}
	for _, c := range []struct {
		name, id string
		length   int
		status   int
		code     string
	}{
		{"no signature", "", 32 << 20, 403, "MissingAuthenticationToken"},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", 32 << 20, 403, "InvalidClientTokenId"},
		{"known key, body over MaxBody", userAKID, MaxBody + 1, 413, "ValidationError"},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := &countingReader{n: c.length}
			r := httptest.NewRequest(http.MethodPost, "http://sts.test/", body)
			r.ContentLength = int64(c.length)
			r.Header.Set("Content-Type", formType)
			if c.id != "" {
				creds := aws.Credentials{AccessKeyID: c.id, SecretAccessKey: userKey}
				if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, emptyHash, "sts", "us-east-1", time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if e := readError(t, w); w.Code != c.status || e.Error.Code != c.code {
				t.Errorf("got %d %s %q, want %d %s", w.Code, e.Error.Code, e.Error.Message, c.status, c.code)
			}
			if body.read != 0 {
				t.Errorf("%d bytes of the body were read", body.read)
			}
		})
	}
}

var emptyHash = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()
