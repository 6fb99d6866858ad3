package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestSTSSessionPolicyAndSessionToken: a session policy narrows
// PowerUser to pulls (push denied in AWS's words, pull allowed);
// GetSessionToken gives the admin temporary credentials of its own; STS
// answers a signed GET as AWS does.
func TestSTSSessionPolicyAndSessionToken(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	adminCLI := newCLI(t, b.CACert).login(b)
	a := newAWSCLI(t, adminCLI, b)
	var me struct{ Arn, Account string }
	a.ok(&me, "sts", "get-caller-identity")
	a.ok(nil, "ecr", "create-repository", "--repository-name", "sp/app")
	crane := goTool(t, "crane")
	img := scPushImage(t, adminCLI, crane, b, "sp/app", "v1", 2048, false)
	roleARN := "arn:aws:iam::" + account + ":role/power"
	b.IAM("create-role", "--role", "power", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+me.Arn+`"},"Action":"sts:AssumeRole"}]}`)
	b.IAM("attach-policy", "--role", "power", "--policy", "AmazonEC2ContainerRegistryPowerUser")

	var as struct {
		Credentials      struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		AssumedRoleUser  struct{ Arn string }
		PackedPolicySize int
	}
	pullOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Resource":"*"}]}`
	a.ok(&as, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "pull", "--policy", pullOnly)
	if as.PackedPolicySize <= 0 {
		t.Errorf("PackedPolicySize %d", as.PackedPolicySize)
	}
	cr := as.Credentials
	puller := scRegistryCLI(t, b, "AWS", scToken(t, b, cr.AccessKeyId, cr.SecretAccessKey, cr.SessionToken))
	if err := scCranePull(t, puller, crane, img); err != nil {
		t.Fatalf("pull under the session policy: %v", err)
	}
	im := newImage(t, puller, 1024)
	_, err := puller.try(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", b.Addr+"/sp/app:v2")
	if err == nil || !strings.Contains(err.Error(), "User: "+as.AssumedRoleUser.Arn+" is not authorized to perform: ecr:") ||
		!strings.Contains(err.Error(), "because no session policy allows the ecr:") {
		t.Fatalf("push under the session policy: %v", err)
	}

	// GetSessionToken: the admin itself, with temporary credentials.
	var st struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	}
	a.ok(&st, "sts", "get-session-token", "--duration-seconds", "900")
	if !strings.HasPrefix(st.Credentials.AccessKeyId, "ASIA") {
		t.Fatalf("get-session-token: %+v", st)
	}
	tc := a.with(t)
	c := *tc.c
	c.env = append(append([]string(nil), c.env...), "AWS_ACCESS_KEY_ID="+st.Credentials.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY="+st.Credentials.SecretAccessKey, "AWS_SESSION_TOKEN="+st.Credentials.SessionToken)
	tc.c = &c
	var who struct{ Arn string }
	tc.ok(&who, "sts", "get-caller-identity")
	if who.Arn != me.Arn {
		t.Errorf("get-caller-identity with the session token: %q, want %q", who.Arn, me.Arn)
	}
	tc.ok(nil, "ecr", "describe-repositories")
	tc.fails("AccessDenied", "sts", "get-session-token")

	// STS over GET, signed as the SDKs sign a query request.
	req, _ := http.NewRequest(http.MethodGet, b.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	empty := sha256.Sum256(nil)
	creds := aws.Credentials{AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := clientFor(t, b.CACert).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Arn>"+me.Arn+"</Arn>") {
		t.Errorf("GET GetCallerIdentity: %d\n%s", resp.StatusCode, body)
	}
}
