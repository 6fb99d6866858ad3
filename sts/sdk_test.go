package sts

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/iam"
)

// realServer is the handler behind the project's SigV4 verifier for signing
// name "sts", with fakeRoles handing out session credentials that the
// verifier then knows (token checked) until they expire.
func realServer(t *testing.T, verifierNow func() time.Time) (*httptest.Server, *fakeRoles) {
	srv, roles, _ := realServerAudited(t, verifierNow)
	return srv, roles
}

// auditEntry is one answered call as Handler.Audit reports it.
type auditEntry struct {
	Action, AccessKeyID, ARN, Code string
}

type auditLog struct {
	mu      sync.Mutex
	entries []auditEntry
}

func (a *auditLog) record(_ *http.Request, action string, p auth.Principal, code string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, auditEntry{action, p.AccessKeyID, p.ARN, code})
}

func (a *auditLog) list() []auditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]auditEntry(nil), a.entries...)
}

func realServerAudited(t *testing.T, verifierNow func() time.Time) (*httptest.Server, *fakeRoles, *auditLog) {
	t.Helper()
	expires := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	roles := &fakeRoles{expires: expires, errs: map[string]error{
		"arn:aws:iam::123456789012:role/denied":    AccessDenied("User: " + alice.ARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/denied"),
		"arn:aws:iam::123456789012:role/malformed": MalformedPolicyDocument("Syntax errors in policy."),
	}}
	lookup := func(ctx context.Context, id string) (auth.Credential, error) {
		// The session key authenticates as the last session handed out.
		session := ""
		if calls := roles.recorded(); len(calls) > 0 {
			session = calls[len(calls)-1].RoleSessionName
		}
		return keys(session, expires)(ctx, id)
	}
	v := &sigv4.Verifier{Lookup: lookup, Now: verifierNow}
	audit := &auditLog{}
	srv := httptest.NewServer(&Handler{Authn: &auth.APIAuthenticator{Verifier: v, Service: "sts"}, Roles: roles, Audit: audit.record})
	t.Cleanup(srv.Close)
	return srv, roles, audit
}

func sdkClient(url, akid, secret, token string) *awssts.Client {
	return awssts.New(awssts.Options{
		BaseEndpoint:     aws.String(url),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, token),
		RetryMaxAttempts: 1,
	})
}

// TestSDK drives the handler with aws-sdk-go-v2's STS client: every field
// parsed, typed errors, real SigV4 for "sts".
func TestSDK(t *testing.T) {
	srv, roles := realServer(t, nil)
	ctx := context.Background()
	c := sdkClient(srv.URL, userAKID, userKey, "")

	id, err := c.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != alice.ARN || aws.ToString(id.UserId) != alice.UserID || aws.ToString(id.Account) != account {
		t.Errorf("GetCallerIdentity: %s %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account))
	}

	out, err := c.AssumeRole(ctx, &awssts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("sdk-session"), DurationSeconds: aws.Int32(900),
		ExternalId: aws.String("ext-1"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
		PolicyArns:        []types.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}},
		Tags:              []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("env"), Value: aws.String("")}},
		TransitiveTagKeys: []string{"team"}, SourceIdentity: aws.String("alice"),
	})
	if err != nil {
		t.Fatal(err)
	}
	cr, u := out.Credentials, out.AssumedRoleUser
	if aws.ToString(cr.AccessKeyId) != sessAKID || aws.ToString(cr.SecretAccessKey) != sessKey || aws.ToString(cr.SessionToken) != sessToken {
		t.Errorf("credentials %s %s %s", aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	}
	if cr.Expiration == nil || !cr.Expiration.Equal(roles.expires) {
		t.Errorf("expiration %v, want %v", cr.Expiration, roles.expires)
	}
	if aws.ToString(u.Arn) != "arn:aws:sts::123456789012:assumed-role/ci/sdk-session" || aws.ToString(u.AssumedRoleId) != roleID+":sdk-session" {
		t.Errorf("assumed role user %s %s", aws.ToString(u.Arn), aws.ToString(u.AssumedRoleId))
	}
	want := iam.AssumeRoleInput{
		RoleArn: roleARN, RoleSessionName: "sdk-session", DurationSeconds: 900, ExternalId: "ext-1",
		Policy: `{"Version":"2012-10-17","Statement":[]}`, SourceIdentity: "alice",
		PolicyArns: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}, Tags: []iam.SessionTag{{Key: "team", Value: "blue"}, {Key: "env", Value: ""}},
		TransitiveTagKeys: []string{"team"},
	}
	if got := roles.recorded(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("Roles got %+v\nwant %+v", got, want)
	}

	// The session credentials sign the next call.
	sess := sdkClient(srv.URL, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	id, err = sess.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:sts::123456789012:assumed-role/ci/sdk-session" || aws.ToString(id.UserId) != roleID+":sdk-session" {
		t.Errorf("session identity %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId))
	}
	// Without its token the session key is not recognized.
	_, err = sdkClient(srv.URL, sessAKID, sessKey, "").GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	expectAPIError(t, "session key without token", err, "InvalidClientTokenId", "The security token included in the request is invalid.")

	t.Run("packed policy size and source identity", func(t *testing.T) {
		roles.setExtra(func(o *iam.AssumeRoleOutput) { o.PackedPolicySize, o.SourceIdentity = 7, "alice" })
		defer roles.setExtra(nil)
		out, err := c.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s2")})
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1019 STS still sends PackedPolicySize, and SDKs still read it
		if aws.ToInt32(out.PackedPolicySize) != 7 || aws.ToString(out.SourceIdentity) != "alice" {
			//lint:ignore SA1019 as above
			t.Errorf("PackedPolicySize %v, SourceIdentity %v", out.PackedPolicySize, out.SourceIdentity)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := c.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/malformed"), RoleSessionName: aws.String("s1")})
		var mp *types.MalformedPolicyDocumentException
		if !errors.As(err, &mp) || mp.ErrorMessage() != "Syntax errors in policy." {
			t.Errorf("malformed policy: %T %v", err, err)
		}
		_, err = c.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/denied"), RoleSessionName: aws.String("s1")})
		expectAPIError(t, "denied", err, "AccessDenied",
			"User: "+alice.ARN+" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/denied")
		_, err = c.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("bad/name")})
		expectAPIError(t, "validation", err, "ValidationError",
			`1 validation error detected: Value 'bad/name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)
		_, err = sdkClient(srv.URL, userAKID, sessKey, "").GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		expectAPIError(t, "wrong secret", err, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
		_, err = sdkClient(srv.URL, "AKIAUNKNOWNUNKNOWN00", userKey, "").AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
		expectAPIError(t, "unknown key", err, "InvalidClientTokenId", "The security token included in the request is invalid.")
	})

	t.Run("clock skew", func(t *testing.T) {
		skewed, _ := realServer(t, func() time.Time { return time.Now().Add(20 * time.Minute) })
		_, err := sdkClient(skewed.URL, userAKID, userKey, "").GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" || !strings.HasPrefix(ae.ErrorMessage(), "Signature expired: ") {
			t.Errorf("skew: %v", err)
		}
	})
}

func expectAPIError(t *testing.T, name string, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: %T %v, want an API error", name, err, err)
		return
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Errorf("%s: %s %q\nwant %s %q", name, ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}
