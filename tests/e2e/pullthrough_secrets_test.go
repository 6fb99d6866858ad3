package e2e_test

import (
	"fmt"
	"strings"
	"testing"

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
	ac.ok(nil, "secretsmanager", "delete-secret", "--secret-id", created.ARN, "--force-delete-without-recovery")
	ac.fails("ResourceNotFoundException", "secretsmanager", "describe-secret", "--secret-id", created.ARN)
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
