package e2e_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/golang-jwt/jwt/v5"

	"github.com/berth-registry/berth/auth/oidc/oidctest"
	"github.com/berth-registry/berth/internal/testenv"
)

// TestWebIdentity is GitHub Actions and EKS IRSA against berth: a real
// OIDC issuer (HTTPS, discovery, JWKS) mints tokens; the aws CLI and the
// Go SDK's web identity provider exchange them with
// AssumeRoleWithWebIdentity for a session of a role whose trust policy
// names the provider; the session logs in and pushes with crane.
func TestWebIdentity(t *testing.T) {
	t.Parallel()
	is := oidctest.New(t, "")
	caFile := is.CAFile(t, t.TempDir())
	b := startDiskBerth(t, testenv.BerthOptions{Extra: "iam: {oidc_ca_file: " + caFile + "}"})
	admin := newAWSCLI(t, newCLI(t, b.CACert), b)
	admin.ok(nil, "ecr", "create-repository", "--repository-name", "gha/app")
	b.IAM("create-oidc-provider", "--url", is.URL, "--client-id", "sts.amazonaws.com")
	provARN := "arn:aws:iam::" + account + ":oidc-provider/" + is.Host()
	roleARN := "arn:aws:iam::" + account + ":role/gha"
	b.IAM("create-role", "--role", "gha", "--trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+provARN+
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+is.Host()+`:aud":"sts.amazonaws.com"},"StringLike":{"`+is.Host()+`:sub":"repo:org/app:*"}}}]}`)
	b.IAM("attach-policy", "--role", "gha", "--policy", "AmazonEC2ContainerRegistryPowerUser")

	// The aws CLI, as configure-aws-credentials calls it.
	var out struct {
		Credentials                                     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
		AssumedRoleUser                                 struct{ Arn, AssumedRoleId string }
		SubjectFromWebIdentityToken, Provider, Audience string
	}
	tok := is.Mint(t, is.GitHubClaims("org/app"))
	admin.ok(&out, "sts", "assume-role-with-web-identity", "--role-arn", roleARN, "--role-session-name", "GitHubActions",
		"--web-identity-token", tok, "--duration-seconds", "900")
	if out.AssumedRoleUser.Arn != "arn:aws:sts::"+account+":assumed-role/gha/GitHubActions" ||
		out.SubjectFromWebIdentityToken != "repo:org/app:ref:refs/heads/main" || out.Provider != is.URL ||
		out.Audience != "sts.amazonaws.com" || !strings.HasPrefix(out.Credentials.AccessKeyId, "ASIA") {
		t.Fatalf("assume-role-with-web-identity: %+v", out)
	}
	exp, err := time.Parse(time.RFC3339, out.Credentials.Expiration)
	if err != nil || time.Until(exp) > 15*time.Minute || time.Until(exp) < 10*time.Minute {
		t.Errorf("Expiration %q, want in 15 minutes", out.Credentials.Expiration)
	}

	// Refusals, in AWS's codes and words.
	mint := func(edit func(jwt.MapClaims)) string {
		c := is.GitHubClaims("org/app")
		edit(c)
		return is.Mint(t, c)
	}
	other := oidctest.New(t, "")
	for _, tc := range []struct{ name, token, code, msg string }{
		{"wrong aud", mint(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), "InvalidIdentityToken", "Incorrect token audience"},
		{"other sub", mint(func(c jwt.MapClaims) { c["sub"] = "repo:evil/app:ref:refs/heads/main" }), "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"expired", mint(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), "ExpiredTokenException",
			"The web identity token that was passed is expired or is not valid. Get a new identity token from the identity provider and then retry the request."},
		{"unknown kid", is.MintWith(t, is.GitHubClaims("org/app"), "rotated-away", is.Key), "InvalidIdentityToken",
			"Couldn’t retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"},
		{"unknown issuer", other.Mint(t, other.GitHubClaims("org/app")), "InvalidIdentityToken", "No OpenIDConnect provider found in your account for " + other.URL},
		{"tampered", tok[:len(tok)-4] + "AAAA", "InvalidIdentityToken",
			"The web identity token that was passed could not be validated by Amazon Web Services. Get a new identity token from the identity provider and then retry the request."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.with(t).fails(tc.code, "sts", "assume-role-with-web-identity", "--role-arn", roleARN,
				"--role-session-name", "s1", "--web-identity-token", tc.token)
			if got := scAWSMessage(res.stderr); got != tc.msg {
				t.Errorf("message %q, want %q", got, tc.msg)
			}
		})
	}

	// IRSA: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, no stored secret.
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(is.Mint(t, is.GitHubClaims("org/app"))), 0o600); err != nil {
		t.Fatal(err)
	}
	irsa := admin.with(t)
	c := *irsa.c
	c.env = append(append([]string(nil), c.env...), "AWS_ROLE_ARN="+roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile,
		"AWS_ROLE_SESSION_NAME=pod", "AWS_ENDPOINT_URL="+b.URL, "AWS_SHARED_CREDENTIALS_FILE=/nonexistent")
	irsa.c = &c
	var who struct{ Arn string }
	irsa.ok(&who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:sts::"+account+":assumed-role/gha/pod" {
		t.Fatalf("get-caller-identity under IRSA: %q", who.Arn)
	}

	// The Go SDK's web identity provider, then a push under the session.
	stsc := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.URL), HTTPClient: clientFor(t, b.CACert)})
	prov := stscreds.NewWebIdentityRoleProvider(stsc, roleARN, stscreds.IdentityTokenFile(tokenFile),
		func(o *stscreds.WebIdentityRoleOptions) { o.RoleSessionName = "sdk" })
	creds, err := prov.Retrieve(testenv.Ctx(t, time.Minute))
	if err != nil {
		t.Fatalf("web identity provider: %v", err)
	}
	password := scToken(t, b, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	pusher := scRegistryCLI(t, b, "AWS", password)
	crane := goTool(t, "crane")
	img := scPushImage(t, pusher, crane, b, "gha/app", "v1", 2048, false)
	if err := scCranePull(t, pusher, crane, img); err != nil {
		t.Fatalf("pull under the session: %v", err)
	}
	// The session is a role session like any other: revoking ends it.
	b.IAM("revoke-sessions", "--role", "gha")
	sess := b.ECRWith(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
	// (within the key cache's lifetime)
	scEventually(t, "revoked session refused", 15*time.Second, func() error {
		if _, err := sess.GetAuthorizationToken(testenv.Ctx(t, time.Minute), nil); err == nil {
			return errors.New("GetAuthorizationToken succeeded after the sessions were revoked")
		}
		return nil
	})
}
