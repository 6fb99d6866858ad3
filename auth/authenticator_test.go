package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// awsError is the shape ecrapi sends errors in.
type awsError interface {
	error
	AWSErrorType() string
	AWSMessage() string
	HTTPStatus() int
}

// TestAPIAuthenticator runs the whole chain against a real SQLite store:
// bootstrap key → KeyLookup → sigv4.Verifier → APIAuthenticator, called by
// the real ECR client.
func TestAPIAuthenticator(t *testing.T) {
	ctx := context.Background()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kr := crypt.NewMemoryKeyring()
	id, secret, _, err := auth.EnsureBootstrapAdmin(ctx, st, kr, "123456789012")
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu     sync.Mutex
		offset time.Duration // added to the lookup cache's clock
		last   auth.Principal
	)
	lookup := &auth.KeyLookup{Store: st, Keyring: kr, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}}
	authn := &auth.APIAuthenticator{Verifier: &sigv4.Verifier{Lookup: lookup.Lookup}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		p, err := authn.Authenticate(r, body)
		var ae awsError
		switch {
		case errors.As(err, &ae):
			b, _ := json.Marshal(map[string]string{"__type": ae.AWSErrorType(), "message": ae.AWSMessage()})
			w.Header().Set("X-Amzn-ErrorType", ae.AWSErrorType())
			w.WriteHeader(ae.HTTPStatus())
			_, _ = w.Write(b)
			return
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		last = p
		mu.Unlock()
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()

	call := func(akid, sec string) error {
		c := ecr.New(ecr.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(akid, sec, ""),
		})
		_, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		return err
	}
	code := func(err error) string {
		var ge *smithy.GenericAPIError
		if errors.As(err, &ge) {
			return ge.ErrorCode()
		}
		return "not an API error: " + err.Error()
	}

	if err := call(id, secret); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	p := last
	mu.Unlock()
	if p.ARN != "arn:aws:iam::123456789012:user/berth-admin" || p.AccessKeyID != id || p.Username != "berth-admin" || p.Account != "123456789012" {
		t.Fatalf("principal %+v", p)
	}
	if err := call(id, secret[1:]+"x"); code(err) != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
	if err := call("AKIAUNKNOWNKEY000000", secret); code(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown key: %v", err)
	}
	// Deactivated: refused once the lookup cache has aged out.
	if err := st.SetAccessKeyStatus(ctx, id, metadata.KeyInactive); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	offset = auth.DefaultKeyCacheTTL + time.Second
	mu.Unlock()
	if err := call(id, secret); code(err) != "UnrecognizedClientException" {
		t.Fatalf("inactive key: %v", err)
	}
}
