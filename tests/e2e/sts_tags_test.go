package e2e_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestSessionTagsPodIdentity is EKS Pod Identity's shape against berth: a
// role trusting the agent for sts:AssumeRole and sts:TagSession only with
// the namespace's tags (the agent is a user of the account here: berth
// cannot sign as pods.eks.amazonaws.com), and a role policy that scopes
// repositories by ${aws:PrincipalTag/kubernetes-namespace}. The aws CLI
// passes --tags and --transitive-tag-keys; the Go SDK chains a second role
// that inherits the transitive tag, cannot override it, and cannot be
// reached from a session whose session policy does not allow it.
func TestSessionTagsPodIdentity(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	admin := newAWSCLI(t, newCLI(t, b.CACert), b)
	for _, r := range []string{"team-a/app", "team-b/app"} {
		admin.ok(nil, "ecr", "create-repository", "--repository-name", r)
	}
	agentID, agentSecret := b.NewUser(account, "pod-identity-agent")
	agentARN := "arn:aws:iam::" + account + ":user/pod-identity-agent"
	appARN := "arn:aws:iam::" + account + ":role/app"
	nextARN := "arn:aws:iam::" + account + ":role/next"
	nsPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},` +
		`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:` + account + `:repository/${aws:PrincipalTag/kubernetes-namespace}/*"}]}`
	b.IAM("create-role", "--role", "app", "--trust", `{"Version":"2012-10-17","Statement":[{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity",`+
		`"Effect":"Allow","Principal":{"AWS":"`+agentARN+`"},"Action":["sts:AssumeRole","sts:TagSession"],`+
		`"Condition":{"StringEquals":{"aws:RequestTag/kubernetes-namespace":["team-a"],"aws:RequestTag/kubernetes-service-account":["deployer"]}}}]}`)
	b.IAM("put-policy", "--role", "app", "--name", "ns", "--document", nsPolicy)
	b.IAM("create-role", "--role", "next", "--trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+appARN+`"},`+
		`"Action":["sts:AssumeRole","sts:TagSession"]}]}`)
	b.IAM("put-policy", "--role", "next", "--name", "ns", "--document", nsPolicy)
	b.IAM("create-role", "--role", "untagged", "--trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+agentARN+`"},`+
		`"Action":"sts:AssumeRole"}]}`)

	// The aws CLI, as the agent.
	agent := admin.as(agentID, agentSecret, "")
	var as struct {
		Credentials      struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		AssumedRoleUser  struct{ Arn string }
		PackedPolicySize int
	}
	agent.ok(&as, "sts", "assume-role", "--role-arn", appARN, "--role-session-name", "eks-prod-deployer",
		"--tags", "Key=eks-cluster-name,Value=prod", "Key=kubernetes-namespace,Value=team-a", "Key=kubernetes-service-account,Value=deployer",
		"--transitive-tag-keys", "kubernetes-namespace")
	if as.AssumedRoleUser.Arn != "arn:aws:sts::"+account+":assumed-role/app/eks-prod-deployer" || as.PackedPolicySize <= 0 {
		t.Fatalf("assume-role --tags: %+v", as.AssumedRoleUser)
	}
	res := agent.fails("AccessDenied", "sts", "assume-role", "--role-arn", appARN, "--role-session-name", "other",
		"--tags", "Key=kubernetes-namespace,Value=team-b", "Key=kubernetes-service-account,Value=deployer")
	if got, want := scAWSMessage(res.stderr), "User: "+agentARN+" is not authorized to perform: sts:AssumeRole on resource: "+appARN; got != want {
		t.Errorf("assume-role for another namespace: %q, want %q", got, want)
	}
	agent.fails("AccessDenied", "sts", "assume-role", "--role-arn", appARN, "--role-session-name", "other")
	res = agent.fails("AccessDenied", "sts", "assume-role", "--role-arn", "arn:aws:iam::"+account+":role/untagged", "--role-session-name", "other",
		"--tags", "Key=kubernetes-namespace,Value=team-a")
	if got, want := scAWSMessage(res.stderr), "User: "+agentARN+" is not authorized to perform: sts:TagSession on resource: arn:aws:iam::"+account+":role/untagged"; got != want {
		t.Errorf("assume-role with tags, no sts:TagSession: %q, want %q", got, want)
	}
	res = agent.fails("InvalidParameterValue", "sts", "assume-role", "--role-arn", appARN, "--role-session-name", "other",
		"--tags", "Key=kubernetes-namespace,Value=team-a", "--transitive-tag-keys", "team")
	if got := scAWSMessage(res.stderr); got != "The specified transitive tag key must be included in the requested tags." {
		t.Errorf("a transitive key that is no tag: %q", got)
	}

	// The session's aws:PrincipalTag/kubernetes-namespace picks its
	// repositories.
	pod := admin.as(as.Credentials.AccessKeyId, as.Credentials.SecretAccessKey, as.Credentials.SessionToken)
	pod.ok(nil, "ecr", "describe-repositories", "--repository-names", "team-a/app")
	res = pod.fails("AccessDeniedException", "ecr", "describe-repositories", "--repository-names", "team-b/app")
	if want := "User: " + as.AssumedRoleUser.Arn + " is not authorized to perform: ecr:DescribeRepositories on resource: arn:aws:ecr:us-east-1:" +
		account + ":repository/team-b/app because no identity-based policy allows the ecr:DescribeRepositories action"; !strings.Contains(res.stderr, want) {
		t.Errorf("describe-repositories team-b/app as team-a: %s\nwant %q", res.stderr, want)
	}

	// /v2 under the session's login token: the same tag decides.
	pw := scToken(t, b, as.Credentials.AccessKeyId, as.Credentials.SecretAccessKey, as.Credentials.SessionToken)
	v2 := newAPI(t, b)
	basicAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:"+pw))
	v2.expect(v2.do("GET", "/v2/team-a/app/tags/list", nil, "Authorization", basicAuth), "GET team-a/app tags as team-a", http.StatusOK)
	r := v2.do("GET", "/v2/team-b/app/tags/list", nil, "Authorization", basicAuth)
	v2.expect(r, "GET team-b/app tags as team-a", http.StatusForbidden)
	if !strings.Contains(string(r.body), `"DENIED"`) {
		t.Errorf("GET team-b/app tags as team-a: %s", r.body)
	}

	// The Go SDK: the session assumes the next role; the transitive tag
	// comes along and cannot be overridden.
	ctx := testenv.Ctx(t, 2*time.Minute)
	stsAs := func(id, secret, token string) *sts.Client {
		return sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(b.URL), HTTPClient: clientFor(t, b.CACert),
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)})
	}
	podSTS := stsAs(as.Credentials.AccessKeyId, as.Credentials.SecretAccessKey, as.Credentials.SessionToken)
	next, err := podSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(nextARN), RoleSessionName: aws.String("chained")})
	if err != nil {
		t.Fatalf("chained AssumeRole: %v", err)
	}
	nc := next.Credentials
	nextECR := b.ECRWith(aws.ToString(nc.AccessKeyId), aws.ToString(nc.SecretAccessKey), aws.ToString(nc.SessionToken))
	if _, err := nextECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team-a/app"}}); err != nil {
		t.Errorf("the chained session on team-a/app (transitive tag): %v", err)
	}
	if _, err := nextECR.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team-b/app"}}); err == nil {
		t.Error("the chained session reached team-b/app")
	}
	_, err = podSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(nextARN), RoleSessionName: aws.String("override"),
		Tags: []ststypes.Tag{{Key: aws.String("Kubernetes-Namespace"), Value: aws.String("team-b")}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" ||
		ae.ErrorMessage() != "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session." {
		t.Errorf("overriding an inherited transitive tag: %v", err)
	}

	// A session whose session policy allows only pulls cannot assume the
	// next role: the session policy is part of the sts:AssumeRole decision.
	agentSTS := stsAs(agentID, agentSecret, "")
	narrow, err := agentSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(appARN), RoleSessionName: aws.String("narrow"),
		Tags: []ststypes.Tag{{Key: aws.String("kubernetes-namespace"), Value: aws.String("team-a")},
			{Key: aws.String("kubernetes-service-account"), Value: aws.String("deployer")}},
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`)})
	if err != nil {
		t.Fatalf("AssumeRole with a session policy: %v", err)
	}
	nr := narrow.Credentials
	_, err = stsAs(aws.ToString(nr.AccessKeyId), aws.ToString(nr.SecretAccessKey), aws.ToString(nr.SessionToken)).AssumeRole(ctx,
		&sts.AssumeRoleInput{RoleArn: aws.String(nextARN), RoleSessionName: aws.String("widen")})
	if want := "User: arn:aws:sts::" + account + ":assumed-role/app/narrow is not authorized to perform: sts:AssumeRole on resource: " + nextARN; !errors.As(err, &ae) ||
		ae.ErrorCode() != "AccessDenied" || ae.ErrorMessage() != want {
		t.Errorf("AssumeRole from a pull-only session: %v, want AccessDenied %q", err, want)
	}
}
