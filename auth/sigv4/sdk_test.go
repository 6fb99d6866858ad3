package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"
)

// ecrServer answers every verified request with {} and every failure as
// the ECR API edge does (__type, X-Amzn-ErrorType, message).
type ecrServer struct {
	v *Verifier
	// date, when set, is the Date header sent (the server's clock).
	date func() time.Time
}

func (s *ecrServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if s.date != nil {
		w.Header().Set("Date", s.date().UTC().Format(http.TimeFormat))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if _, err := s.v.Verify(r, body, "ecr"); err != nil {
		var e *Error
		if !errors.As(err, &e) {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		b, _ := json.Marshal(map[string]string{"__type": e.AWSErrorType(), "message": e.AWSMessage()})
		w.Header().Set("X-Amzn-ErrorType", e.AWSErrorType())
		w.WriteHeader(e.HTTPStatus())
		_, _ = w.Write(b)
		return
	}
	_, _ = w.Write([]byte("{}"))
}

// tamperingClient edits each request after the SDK signed it.
type tamperingClient struct {
	c    *http.Client
	edit func(*http.Request)
}

func (t tamperingClient) Do(r *http.Request) (*http.Response, error) {
	t.edit(r)
	return t.c.Do(r)
}

func TestECRClient(t *testing.T) {
	now := time.Now
	shifted := func(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }
	cases := []struct {
		name                string
		akid, secret, token string
		now                 func() time.Time // verifier clock
		date                func() time.Time // server Date header
		retries             int
		edit                func(*http.Request)
		lookup              func(context.Context, string) (Credential, error)
		code, msg           string
	}{
		{name: "ok", akid: testAKID, secret: testSecret},
		{name: "session credentials", akid: tempAKID, secret: tempSecret, token: tempToken},
		{name: "wrong secret", akid: testAKID, secret: tempSecret, code: "InvalidSignatureException", msg: sigDiffers},
		{name: "unknown key", akid: "AKIAUNKNOWNKEY000000", secret: testSecret, code: "UnrecognizedClientException", msg: invalidToken},
		{name: "server clock 16 min ahead", akid: testAKID, secret: testSecret, now: shifted(16 * time.Minute),
			code: "InvalidSignatureException", msg: "Signature expired: …"},
		{name: "server clock 16 min behind", akid: testAKID, secret: testSecret, now: shifted(-16 * time.Minute),
			code: "InvalidSignatureException", msg: "Signature not yet current: …"},
		{name: "SDK corrects its clock from the Date header", akid: testAKID, secret: testSecret, retries: 3,
			now: shifted(20 * time.Minute), date: shifted(20 * time.Minute)},
		{name: "body tampered", akid: testAKID, secret: testSecret, edit: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(strings.Repeat("]", int(r.ContentLength))))
		}, code: "InvalidSignatureException", msg: sigDiffers},
		{name: "signed header changed", akid: testAKID, secret: testSecret, edit: func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
		}, code: "InvalidSignatureException", msg: sigDiffers},
		{name: "session token missing", akid: tempAKID, secret: tempSecret, code: "UnrecognizedClientException", msg: invalidToken},
		{name: "session token wrong", akid: tempAKID, secret: tempSecret, token: "FwoGZXIvYXdzEXAMPLEotherEXAMPLEtoken",
			code: "UnrecognizedClientException", msg: invalidToken},
		{name: "session credentials expired", akid: tempAKID, secret: tempSecret, token: tempToken,
			lookup: testKeys(temporary(time.Now().Add(-time.Minute))),
			code:   "ExpiredTokenException", msg: "The security token included in the request is expired"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := c.now
			if clock == nil {
				clock = now
			}
			v := &Verifier{Lookup: testKeys(longLived(), temporary(time.Now().Add(time.Hour))), Now: clock}
			if c.lookup != nil {
				v.Lookup = c.lookup
			}
			srv := httptest.NewServer(&ecrServer{v: v, date: c.date})
			defer srv.Close()
			var hc ecr.HTTPClient = srv.Client()
			if c.edit != nil {
				hc = tamperingClient{c: srv.Client(), edit: c.edit}
			}
			retries := c.retries
			if retries == 0 {
				retries = 1
			}
			client := ecr.New(ecr.Options{
				Region:           "us-east-1",
				BaseEndpoint:     aws.String(srv.URL),
				Credentials:      credentials.NewStaticCredentialsProvider(c.akid, c.secret, c.token),
				HTTPClient:       hc,
				RetryMaxAttempts: retries,
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := client.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
			if err == nil && c.code == "" {
				_, err = client.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
			}
			if c.code == "" {
				if err != nil {
					t.Fatalf("call failed: %v", err)
				}
				return
			}
			var ae *smithy.GenericAPIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T), want *smithy.GenericAPIError %s", err, err, c.code)
			}
			if ae.ErrorCode() != c.code {
				t.Fatalf("code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), c.code)
			}
			if p, ok := strings.CutSuffix(c.msg, "…"); ok {
				if !strings.HasPrefix(ae.ErrorMessage(), p) {
					t.Fatalf("message %q, want prefix %q", ae.ErrorMessage(), p)
				}
			} else if ae.ErrorMessage() != c.msg {
				t.Fatalf("message %q, want %q", ae.ErrorMessage(), c.msg)
			}
		})
	}
}
