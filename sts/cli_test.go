package sts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/iam"
)

// awsCLI finds the aws CLI, skipping the test without it.
func awsCLI(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("aws CLI not on PATH (required under CI)")
		}
		t.Skip("aws CLI not on PATH")
	}
	return bin
}

// clientErrorExit is the CLI's exit status for an error the service
// answered: 254 for CLI v2, 255 for v1 (whose only failure status it is).
func clientErrorExit(t *testing.T, bin string) int {
	t.Helper()
	out, _ := exec.Command(bin, "--version").CombinedOutput()
	if strings.HasPrefix(string(out), "aws-cli/1.") {
		return 255
	}
	return 254
}

// runCLI runs the aws CLI with only the given AWS_ settings: no shared
// files, no instance metadata, no retries, and a private HOME so that no
// cached assume-role credentials of an earlier run are reused.
func runCLI(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			base = append(base, kv)
		}
	}
	cmd.Env = append(base,
		"HOME="+t.TempDir(),
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
		"NO_PROXY=127.0.0.1,localhost",
		"no_proxy=127.0.0.1,localhost",
	)
	cmd.Env = append(cmd.Env, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		exit = ee.ExitCode()
	case err != nil:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), exit
}

func userEnv() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + userAKID, "AWS_SECRET_ACCESS_KEY=" + userKey}
}

// TestAWSCLI runs `aws sts …` against the handler behind the real verifier.
func TestAWSCLI(t *testing.T) {
	bin := awsCLI(t)
	srv, roles := realServer(t, nil)
	common := []string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}
	failed := clientErrorExit(t, bin)

	t.Run("get-caller-identity", func(t *testing.T) {
		out, errOut, exit := runCLI(t, bin, userEnv(), append([]string{"sts", "get-caller-identity"}, common...)...)
		if exit != 0 {
			t.Fatalf("exit %d:\n%s", exit, errOut)
		}
		var got struct{ UserId, Account, Arn string }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if got.Arn != alice.ARN || got.UserId != alice.UserID || got.Account != account {
			t.Errorf("printed %s", out)
		}
	})

	t.Run("assume-role", func(t *testing.T) {
		args := append([]string{"sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "s1",
			"--duration-seconds", "1800", "--tags", "Key=team,Value=blue"}, common...)
		out, errOut, exit := runCLI(t, bin, userEnv(), args...)
		if exit != 0 {
			t.Fatalf("exit %d:\n%s", exit, errOut)
		}
		var got struct {
			Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
			AssumedRoleUser struct{ AssumedRoleId, Arn string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		c := got.Credentials
		if c.AccessKeyId != sessAKID || c.SecretAccessKey != sessKey || c.SessionToken != sessToken {
			t.Errorf("credentials printed: %s", out)
		}
		// botocore prints timestamps in ISO 8601 with the offset.
		if exp, err := time.Parse(time.RFC3339, c.Expiration); err != nil || !exp.Equal(roles.expires) {
			t.Errorf("expiration %q (%v), want %v", c.Expiration, err, roles.expires)
		}
		if got.AssumedRoleUser.Arn != "arn:aws:sts::123456789012:assumed-role/ci/s1" || got.AssumedRoleUser.AssumedRoleId != roleID+":s1" {
			t.Errorf("assumed role user printed: %s", out)
		}
		calls := roles.recorded()
		last := calls[len(calls)-1]
		if last.DurationSeconds != 1800 || len(last.Tags) != 1 || last.Tags[0] != (iam.SessionTag{Key: "team", Value: "blue"}) {
			t.Errorf("Roles got %+v", last)
		}
	})

	t.Run("assume-role denied", func(t *testing.T) {
		args := append([]string{"sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/denied", "--role-session-name", "s1"}, common...)
		out, errOut, exit := runCLI(t, bin, userEnv(), args...)
		want := "An error occurred (AccessDenied) when calling the AssumeRole operation: User: " + alice.ARN +
			" is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/denied"
		if exit != failed || !strings.Contains(errOut, want) || out != "" {
			t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant %d and %q", exit, out, errOut, failed, want)
		}
	})

	t.Run("unknown key", func(t *testing.T) {
		env := []string{"AWS_ACCESS_KEY_ID=AKIAUNKNOWNUNKNOWN00", "AWS_SECRET_ACCESS_KEY=" + userKey}
		_, errOut, exit := runCLI(t, bin, env, append([]string{"sts", "get-caller-identity"}, common...)...)
		want := "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid."
		if exit != failed || !strings.Contains(errOut, want) {
			t.Errorf("exit %d:\n%s", exit, errOut)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		env := []string{"AWS_ACCESS_KEY_ID=" + userAKID, "AWS_SECRET_ACCESS_KEY=" + sessKey}
		_, errOut, exit := runCLI(t, bin, env, append([]string{"sts", "get-caller-identity"}, common...)...)
		if exit != failed || !strings.Contains(errOut, "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated") {
			t.Errorf("exit %d:\n%s", exit, errOut)
		}
	})
}

// TestAWSCLIProfile runs `aws --profile ci sts get-caller-identity` where
// ci is a role_arn/source_profile profile: the CLI must call AssumeRole on
// berth with the base key, then sign GetCallerIdentity with the session
// credentials it got. Each way of naming berth's endpoint that reaches the
// CLI's assume-role provider is a case; `--endpoint-url` does not (it only
// applies to the command's own client) and a [services] section must name
// sts, not just ecr.
func TestAWSCLIProfile(t *testing.T) {
	bin := awsCLI(t)
	cases := []struct {
		name string
		ci   string // extra lines of [profile ci]; {url} is the server
		env  string // extra environment; {url} is the server
	}{
		{name: "AWS_ENDPOINT_URL", env: "AWS_ENDPOINT_URL={url}"},
		{name: "AWS_ENDPOINT_URL_STS", env: "AWS_ENDPOINT_URL_STS={url}"},
		{name: "endpoint_url in the profile", ci: "endpoint_url = {url}\n"},
		{name: "services section", ci: "services = berth\n\n[services berth]\nsts =\n  endpoint_url = {url}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, roles, audit := realServerAudited(t, nil)
			config := "[profile ci]\nrole_arn = " + roleARN + "\nsource_profile = base\nregion = us-east-1\n" +
				strings.ReplaceAll(c.ci, "{url}", srv.URL) +
				"\n[profile base]\naws_access_key_id = " + userAKID + "\naws_secret_access_key = " + userKey + "\nregion = us-east-1\n"
			path := filepath.Join(t.TempDir(), "config")
			if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"AWS_CONFIG_FILE=" + path}
			if c.env != "" {
				env = append(env, strings.ReplaceAll(c.env, "{url}", srv.URL))
			}
			out, errOut, exit := runCLI(t, bin, env, "--profile", "ci", "sts", "get-caller-identity", "--output", "json")
			if exit != 0 {
				t.Fatalf("exit %d:\n%s\nconfig:\n%s", exit, errOut, config)
			}
			calls := roles.recorded()
			if len(calls) != 1 || calls[0].RoleArn != roleARN || !strings.HasPrefix(calls[0].RoleSessionName, "botocore-session-") {
				t.Fatalf("AssumeRole calls: %+v", calls)
			}
			session := sessionPrincipal(calls[0].RoleSessionName)
			var got struct{ UserId, Account, Arn string }
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			if got.Arn != session.ARN || got.UserId != session.UserID || got.Account != account {
				t.Errorf("printed %s, want the session %s", out, session.ARN)
			}
			want := []auditEntry{
				{Action: "AssumeRole", AccessKeyID: userAKID, ARN: alice.ARN},
				{Action: "GetCallerIdentity", AccessKeyID: sessAKID, ARN: session.ARN},
			}
			if a := audit.list(); !reflect.DeepEqual(a, want) {
				t.Errorf("calls answered: %+v\nwant %+v", a, want)
			}
		})
	}
}
