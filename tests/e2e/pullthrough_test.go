package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// cliPTCRule is a pull-through cache rule as the aws CLI prints it.
type cliPTCRule struct {
	EcrRepositoryPrefix, UpstreamRegistryUrl, RegistryId, CredentialArn string
	UpstreamRegistry, UpstreamRepositoryPrefix, CustomRoleArn           string
	CreatedAt, UpdatedAt                                                float64
}

// TestPullThroughRulesCLI manages pull-through cache rules with the real
// aws CLI as a user does: create (with ECR's validation and errors),
// describe (by prefix and paged), update, validate (a real login attempt
// upstream) and delete.
func TestPullThroughRulesCLI(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "disk")
	ac := newAWSCLI(t, newCLI(t, b.CACert), b)
	var who struct{ Account string }
	ac.ok(&who, "sts", "get-caller-identity")
	acct := who.Account
	// Rules name existing secrets of their account.
	var sec1, sec2 struct{ ARN string }
	ac.ok(&sec1, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/docker-hub", "--secret-string", `{"username":"u","accessToken":"t"}`)
	ac.ok(&sec2, "secretsmanager", "create-secret", "--name", "ecr-pullthroughcache/docker-hub-2", "--secret-string", `{"username":"u","accessToken":"t2"}`)
	secret := sec1.ARN

	var created cliPTCRule
	ac.ok(&created, "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "docker-hub/",
		"--upstream-registry-url", "registry-1.docker.io", "--credential-arn", secret)
	if created.EcrRepositoryPrefix != "docker-hub" || created.UpstreamRegistryUrl != "registry-1.docker.io" ||
		created.RegistryId != acct || created.CredentialArn != secret || created.UpstreamRegistry != "docker-hub" ||
		created.UpstreamRepositoryPrefix != "ROOT" || created.CreatedAt == 0 {
		t.Fatalf("created %+v", created)
	}
	// The same prefix again, with or without its "/".
	res := ac.fails("PullThroughCacheRuleAlreadyExistsException", "ecr", "create-pull-through-cache-rule",
		"--ecr-repository-prefix", "docker-hub", "--upstream-registry-url", "quay.io")
	if !strings.Contains(res.stderr, "A pull through cache rule with these settings already exists for the private registry.") {
		t.Fatalf("stderr: %s", res.stderr)
	}
	ac.fails("InvalidParameterException", "ecr", "create-pull-through-cache-rule",
		"--ecr-repository-prefix", "Bad_Prefix", "--upstream-registry-url", "quay.io")
	ac.fails("InvalidParameterException", "ecr", "create-pull-through-cache-rule",
		"--ecr-repository-prefix", "ROOT", "--upstream-registry-url", "quay.io", "--upstream-repository-prefix", "up")
	ac.fails("UnsupportedUpstreamRegistryException", "ecr", "create-pull-through-cache-rule",
		"--ecr-repository-prefix", "web", "--upstream-registry-url", "not a registry")
	ac.fails("InvalidParameterException", "ecr", "create-pull-through-cache-rule",
		"--ecr-repository-prefix", "quay", "--upstream-registry-url", "quay.io", "--credential-arn", "arn:aws:secretsmanager:us-east-1:"+acct+":secret:other/x-1234567890")
	// A secret of another account is not found.
	ac.fails("SecretNotFoundException", "ecr", "create-pull-through-cache-rule",
		"--ecr-repository-prefix", "quay", "--upstream-registry-url", "quay.io",
		"--credential-arn", "arn:aws:secretsmanager:us-east-1:999999999999:secret:ecr-pullthroughcache/x-AbCdEf")

	var second cliPTCRule
	ac.ok(&second, "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "team-a",
		"--upstream-registry-url", "127.0.0.1:1", "--upstream-repository-prefix", "upstream-app")
	if second.UpstreamRepositoryPrefix != "upstream-app" || second.UpstreamRegistry != "" {
		t.Fatalf("second %+v", second)
	}

	var desc struct {
		PullThroughCacheRules []cliPTCRule
		NextToken             string
	}
	ac.ok(&desc, "ecr", "describe-pull-through-cache-rules", "--ecr-repository-prefixes", "team-a")
	if len(desc.PullThroughCacheRules) != 1 || desc.PullThroughCacheRules[0].UpstreamRegistryUrl != "127.0.0.1:1" {
		t.Fatalf("describe team-a: %+v", desc)
	}
	ac.fails("PullThroughCacheRuleNotFoundException", "ecr", "describe-pull-through-cache-rules", "--ecr-repository-prefixes", "nope")
	// One rule per page: the CLI pages through both.
	desc.PullThroughCacheRules = nil
	ac.ok(&desc, "ecr", "describe-pull-through-cache-rules", "--page-size", "1")
	if len(desc.PullThroughCacheRules) != 2 || desc.PullThroughCacheRules[0].EcrRepositoryPrefix != "docker-hub" ||
		desc.PullThroughCacheRules[1].EcrRepositoryPrefix != "team-a" {
		t.Fatalf("describe all: %+v", desc)
	}
	desc.PullThroughCacheRules = nil
	ac.ok(&desc, "ecr", "describe-pull-through-cache-rules", "--max-items", "1")
	if len(desc.PullThroughCacheRules) != 1 || desc.NextToken == "" {
		t.Fatalf("describe --max-items 1: %+v", desc)
	}

	var updated cliPTCRule
	secret2 := sec2.ARN
	// A well-formed ARN of no secret.
	ac.fails("SecretNotFoundException", "ecr", "update-pull-through-cache-rule", "--ecr-repository-prefix", "docker-hub",
		"--credential-arn", fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:ecr-pullthroughcache/none-AbCdEf", acct))
	ac.ok(&updated, "ecr", "update-pull-through-cache-rule", "--ecr-repository-prefix", "docker-hub", "--credential-arn", secret2)
	if updated.CredentialArn != secret2 || updated.UpdatedAt == 0 || updated.RegistryId != acct {
		t.Fatalf("updated %+v", updated)
	}
	ac.fails("PullThroughCacheRuleNotFoundException", "ecr", "update-pull-through-cache-rule",
		"--ecr-repository-prefix", "nope", "--credential-arn", secret2)

	// Validation logs in upstream: nothing listens on 127.0.0.1:1.
	var val struct {
		EcrRepositoryPrefix string
		IsValid             bool
		Failure             string
	}
	ac.ok(&val, "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "team-a")
	if val.IsValid || val.Failure == "" || val.EcrRepositoryPrefix != "team-a" {
		t.Fatalf("validate: %+v", val)
	}
	ac.fails("PullThroughCacheRuleNotFoundException", "ecr", "validate-pull-through-cache-rule", "--ecr-repository-prefix", "nope")

	var deleted cliPTCRule
	ac.ok(&deleted, "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "team-a")
	if deleted.EcrRepositoryPrefix != "team-a" || deleted.UpstreamRepositoryPrefix != "upstream-app" {
		t.Fatalf("deleted %+v", deleted)
	}
	res = ac.fails("PullThroughCacheRuleNotFoundException", "ecr", "delete-pull-through-cache-rule", "--ecr-repository-prefix", "team-a")
	if !strings.Contains(res.stderr, "The pull through cache rule was not found. Specify a valid pull through cache rule and try again.") {
		t.Fatalf("stderr: %s", res.stderr)
	}

	// The limit: 50 rules per registry.
	ctx := testenv.Ctx(t, time.Minute)
	for i := 1; i < 50; i++ {
		if _, err := b.ECR().CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
			EcrRepositoryPrefix: aws.String(fmt.Sprintf("l%02d", i)), UpstreamRegistryUrl: aws.String("quay.io")}); err != nil {
			t.Fatalf("rule %d: %v", i, err)
		}
	}
	ac.fails("LimitExceededException", "ecr", "create-pull-through-cache-rule", "--ecr-repository-prefix", "l50", "--upstream-registry-url", "quay.io")
}
