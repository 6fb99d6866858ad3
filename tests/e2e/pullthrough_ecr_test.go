package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/testenv"
	"github.com/berth-registry/berth/tlsgen"
)

// TestPullThroughECRToECR: ECR-to-ECR pull-through across two accounts of
// one berth, set up as AWS's "cross-account ECR to ECR PTC" guide says.
// Account B (111122223333) owns team/app; account A (the registry's
// default) has a role trusting pullthroughcache.ecr.amazonaws.com with
// the guide's permissions, and a rule whose upstream is B's registry host
// <B>.dkr.ecr.us-east-1.<domain> with that role as customRoleArn. B's
// repository policy allows A's role to pull.
//
//   - ValidatePullThroughCacheRule is valid; with a role whose trust
//     policy does not allow the service, or one without
//     ecr:GetAuthorizationToken, it is not, and says why;
//   - a role of another account is refused at create;
//   - a crane pull through A gets B's digests and bytes, and A holds the
//     image afterwards;
//   - a repository of B whose policy does not allow A's role fails the pull
//     with the upstream's denial and leaves nothing cached in A.
//
// The two registry hosts are names for 127.0.0.1 in /etc/hosts; berth's
// certificate covers *.dkr.ecr.us-east-1.<domain>, and berth trusts its own
// CA for upstreams (pull_through.ca_file), made before it starts.
func TestPullThroughECRToECR(t *testing.T) {
	t.Parallel()
	const acctA, acctB = "000000000000", "111122223333"
	domain := ".dkr.ecr.us-east-1.berth-e2e-" + randHex(t, 4) + ".test"
	hostA, hostB := acctA+domain, acctB+domain
	lines := "127.0.0.1 " + hostA + "\n127.0.0.1 " + hostB + "\n"
	if err := editHosts(func(b []byte) []byte { return append(b, lines...) }); err != nil {
		t.Skipf("cannot add the registry hosts to /etc/hosts: %v", err)
	}
	t.Cleanup(func() {
		_ = editHosts(func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), lines, "")) })
	})
	dir := t.TempDir()
	tp := tlsgen.InDir(filepath.Join(dir, "tls"))
	if _, err := tlsgen.Ensure(tp, nil); err != nil {
		t.Fatal(err)
	}
	b := testenv.StartBerth(t, testenv.BerthOptions{DataDir: dir, Host: hostA, PublicHost: true,
		Extra: "pull_through: {ca_file: " + tp.CACert + "}\n"})
	watchLog(t, b)
	_, port, _ := strings.Cut(b.Addr, ":")
	regB := hostB + ":" + port
	ctx := testenv.Ctx(t, 5*time.Minute)
	crane := goTool(t, "crane")

	// Account B: its owner pushes team/app and team/closed; team/app's
	// policy lets A's role pull, team/closed's does not exist.
	idB, secretB := b.NewUser(acctB, "owner", "AmazonEC2ContainerRegistryFullAccess")
	ecrB := b.ECRWith(idB, secretB, "")
	for _, repo := range []string{"team/app", "team/closed"} {
		if _, err := ecrB.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
			t.Fatal(err)
		}
	}
	userB, passB := b.Login(ctx, ecrB)
	cB := newCLI(t, b.CACert)
	dockerAuth(t, cB, regB, userB, passB)
	ma := pushMultiArch(t, cB, regB, "team/app", "v1")
	closed := pushMultiArch(t, cB, regB, "team/closed", "v1")
	roleA := "arn:aws:iam::" + acctA + ":role/ecr-ptc"
	if _, err := ecrB.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("team/app"),
		PolicyText: aws.String(`{"Version":"2012-10-17","Statement":[{"Sid":"PullThroughCacheFromA","Effect":"Allow",` +
			`"Principal":{"AWS":"` + roleA + `"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`)}); err != nil {
		t.Fatal(err)
	}

	// Account A: the guide's role (trust and permissions), one trusting
	// another service, one without permissions.
	trust := func(service string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
	}
	b.IAM("create-role", "--role", "ecr-ptc", "--trust", trust("pullthroughcache.ecr.amazonaws.com"))
	b.IAM("put-policy", "--role", "ecr-ptc", "--name", "ptc", "--document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Action":["ecr:GetDownloadUrlForLayer","ecr:GetAuthorizationToken","ecr:BatchImportUpstreamImage","ecr:BatchGetImage",`+
		`"ecr:GetImageCopyStatus","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}]}`)
	b.IAM("create-role", "--role", "ec2-only", "--trust", trust("ec2.amazonaws.com"))
	b.IAM("create-role", "--role", "no-perms", "--trust", trust("pullthroughcache.ecr.amazonaws.com"))

	ecrA := b.ECR()
	rule := func(prefix, role string) error {
		_, err := ecrA.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
			EcrRepositoryPrefix: aws.String(prefix), UpstreamRegistryUrl: aws.String(regB),
			UpstreamRegistry: "ecr", CustomRoleArn: aws.String(role)})
		return err
	}
	validate := func(prefix string) *ecr.ValidatePullThroughCacheRuleOutput {
		t.Helper()
		v, err := ecrA.ValidatePullThroughCacheRule(ctx, &ecr.ValidatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var ae smithy.APIError
	if err := rule("other", "arn:aws:iam::"+acctB+":role/ecr-ptc"); !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" ||
		!strings.Contains(ae.ErrorMessage(), "This role must be in the same account as the registry that you are configuring.") {
		t.Fatalf("a rule with another account's role: %v", err)
	}
	for prefix, role := range map[string]string{"ecr-b": "ecr-ptc", "untrusted": "ec2-only", "noperm": "no-perms"} {
		if err := rule(prefix, "arn:aws:iam::"+acctA+":role/"+role); err != nil {
			t.Fatalf("rule %s: %v", prefix, err)
		}
	}
	if v := validate("ecr-b"); !v.IsValid || aws.ToString(v.CustomRoleArn) != roleA {
		t.Fatalf("validate the rule with the guide's role: %+v %s", v, aws.ToString(v.Failure))
	}
	if v := validate("untrusted"); v.IsValid || !strings.Contains(aws.ToString(v.Failure),
		"User: pullthroughcache.ecr.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::"+acctA+":role/ec2-only") {
		t.Fatalf("validate with a role not trusting the service: %+v %s", v, aws.ToString(v.Failure))
	}
	if v := validate("noperm"); v.IsValid || !strings.Contains(aws.ToString(v.Failure), "GetAuthorizationToken") ||
		!strings.Contains(aws.ToString(v.Failure), "AccessDeniedException") {
		t.Fatalf("validate with a role without ecr:GetAuthorizationToken: %+v %s", v, aws.ToString(v.Failure))
	}

	// A pull through A: B's digests and bytes, cached in A.
	cA := newCLI(t, b.CACert).login(b)
	ref := b.Addr + "/ecr-b/team/app:v1"
	pulledAsUpstream(t, cA, cB, b.Addr+"/ecr-b/team/app", regB+"/team/app", ma)
	cA.run(crane, "pull", "--platform", "linux/amd64", ref, cA.path("pulled.tar"))
	checkCached(t, b, "ecr-b/team/app", "v1", ma.index)

	// B's team/closed does not let A's role pull: B's denial, nothing in A.
	res, err := cA.try(crane, "digest", b.Addr+"/ecr-b/team/closed:v1")
	if err == nil {
		t.Fatalf("pull of a repository B does not share succeeded: %s", res.stdout)
	}
	if !strings.Contains(err.Error(), "DENIED") || !strings.Contains(err.Error(), "authentication to the upstream registry failed") {
		t.Fatalf("pull of a repository B does not share: %v", err)
	}
	// The role was assumed as the service, once: ValidatePullThroughCacheRule's
	// login served every pull after it (it lasts until shortly before the
	// session expires).
	if n := assumedAs(t, filepath.Join(dir, "audit.log"), "pullthroughcache.ecr.amazonaws.com", roleA); n != 1 {
		t.Errorf("%s assumed %d times by the pull-through cache service, want 1", roleA, n)
	}
	imgs, err := ecrA.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("ecr-b/team/closed")})
	if err == nil && len(imgs.ImageDetails) > 0 {
		t.Fatalf("A cached %d images of a repository B does not share (upstream index %s)", len(imgs.ImageDetails), closed.index)
	}
}

// assumedAs counts the allowed AssumeRole events of role by service in
// berth's audit log.
func assumedAs(t *testing.T, path, service, role string) int {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		var e struct {
			EventName    string `json:"eventName"`
			Decision     string `json:"decision"`
			UserIdentity struct {
				Type, ARN string
			} `json:"userIdentity"`
			Resources []struct{ ARN string } `json:"resources"`
		}
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		if e.EventName == "AssumeRole" && e.Decision == "Allow" && e.UserIdentity.Type == "Service" &&
			e.UserIdentity.ARN == service && len(e.Resources) == 1 && e.Resources[0].ARN == role {
			n++
		}
	}
	return n
}

// dockerAuth writes c's Docker config with a login for host.
func dockerAuth(t *testing.T, c *cli, host, user, pass string) {
	t.Helper()
	for _, kv := range c.env {
		if dir, ok := strings.CutPrefix(kv, "DOCKER_CONFIG="); ok {
			auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.json"),
				mustJSON(t, map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}}), 0o600); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("cli has no DOCKER_CONFIG")
}
