package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestPullThroughSecretsCLI: the ECR way to give a rule upstream
// credentials, with the real aws CLI: a Secrets Manager secret
// ecr-pullthroughcache/…, a rule naming its ARN, ValidatePullThroughCacheRule
// logging in to the reference registry (htpasswd) — valid with the right
// password, not valid after put-secret-value with a wrong one — and a
// crane pull through berth with the credentials.
func TestPullThroughSecretsCLI(t *testing.T) {
	t.Parallel()
	up := startRefRegistry(t, "puller", "upstream-pass")
	b := startBerthExtra(t, fmt.Sprintf("pull_through:\n  ca_file: %s\n", up.caFile))
	ac := newAWSCLI(t, newCLI(t, b.CACert), b)
	c := newCLI(t, bothCAs(t, b.CACert, up.caFile)).login(b)
	crane := goTool(t, "crane")

	// Push upstream with the upstream's login.
	c.run(crane, "auth", "login", up.addr, "-u", "puller", "-p", "upstream-pass")
	c.write("l.tar", makeTar(t, tarFile{name: "x", data: randBytes(t, 64<<10)}))
	c.run(crane, "append", "-f", c.path("l.tar"), "-t", up.addr+"/priv/app:v1")
	want := strings.TrimSpace(c.run(crane, "digest", up.addr+"/priv/app:v1").stdout)
	c.login(b) // crane's config again holds berth only

	var created struct{ ARN, Name, VersionId string }
	ac.ok(&created, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/upstream",
		"--secret-string", `{"username":"puller","accessToken":"upstream-pass"}`)
	if !strings.HasPrefix(created.ARN, "arn:aws:secretsmanager:us-east-1:") || !strings.Contains(created.ARN, ":secret:ecr-pullthroughcache/upstream-") {
		t.Fatalf("create-secret: %+v", created)
	}
	ac.fails("ResourceExistsException", "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/upstream", "--secret-string", "x")
	var val struct{ SecretString, ARN string }
	ac.ok(&val, "secretsmanager", "get-secret-value", "--secret-id", "ecr-pullthroughcache/upstream")
	if val.SecretString != `{"username":"puller","accessToken":"upstream-pass"}` || val.ARN != created.ARN {
		t.Fatalf("get-secret-value: %+v", val)
	}
	var list struct{ SecretList []struct{ Name string } }
	ac.ok(&list, "secretsmanager", "list-secrets")
	if len(list.SecretList) != 1 || list.SecretList[0].Name != "ecr-pullthroughcache/upstream" {
		t.Fatalf("list-secrets: %+v", list)
	}
	ac.ok(nil, "secretsmanager", "tag-resource", "--secret-id", created.ARN, "--tags", "Key=team,Value=a")
	var desc struct {
		Name string
		Tags []struct{ Key, Value string }
	}
	ac.ok(&desc, "secretsmanager", "describe-secret", "--secret-id", created.ARN)
	if len(desc.Tags) != 1 || desc.Tags[0].Key != "team" {
		t.Fatalf("describe-secret: %+v", desc)
	}
	ac.ok(nil, "secretsmanager", "untag-resource", "--secret-id", created.ARN, "--tag-keys", "team")
	ac.fails("ResourceNotFoundException", "secretsmanager", "get-secret-value", "--secret-id", "nope")
	// secretsmanager:* actions are IAM-checked: an ECR reader may not read
	// the secret, nor create one.
	id, key := b.NewUser("000000000000", "ptc-ecr-reader", "AmazonEC2ContainerRegistryReadOnly")
	reader := ac.as(id, key, "")
	res := reader.fails("AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", created.ARN)
	if !strings.Contains(res.stderr, "is not authorized to perform: secretsmanager:GetSecretValue on resource: "+created.ARN) {
		t.Fatalf("denial: %s", res.stderr)
	}
	reader.fails("AccessDeniedException", "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/mine", "--secret-string", "x")
	// The sealed value is not in the metadata store in the clear.
	if hits, _ := scanFor(t, b.DataDir, []byte("upstream-pass")); len(hits) > 0 {
		t.Fatalf("the secret's value is in the clear in %v", hits)
	}

	ac.fails("SecretNotFoundException", "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "priv",
		"--upstream-registry-url", up.addr, "--credential-arn", strings.Replace(created.ARN, "upstream-", "other-", 1))
	ac.ok(nil, "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "priv",
		"--upstream-registry-url", up.addr, "--credential-arn", created.ARN)
	var v struct {
		IsValid bool
		Failure string
	}
	ac.ok(&v, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "priv")
	if !v.IsValid {
		t.Fatalf("validate with the right password: %+v", v)
	}
	if d := strings.TrimSpace(c.run(crane, "digest", b.Addr+"/priv/priv/app:v1").stdout); d != want {
		t.Fatalf("pulled through berth with credentials: %s, want %s", d, want)
	}

	ac.ok(nil, "secretsmanager", "put-secret-value", "--secret-id", created.ARN,
		"--secret-string", `{"username":"puller","accessToken":"wrong"}`)
	v.IsValid, v.Failure = true, ""
	ac.ok(&v, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "priv")
	if v.IsValid || !strings.Contains(v.Failure, "authentication to the upstream registry failed") {
		t.Fatalf("validate with a wrong password: %+v", v)
	}
	// The value put before is AWSPREVIOUS now.
	var prev struct{ SecretString, VersionId string }
	ac.ok(&prev, "secretsmanager", "get-secret-value", "--secret-id", created.ARN, "--version-stage", "AWSPREVIOUS")
	if prev.SecretString != `{"username":"puller","accessToken":"upstream-pass"}` || prev.VersionId != created.VersionId {
		t.Fatalf("AWSPREVIOUS: %+v (created %s)", prev, created.VersionId)
	}
	var stages struct{ VersionIdsToStages map[string][]string }
	ac.ok(&stages, "secretsmanager", "describe-secret", "--secret-id", created.ARN)
	if len(stages.VersionIdsToStages) != 2 || stages.VersionIdsToStages[created.VersionId][0] != "AWSPREVIOUS" {
		t.Fatalf("versions: %+v", stages)
	}
	// A retried put with the same token is the same version; another value
	// under it is refused.
	const token = "0b8c1d2e-1111-4222-8333-944455556666"
	ac.ok(nil, "secretsmanager", "put-secret-value", "--secret-id", created.ARN, "--client-request-token", token,
		"--secret-string", `{"username":"puller","accessToken":"upstream-pass"}`)
	ac.ok(nil, "secretsmanager", "put-secret-value", "--secret-id", created.ARN, "--client-request-token", token,
		"--secret-string", `{"username":"puller","accessToken":"upstream-pass"}`)
	ac.fails("ResourceExistsException", "secretsmanager", "put-secret-value", "--secret-id", created.ARN,
		"--client-request-token", token, "--secret-string", "other")
	ac.ok(&v, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "priv")
	if !v.IsValid {
		t.Fatalf("validate after the right password is current again: %+v", v)
	}

	// Deletion waits out a recovery window, as on AWS: the secret cannot be
	// read, is listed only on request, cannot be re-created, and comes back
	// with restore-secret.
	ac.fails("InvalidParameterException", "secretsmanager", "delete-secret", "--secret-id", created.ARN, "--recovery-window-in-days", "3")
	ac.fails("InvalidParameterException", "secretsmanager", "delete-secret", "--secret-id", created.ARN,
		"--recovery-window-in-days", "7", "--force-delete-without-recovery")
	var del struct{ DeletionDate float64 }
	ac.ok(&del, "secretsmanager", "delete-secret", "--secret-id", created.ARN, "--recovery-window-in-days", "7")
	if d := time.Until(time.Unix(int64(del.DeletionDate), 0)); d < 6*24*time.Hour || d > 8*24*time.Hour {
		t.Fatalf("deletion date in %v, want 7 days", d)
	}
	res = ac.fails("InvalidRequestException", "secretsmanager", "get-secret-value", "--secret-id", created.ARN)
	if !strings.Contains(res.stderr, "marked for deletion") {
		t.Fatalf("get of a scheduled secret: %s", res.stderr)
	}
	ac.fails("InvalidRequestException", "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/upstream", "--secret-string", "x")
	ac.ok(&v, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "priv")
	if v.IsValid {
		t.Fatalf("validate with a secret scheduled for deletion: %+v", v)
	}
	list.SecretList = nil
	ac.ok(&list, "secretsmanager", "list-secrets")
	if len(list.SecretList) != 0 {
		t.Fatalf("list-secrets shows a scheduled secret: %+v", list)
	}
	ac.ok(&list, "secretsmanager", "list-secrets", "--include-planned-deletion")
	if len(list.SecretList) != 1 {
		t.Fatalf("list-secrets --include-planned-deletion: %+v", list)
	}
	ac.ok(nil, "secretsmanager", "restore-secret", "--secret-id", created.ARN)
	ac.ok(&val, "secretsmanager", "get-secret-value", "--secret-id", created.ARN)
	ac.ok(nil, "secretsmanager", "delete-secret", "--secret-id", created.ARN, "--force-delete-without-recovery")
	ac.fails("ResourceNotFoundException", "secretsmanager", "describe-secret", "--secret-id", created.ARN)
	// Forcing the deletion of a secret that is not there succeeds, as on AWS.
	ac.ok(nil, "secretsmanager", "delete-secret", "--secret-id", "ecr-pullthroughcache/none", "--force-delete-without-recovery")
}

// startBerthExtra is startBerth on disk with extra configuration.
func startBerthExtra(t *testing.T, extra string) *testenvBerth {
	t.Helper()
	b := testenvStart(t, extra)
	watchLog(t, b)
	return b
}

type testenvBerth = testenv.Berth

func testenvStart(t *testing.T, extra string) *testenv.Berth {
	return testenv.StartBerth(t, testenv.BerthOptions{Extra: extra})
}
