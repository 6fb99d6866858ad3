package sigv4

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/berth-registry/berth/auth"
)

const (
	sigDiffers   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	invalidToken = "The security token included in the request is invalid."
)

var errLookup = errors.New("store unavailable")

func TestVerifyHeader(t *testing.T) {
	good := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}
	temp := aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: tempToken}
	cases := []struct {
		name    string
		body    string
		creds   aws.Credentials
		service string
		region  string
		signAt  time.Time
		path    string                // request URI instead of "/"
		before  func(r *http.Request) // before signing
		after   func(r *http.Request) // after signing, before sending
		tamper  bool                  // change the body the server reads
		v       func(v *Verifier)     // adjust the verifier
		typ     string                // expected exception ("" = success)
		msg     string                // expected message (suffix … = prefix)
		check   func(*testing.T, Credential)
	}{
		{name: "ok", check: func(t *testing.T, c Credential) {
			if c.Principal.ARN != "arn:aws:iam::123456789012:user/alice" || c.Region != "us-east-1" || c.AccessKeyID != testAKID {
				t.Fatalf("credential %v", c)
			}
			if c.Secret != "" || c.SessionToken != "" {
				t.Fatal("Verify returned secret material")
			}
		}},
		{name: "other region accepted and reported", region: "eu-west-3", check: func(t *testing.T, c Credential) {
			if c.Region != "eu-west-3" {
				t.Fatalf("region %q", c.Region)
			}
		}},
		{name: "session credentials", creds: temp},
		{name: "unsigned header added", after: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "header spacing normalized", before: func(r *http.Request) { r.Header.Set("X-Amz-Meta", "  a   b  c ") }},
		{name: "repeated header values", before: func(r *http.Request) {
			r.Header.Add("X-Amz-Meta", "one")
			r.Header.Add("X-Amz-Meta", "two")
		}},
		{name: "query and escaped path", path: "/a%20b/c~d/%E2%82%AC?b=2&a=1&a=0&sp=x%20y&sl=a%2Fb&empty="},
		{name: "unnormalized path as the Go SDK signs it", path: "/a/./b/../c//d"},
		{name: "declared payload hash", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hashHex("{}")) }},
		{name: "within skew", signAt: t0.Add(-14 * time.Minute)},
		{name: "wrong secret", creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "x" + testSecret[1:]},
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "unknown key", creds: aws.Credentials{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: testSecret},
			typ: "UnrecognizedClientException", msg: invalidToken},
		{name: "body tampered", tamper: true, typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "signed header changed", after: func(r *http.Request) {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
		}, typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "host changed", after: func(r *http.Request) { r.Host = "evil.test:8443" },
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "method changed", after: func(r *http.Request) { r.Method = http.MethodPut },
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "query added", after: func(r *http.Request) { r.URL.RawQuery = "x=1" },
			typ: "InvalidSignatureException", msg: sigDiffers},
		{name: "declared payload hash mismatch", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", hashHex("{\"a\":1}")) },
			typ: "InvalidSignatureException", msg: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "unsigned payload refused in header form", before: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") },
			typ: "InvalidSignatureException", msg: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "signature expired", signAt: t0.Add(-16 * time.Minute),
			typ: "InvalidSignatureException", msg: "Signature expired: 20261125T001400Z is now earlier than 20261125T001500Z (20261125T003000Z - 15 min.)"},
		{name: "signature not yet current", signAt: t0.Add(16 * time.Minute),
			typ: "InvalidSignatureException", msg: "Signature not yet current: 20261125T004600Z is still later than 20261125T004500Z (20261125T003000Z + 15 min.)"},
		{name: "custom skew", signAt: t0.Add(-6 * time.Minute), v: func(v *Verifier) { v.MaxSkew = 5 * time.Minute },
			typ: "InvalidSignatureException", msg: "Signature expired: 20261125T002400Z is now earlier than 20261125T002500Z (20261125T003000Z - 5 min.)"},
		{name: "wrong service", service: "s3",
			typ: "InvalidSignatureException", msg: "Credential should be scoped to correct service: 'ecr'. "},
		{name: "invalid region", region: "US_EAST",
			typ: "InvalidSignatureException", msg: "Credential should be scoped to a valid region, not 'US_EAST'. "},
		{name: "scope date differs from X-Amz-Date", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261125/", "/20261124/", 1))
		}, typ: "InvalidSignatureException", msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261124' != '20261125', from '20261125T003000Z'."},
		{name: "bad terminator", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "aws4_request", "aws4_reqest", 1))
		}, typ: "InvalidSignatureException", msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqest'. "},
		{name: "session token missing", creds: aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret},
			typ: "UnrecognizedClientException", msg: invalidToken},
		{name: "session token wrong", creds: aws.Credentials{AccessKeyID: tempAKID, SecretAccessKey: tempSecret, SessionToken: tempToken + "x"},
			typ: "UnrecognizedClientException", msg: invalidToken},
		{name: "session token on a long-lived key", creds: aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: tempToken},
			typ: "UnrecognizedClientException", msg: invalidToken},
		{name: "session credentials expired", creds: temp, v: func(v *Verifier) {
			v.Lookup = testKeys(temporary(t0.Add(-time.Second)))
		}, typ: "ExpiredTokenException", msg: "The security token included in the request is expired"},
		{name: "no authentication", after: func(r *http.Request) {
			r.Header.Del("Authorization")
		}, typ: "MissingAuthenticationTokenException", msg: "Missing Authentication Token"},
		{name: "basic authorization", after: func(r *http.Request) { r.Header.Set("Authorization", "Basic QVdTOnNlY3JldA==") },
			typ: "IncompleteSignatureException", msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=Basic QVdTOnNlY3JldA=="},
		{name: "no date", after: func(r *http.Request) {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20261125/us-east-1/ecr/aws4_request")
			r.Header.Del("X-Amz-Date")
		}, typ: "IncompleteSignatureException", msg: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=" + testAKID + "/20261125/us-east-1/ecr/aws4_request"},
		{name: "missing equal sign", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "Credential=", "Credential= ", 1))
		}, typ: "IncompleteSignatureException", msg: "'" + testAKID + "/20261125/us-east-1/ecr/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= …"},
		{name: "short credential", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/", 1))
		}, typ: "IncompleteSignatureException", msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + testAKID + "/20261125/ecr/aws4_request'"},
		{name: "bad date format", after: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-11-25T00:30:00Z") },
			typ: "IncompleteSignatureException", msg: "Date must be in ISO-8601 'basic format'. Got '2026-11-25T00:30:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{name: "host not signed", after: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, typ: "IncompleteSignatureException", msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "required region", region: "eu-west-3", v: func(v *Verifier) { v.Regions = []string{"us-east-1"} },
			typ: "InvalidSignatureException", msg: "Credential should be scoped to a valid region, not 'eu-west-3'. "},
		{name: "required region matches", v: func(v *Verifier) { v.Regions = []string{"us-east-1"} }},
		{name: "one of the regions", region: "eu-west-3", v: func(v *Verifier) { v.Regions = []string{"us-east-1", "eu-west-3"} }},
		{name: "none of the regions", region: "eu-west-1", v: func(v *Verifier) { v.Regions = []string{"us-east-1", "eu-west-3"} },
			typ: "InvalidSignatureException", msg: "Credential should be scoped to a valid region, not 'eu-west-1'. "},
		{name: "lookup reports an unknown key as auth.Error", v: func(v *Verifier) {
			v.Lookup = func(context.Context, string) (Credential, error) {
				return Credential{}, &auth.Error{Op: "KeyLookup", Kind: auth.UnknownKey}
			}
		}, typ: "UnrecognizedClientException", msg: invalidToken},
		{name: "lookup failure passes through", v: func(v *Verifier) {
			v.Lookup = func(context.Context, string) (Credential, error) { return Credential{}, errLookup }
		}, typ: "-lookup"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			if body == "" {
				body = "{}"
			}
			r := ecrRequest(t, body)
			if c.path != "" {
				r.URL.Opaque = "//api.ecr.test:8443" + strings.SplitN(c.path, "?", 2)[0]
				if _, q, ok := strings.Cut(c.path, "?"); ok {
					r.URL.RawQuery = q
				}
			}
			if c.before != nil {
				c.before(r)
			}
			creds, service, region, at := c.creds, c.service, c.region, c.signAt
			if creds.AccessKeyID == "" {
				creds = good
			}
			if service == "" {
				service = "ecr"
			}
			if region == "" {
				region = "us-east-1"
			}
			if at.IsZero() {
				at = t0
			}
			sign(t, r, body, creds, service, region, at)
			if c.after != nil {
				c.after(r)
			}
			sr, got := wire(t, r)
			if c.tamper {
				got = []byte("[]") // same length: only the content differs
			}
			v := verifier(t0)
			if c.v != nil {
				c.v(v)
			}
			cred, err := v.Verify(sr, got, "ecr")
			// Precheck, without the body, refuses exactly what does not
			// depend on it, with Verify's error; the rest it lets through.
			pre := v.Precheck(sr, "ecr")
			if bodyDependent(err) {
				if pre != nil {
					t.Fatalf("Precheck refused what only the body decides: %v (Verify: %v)", pre, err)
				}
			} else if fmt.Sprint(pre) != fmt.Sprint(err) {
				t.Fatalf("Precheck: %v, Verify: %v", pre, err)
			}
			if c.typ == "-lookup" {
				if err != errLookup {
					t.Fatalf("err %v, want the lookup's error", err)
				}
				return
			}
			wantErr(t, err, c.typ, c.msg)
			if err == nil && c.check != nil {
				c.check(t, cred)
			}
		})
	}
}

// bodyDependent reports whether a Verify error needs the body (or the
// signature over it) to be found.
func bodyDependent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == BadSignature &&
		(e.Message == sigDiffers || strings.Contains(e.Message, "x-amz-content-sha256"))
}

// TestAWSExample checks the canonical request against AWS's documented
// example (IAM ListUsers, "Create a signed AWS API request"), independent
// of any SDK.
func TestAWSExample(t *testing.T) {
	raw := "GET /?Action=ListUsers&Version=2010-05-08 HTTP/1.1\r\n" +
		"Host: iam.amazonaws.com\r\n" +
		"Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n" +
		"X-Amz-Date: 20150830T123600Z\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7\r\n\r\n"
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{
		Lookup: testKeys(Credential{AccessKeyID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}),
		Now:    func() time.Time { return time.Date(2015, 8, 30, 12, 40, 0, 0, time.UTC) },
	}
	if _, err := v.Verify(r, nil, "iam"); err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalParts(t *testing.T) {
	paths := []struct{ in, want string }{
		{"/", "/"},
		{"", "/"},
		{"/a/./b/../c", "/a/c"},
		{"//a//b/", "/a/b/"},
		{"/..", "/"},
		{"/a%20b", "/a%2520b"},
		{"/~x-y_z.", "/~x-y_z."},
	}
	for _, p := range paths {
		if got := escapePath(removeDotSegments(orSlash(p.in))); got != p.want {
			t.Errorf("canonical path %q = %q, want %q", p.in, got, p.want)
		}
	}
	q := canonicalQuery(parseQuery("b=2&a=x+y&a=1&c&X-Amz-Signature=zz&d=%2F"), true)
	if want := "a=1&a=x%20y&b=2&c=&d=%2F"; q != want {
		t.Errorf("canonical query %q, want %q", q, want)
	}
	if got := collapseSpaces("a  b   c d"); got != "a b c d" {
		t.Errorf("collapse %q", got)
	}
}

func TestCredentialHidesSecrets(t *testing.T) {
	c := temporary(t0)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, tempSecret) || strings.Contains(s, tempToken) {
			t.Fatalf("formatted credential leaks: %s", s)
		}
	}
}

func orSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
