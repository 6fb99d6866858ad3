package sigv4

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAWSCLI verifies requests signed by the AWS CLI (botocore signs a
// different header set than aws-sdk-go-v2 and normalizes the path).
func TestAWSCLI(t *testing.T) {
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("aws CLI not on PATH (required under CI)")
		}
		t.Skip("aws CLI not on PATH")
	}
	v := &Verifier{Lookup: testKeys(longLived()), Now: time.Now}
	srv := httptest.NewServer(&ecrServer{v: v})
	defer srv.Close()
	dir := t.TempDir()
	run := func(secret string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "ecr", "describe-repositories", "--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json")
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env,
			"AWS_ACCESS_KEY_ID="+testAKID,
			"AWS_SECRET_ACCESS_KEY="+secret,
			"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
			"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_MAX_ATTEMPTS=1",
			"NO_PROXY=127.0.0.1,localhost",
			"no_proxy=127.0.0.1,localhost",
		)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(testSecret); err != nil {
		t.Fatalf("aws ecr describe-repositories: %v\n%s", err, out)
	}
	out, err := run(tempSecret)
	if err == nil || !strings.Contains(out, "(InvalidSignatureException)") {
		t.Fatalf("wrong secret: err %v, output:\n%s", err, out)
	}
}
