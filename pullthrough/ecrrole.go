package pullthrough

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// An ECR-to-ECR rule (upstreamRegistry "ecr") reaches the upstream the
// ECR way: the rule's customRoleArn is assumed as the pull-through cache
// service, the session logs in to the upstream with GetAuthorizationToken
// (SigV4), and the token is the /v2 login (user AWS), as on ECR.

// ServicePrincipal is the service a rule's customRoleArn is assumed as:
// the role's trust policy must allow it sts:AssumeRole.
const ServicePrincipal = "pullthroughcache.ecr.amazonaws.com"

// RoleSessionName names the sessions of a rule's role.
const RoleSessionName = "ecr-pull-through-cache"

// SessionCredentials are a role session's temporary credentials.
type SessionCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expires                                    time.Time
}

// RoleAssumer assumes roleArn of registryID as ServicePrincipal (berth's
// STS, in process). Its errors carry the denial's words.
type RoleAssumer interface {
	AssumePullThroughRole(ctx context.Context, registryID, roleArn string) (SessionCredentials, error)
}

// RoleChecker tells whether roleArn is an existing IAM role.
type RoleChecker interface {
	RoleExists(ctx context.Context, roleArn string) (bool, error)
}

// StoreRoles is the RoleChecker of the identities in a metadata store.
type StoreRoles struct {
	Store interface {
		GetPrincipal(ctx context.Context, arn string) (metadata.Principal, error)
	}
}

// RoleExists tells whether arn is a role in the store.
func (s StoreRoles) RoleExists(ctx context.Context, arn string) (bool, error) {
	p, err := s.Store.GetPrincipal(ctx, arn)
	if metadata.Is(err, metadata.NotFound) {
		return false, nil
	}
	return err == nil && p.Kind == metadata.KindRole, err
}

// roleArnRE is an IAM role's ARN.
var roleArnRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::([0-9]{12}):role/[\w+=,.@/-]+$`)

// apiEndpoint is where the ECR API of registry host is: AWS's regional
// endpoint for an amazonaws.com host (the SDK's default, ""), else the
// host itself (berth serves the API beside /v2).
func apiEndpoint(host string) string {
	h := host
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	if strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn") {
		return ""
	}
	return "https://" + host
}

// errNoRole is an ECR upstream without customRoleArn: ECR would use its
// service-linked role, which berth has not.
func errNoRole(r metadata.PullThroughRule) error {
	return &RoleError{Failure: fmt.Sprintf("The pull through cache rule has no customRoleArn. berth has no service-linked role "+
		"(AWSServiceRoleForECRPullThroughCache) to authenticate to the ECR upstream registry %s with: set customRoleArn to a role "+
		"of account %s whose trust policy allows %s to perform sts:AssumeRole.", r.UpstreamURL, r.RegistryID, ServicePrincipal)}
}

// RoleError is a failed ECR login of a rule: the role could not be
// assumed, or the upstream refused GetAuthorizationToken. A pull answers
// it as a refused upstream login; ValidatePullThroughCacheRule reports
// Failure.
type RoleError struct {
	Failure string
	Err     error
}

func (e *RoleError) Error() string { return e.Failure }
func (e *RoleError) Unwrap() error { return e.Err }

// roleLogin assumes r's role and logs in to r's ECR upstream with the
// session: the upstream's /v2 credentials (AWS and the token's password)
// and until when they may be reused.
func (us *Upstreams) roleLogin(ctx context.Context, r metadata.PullThroughRule) (*Credentials, time.Time, error) {
	_, region, ok := ecrmodel.ParseRegistryHost(r.UpstreamURL)
	if !ok {
		return nil, time.Time{}, &RoleError{Failure: "The upstream registry URL " + r.UpstreamURL +
			" is not an ECR registry host (<account>.dkr.ecr.<region>.<domain>): customRoleArn cannot authenticate to it."}
	}
	if us.Roles == nil {
		return nil, time.Time{}, &RoleError{Failure: "berth cannot assume roles for the pull through cache."}
	}
	sess, err := us.Roles.AssumePullThroughRole(ctx, r.RegistryID, r.CustomRoleArn)
	if err != nil {
		return nil, time.Time{}, &RoleError{Err: err, Failure: fmt.Sprintf("Unable to assume the IAM role %s as %s: %v. "+
			"The role's trust policy must allow the service principal %s to perform sts:AssumeRole.",
			r.CustomRoleArn, ServicePrincipal, err, ServicePrincipal)}
	}
	opts := ecr.Options{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(sess.AccessKeyID, sess.SecretAccessKey, sess.SessionToken),
		HTTPClient:  us.HTTP,
	}
	if ep := apiEndpoint(r.UpstreamURL); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	}
	out, err := ecr.New(opts).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		var ae smithy.APIError
		msg := err.Error()
		status := 0
		if errors.As(err, &ae) {
			msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
			status = http.StatusForbidden
		}
		return nil, time.Time{}, &RoleError{Err: &UpstreamError{Status: status, Err: err},
			Failure: "The upstream registry refused GetAuthorizationToken for the role " + r.CustomRoleArn + ": " + msg}
	}
	if len(out.AuthorizationData) == 0 || out.AuthorizationData[0].AuthorizationToken == nil {
		return nil, time.Time{}, &RoleError{Failure: "The upstream registry's GetAuthorizationToken answered no token."}
	}
	d := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	user, pass, found := strings.Cut(string(raw), ":")
	if err != nil || !found {
		return nil, time.Time{}, &RoleError{Failure: "The upstream registry's authorization token is not AWS:<password>."}
	}
	// The login lasts as long as the session and the token both do; it is
	// renewed a little before.
	until := sess.Expires
	if d.ExpiresAt != nil && d.ExpiresAt.Before(until) {
		until = *d.ExpiresAt
	}
	return &Credentials{Username: user, Password: pass}, until.Add(-renewBefore), nil
}

// renewBefore is how long before its session or token expires a cached
// ECR login is renewed.
const renewBefore = 5 * time.Minute

// ecrLogin is r's ECR login: the cached one while it lasts, unless fresh.
func (us *Upstreams) ecrLogin(ctx context.Context, r metadata.PullThroughRule, fresh bool) (*Credentials, error) {
	key := r.RegistryID + "\x00" + r.CustomRoleArn + "\x00" + r.UpstreamURL
	now := time.Now()
	if c, ok := us.logins.get(key, now); ok && !fresh {
		return c, nil
	}
	c, until, err := us.roleLogin(ctx, r)
	if err != nil {
		return nil, err
	}
	us.logins.put(key, c, until, now)
	return c, nil
}

// checkCustomRole validates a rule's customRoleArn as ECR does: an IAM
// role ARN of the registry's own account ("This role must be in the same
// account as the registry that you are configuring."), of a role that
// exists. "" is no role.
func (rs *Rules) checkCustomRole(ctx context.Context, reg, arn string) error {
	if arn == "" {
		return nil
	}
	if err := checkCustomRoleArn(arn); err != nil {
		return err
	}
	m := roleArnRE.FindStringSubmatch(arn)
	if m == nil {
		return invalidParam("customRoleArn", "must be the ARN of an IAM role")
	}
	if m[2] != reg {
		return invalidParam("customRoleArn", "This role must be in the same account as the registry that you are configuring.")
	}
	if rs.RoleCheck != nil {
		ok, err := rs.RoleCheck.RoleExists(ctx, arn)
		if err != nil {
			return err
		}
		if !ok {
			return invalidParam("customRoleArn", "The role "+arn+" does not exist")
		}
	}
	return nil
}

// roleUpstream checks that a rule with a customRoleArn has an ECR
// upstream: the role logs in with GetAuthorizationToken, which only an
// ECR registry answers.
func roleUpstream(r metadata.PullThroughRule) error {
	if r.CustomRoleArn == "" {
		return nil
	}
	if _, _, ok := ecrmodel.ParseRegistryHost(r.UpstreamURL); !ok || r.UpstreamRegistry != "ecr" {
		return invalidParam("customRoleArn", "customRoleArn can only be set for an ecr upstream registry (<account>.dkr.ecr.<region>.<domain>)")
	}
	return nil
}
