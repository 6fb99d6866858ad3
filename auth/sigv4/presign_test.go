package sigv4

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presign returns a server-side request for a URL presigned by the SDK.
func presign(t *testing.T, creds aws.Credentials, expires string, payloadHash, body string, at time.Time) *http.Request {
	t.Helper()
	u := "https://api.ecr.test/?Action=GetCallerIdentity&Version=2011-06-15"
	if expires != "" {
		u += "&X-Amz-Expires=" + expires
	}
	r, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, payloadHash, "ecr", "us-west-2", at)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(http.MethodGet, signed, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if !strings.EqualFold(k, "host") {
			out.Header[k] = vs
		}
	}
	sr, _ := wire(t, out)
	return sr
}

func TestVerifyPresigned(t *testing.T) {
	good := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	temp := aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: tempToken}
	cases := []struct {
		name        string
		creds       aws.Credentials
		expires     string
		payloadHash string
		body        string
		now         time.Time
		edit        func(q url.Values)
		typ, msg    string
	}{
		{name: "unsigned payload", expires: "300", payloadHash: "UNSIGNED-PAYLOAD"},
		{name: "empty body hash", expires: "300", payloadHash: hashHex("")},
		{name: "body hash", expires: "300", payloadHash: hashHex("{}"), body: "{}"},
		{name: "no X-Amz-Expires within skew", payloadHash: hashHex(""), now: t0.Add(14 * time.Minute)},
		{name: "session token in query", creds: temp, expires: "60", payloadHash: "UNSIGNED-PAYLOAD"},
		{name: "a week", expires: "604800", payloadHash: "UNSIGNED-PAYLOAD", now: t0.Add(7*24*time.Hour - time.Second)},
		{name: "expired", expires: "300", payloadHash: "UNSIGNED-PAYLOAD", now: t0.Add(301 * time.Second),
			typ: "InvalidSignatureException", msg: "Signature expired: 20261125T003000Z is now earlier than 20261125T003001Z (20261125T003501Z - 5 min.)"},
		{name: "expired in seconds", expires: "90", payloadHash: "UNSIGNED-PAYLOAD", now: t0.Add(91 * time.Second),
			typ: "InvalidSignatureException", msg: "Signature expired: 20261125T003000Z is now earlier than 20261125T003001Z (20261125T003131Z - 90 sec.)"},
		{name: "no X-Amz-Expires past skew", payloadHash: hashHex(""), now: t0.Add(16 * time.Minute),
			typ: "InvalidSignatureException", msg: "Signature expired: …"},
		{name: "not yet current", expires: "300", payloadHash: "UNSIGNED-PAYLOAD", now: t0.Add(-16 * time.Minute),
			typ: "InvalidSignatureException", msg: "Signature not yet current: …"},
		{name: "expires over a week", expires: "604801", payloadHash: "UNSIGNED-PAYLOAD",
			typ: "IncompleteSignatureException", msg: "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{name: "expires not a number", expires: "soon", payloadHash: "UNSIGNED-PAYLOAD",
			typ: "IncompleteSignatureException", msg: "X-Amz-Expires should be a number"},
		{name: "expiry extended", expires: "300", payloadHash: "UNSIGNED-PAYLOAD", edit: func(q url.Values) { q.Set("X-Amz-Expires", "3000") },
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "query param tampered", expires: "300", payloadHash: "UNSIGNED-PAYLOAD", edit: func(q url.Values) { q.Set("Action", "DeleteRepository") },
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "wrong secret", creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: tempSecret}, expires: "300", payloadHash: "UNSIGNED-PAYLOAD",
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "session token removed", creds: temp, expires: "60", payloadHash: "UNSIGNED-PAYLOAD", edit: func(q url.Values) { q.Del("X-Amz-Security-Token") },
			typ: "UnrecognizedClientException", msg: invalidToken},
		{name: "signature missing", expires: "60", payloadHash: "UNSIGNED-PAYLOAD", edit: func(q url.Values) { q.Del("X-Amz-Signature") },
			typ: "IncompleteSignatureException", msg: "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{name: "other algorithm", expires: "60", payloadHash: "UNSIGNED-PAYLOAD", edit: func(q url.Values) { q.Set("X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256") },
			typ: "IncompleteSignatureException", msg: "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			creds := c.creds
			if creds.AccessKeyID == "" {
				creds = good
			}
			r := presign(t, creds, c.expires, c.payloadHash, c.body, t0)
			if c.edit != nil {
				q := r.URL.Query()
				c.edit(q)
				r.URL.RawQuery = q.Encode()
			}
			now := c.now
			if now.IsZero() {
				now = t0.Add(10 * time.Second)
			}
			cred, err := verifier(now).Verify(r, []byte(c.body), "ecr")
			wantErr(t, err, c.typ, c.msg)
			if err == nil && cred.Region != "us-west-2" {
				t.Fatalf("region %q", cred.Region)
			}
		})
	}
}

func TestBothAuthForms(t *testing.T) {
	r := presign(t, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}, "60", "UNSIGNED-PAYLOAD", "", t0)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x")
	_, err := verifier(t0).Verify(r, nil, "ecr")
	wantErr(t, err, "IncompleteSignatureException", "Only one auth mechanism allowed…")
}
