package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/testenv"
)

// awsCLI runs the aws CLI v1 against one berth the way a user does: a
// shared-credentials file with the bootstrap key in a private HOME, region
// us-east-1, AWS_CA_BUNDLE naming berth's CA, --endpoint-url on every call.
// Nothing AWS_* leaks in from the outer environment.
type awsCLI struct {
	t        *testing.T
	c        *cli // runs commands; its env is the CLI's (no outer AWS_*)
	bin      string
	endpoint string
}

// newAWSCLI prepares the aws CLI in c's private HOME for b.
func newAWSCLI(t *testing.T, c *cli, b *testenv.Berth) *awsCLI {
	t.Helper()
	bin := awsBinary(t)
	home := ""
	var env []string
	for _, kv := range c.env {
		if strings.HasPrefix(kv, "AWS_") {
			continue
		}
		if h, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = h
		}
		env = append(env, kv)
	}
	if home == "" {
		t.Fatal("the cli has no private HOME")
	}
	dir := filepath.Join(home, ".aws")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	creds := "[default]\naws_access_key_id = " + b.AccessKeyID + "\naws_secret_access_key = " + b.SecretAccessKey + "\n"
	// max_attempts = 1: a 5xx from berth shows up instead of being retried
	// away.
	conf := "[default]\nregion = us-east-1\noutput = json\nmax_attempts = 1\n"
	if err := os.WriteFile(filepath.Join(dir, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append(env, "AWS_CA_BUNDLE="+b.CACert)
	cp := *c
	cp.env = env
	return &awsCLI{t: t, c: &cp, bin: bin, endpoint: "https://" + b.Addr}
}

// awsBinary is the aws CLI; a pyenv shim is resolved to the real script
// (the shim costs a few hundred milliseconds per call).
func awsBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Fatalf("aws CLI not found in PATH (%v); install awscli 1.x (pip install awscli)", err)
	}
	if filepath.Base(filepath.Dir(p)) == "shims" {
		if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
			if real := strings.TrimSpace(string(out)); real != "" {
				return real
			}
		}
	}
	return p
}

// with is a, for another (sub)test.
func (a *awsCLI) with(t *testing.T) *awsCLI {
	cp := *a
	cp.t = t
	cp.c = a.c.with(t)
	return &cp
}

// awsResult is one CLI call: its output and exit code.
type awsResult struct {
	stdout, stderr string
	code           int
}

// run runs `aws <args> --endpoint-url … --output json` (the two flags only
// when args lack them).
func (a *awsCLI) run(args ...string) awsResult {
	a.t.Helper()
	if !slices.Contains(args, "--endpoint-url") && !slices.ContainsFunc(a.c.env, func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_ENDPOINT_URL=")
	}) {
		args = append(args, "--endpoint-url", a.endpoint)
	}
	if !slices.Contains(args, "--output") {
		args = append(args, "--output", "json")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, a.bin, args...)
	cmd.Dir, cmd.Env = a.c.dir, a.c.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res := awsResult{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		a.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	a.t.Logf("$ aws %s  → %d (%.1fs)", strings.Join(shorten(args), " "), res.code, time.Since(start).Seconds())
	return res
}

// shorten cuts long arguments (manifests, policies) for the log.
func shorten(args []string) []string {
	out := make([]string, len(args))
	for i, s := range args {
		if len(s) > 80 {
			s = s[:60] + "…(" + strconv.Itoa(len(s)) + " bytes)"
		}
		out[i] = s
	}
	return out
}

// ok runs a command that must succeed and decodes its JSON output into v
// (when v is not nil).
func (a *awsCLI) ok(v any, args ...string) awsResult {
	a.t.Helper()
	res := a.run(args...)
	if res.code != 0 {
		a.t.Fatalf("aws %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(shorten(args), " "), res.code,
			tail(res.stdout, 2000), tail(res.stderr, 2000))
	}
	if v != nil {
		if err := json.Unmarshal([]byte(res.stdout), v); err != nil {
			a.t.Fatalf("aws %s: output is not the expected JSON: %v\n%s", strings.Join(shorten(args), " "), err, tail(res.stdout, 2000))
		}
	}
	return res
}

// fails runs a command that must fail with a service error: exit code 254
// or 255 (v2 and v1) and the exception named on standard error.
func (a *awsCLI) fails(exception string, args ...string) awsResult {
	a.t.Helper()
	res := a.run(args...)
	if res.code != 254 && res.code != 255 {
		a.t.Fatalf("aws %s: exit %d, want 254/255 with %s\nstdout:\n%s\nstderr:\n%s", strings.Join(shorten(args), " "),
			res.code, exception, tail(res.stdout, 2000), tail(res.stderr, 2000))
	}
	if !strings.Contains(res.stderr, "("+exception+")") {
		a.t.Fatalf("aws %s: stderr does not name %s:\n%s", strings.Join(shorten(args), " "), exception, tail(res.stderr, 2000))
	}
	return res
}

// apiErrorCode is the AWS error code of an SDK error ("" if it has none).
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// inCI reports whether the tests run under CI (missing tools then fail).
func inCI() bool { return os.Getenv("CI") == "true" }

// dockerDaemon returns the docker CLI if it and a daemon are usable and the
// test runs as root (it writes /etc/hosts and /etc/docker/certs.d). When
// they are not, it fails the test under CI and otherwise reports why not.
func dockerDaemon(t *testing.T) (docker, whyNot string) {
	t.Helper()
	why := ""
	p, err := exec.LookPath("docker")
	switch {
	case err != nil:
		why = "no docker CLI in PATH"
	case os.Geteuid() != 0:
		why = "not root (the test writes /etc/hosts and /etc/docker/certs.d)"
	default:
		if out, err := exec.Command(p, "info").CombinedOutput(); err != nil {
			why = "docker info failed (no daemon?): " + err.Error() + "\n" + tail(string(out), 500)
		}
	}
	if why == "" {
		return p, ""
	}
	if inCI() {
		t.Fatalf("CI=true but the Docker part cannot run: %s", why)
	}
	return "", why
}

// withEnv is a with more environment variables (AWS_ENDPOINT_URL=… replaces
// the --endpoint-url run adds).
func (a *awsCLI) withEnv(kv ...string) *awsCLI {
	cp := *a
	c := *a.c
	c.env = append(slices.Clone(a.c.env), kv...)
	cp.c = &c
	return &cp
}

// as is a signing with the given credentials (environment variables win
// over the shared-credentials file); token "" for long-lived keys.
func (a *awsCLI) as(id, secret, token string) *awsCLI {
	cp := *a
	c := *a.c
	c.env = append(slices.Clone(a.c.env), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
	if token != "" {
		c.env = append(c.env, "AWS_SESSION_TOKEN="+token)
	}
	cp.c = &c
	return &cp
}

// assumeRole runs `aws sts assume-role` and returns the session's keys.
func (a *awsCLI) assumeRole(roleARN, session string) (id, secret, token string) {
	a.t.Helper()
	var out struct {
		Credentials struct {
			AccessKeyId, SecretAccessKey, SessionToken, Expiration string
		}
		AssumedRoleUser struct{ AssumedRoleId, Arn string }
	}
	a.ok(&out, "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", session)
	c := out.Credentials
	if !strings.HasPrefix(c.AccessKeyId, "ASIA") || c.SecretAccessKey == "" || c.SessionToken == "" || c.Expiration == "" {
		a.t.Fatalf("assume-role printed incomplete credentials: key %q, expiration %q", c.AccessKeyId, c.Expiration)
	}
	return c.AccessKeyId, c.SecretAccessKey, c.SessionToken
}
