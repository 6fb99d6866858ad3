package ecrapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// pullPolicy is a typical repository policy, with its own layout (it must
// come back byte for byte).
const pullPolicy = `{
  "Version" : "2008-10-17",
  "Statement" : [ {
    "Sid" : "pull",
    "Effect" : "Allow",
    "Principal" : { "AWS" : "arn:aws:iam::210987654321:root" },
    "Action" : [ "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer" ]
  } ]
}`

func TestRepositoryPolicy(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	createRepo(t, c, "app")

	_, err := c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("app")})
	e := wantErr[*types.RepositoryPolicyNotFoundException](t, err)
	if want := "Repository policy does not exist for the repository with name 'app' in the registry with id '123456789012'"; e.ErrorMessage() != want {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	_, err = c.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app")})
	wantErr[*types.RepositoryPolicyNotFoundException](t, err)

	set, err := c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(pullPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(set.PolicyText) != pullPolicy || aws.ToString(set.RepositoryName) != "app" || aws.ToString(set.RegistryId) != testRegistryID {
		t.Errorf("set = %+v", set)
	}
	got, err := c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.PolicyText) != pullPolicy {
		t.Errorf("policy text changed:\n%s", aws.ToString(got.PolicyText))
	}
	del, err := c.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(del.PolicyText) != pullPolicy {
		t.Errorf("deleted policy = %q", aws.ToString(del.PolicyText))
	}
	_, err = c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String("app")})
	wantErr[*types.RepositoryPolicyNotFoundException](t, err)

	// A missing repository is RepositoryNotFoundException for all three.
	nope := aws.String("nope")
	_, err = c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: nope, PolicyText: aws.String(pullPolicy)})
	wantErr[*types.RepositoryNotFoundException](t, err)
	_, err = c.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: nope})
	wantErr[*types.RepositoryNotFoundException](t, err)
	_, err = c.DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: nope})
	wantErr[*types.RepositoryNotFoundException](t, err)
}

func TestPolicyValidation(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	createRepo(t, c, "app")
	bad := []struct{ name, text string }{
		{"empty", ""},
		{"not json", "allow everything"},
		{"array", `[{"Effect":"Allow","Action":"*"}]`},
		{"no statement", `{"Version":"2012-10-17"}`},
		{"empty statement list", `{"Statement":[]}`},
		{"statement string", `{"Statement":"Allow"}`},
		{"bad effect", `{"Statement":[{"Effect":"Maybe","Action":"ecr:*"}]}`},
		{"no effect", `{"Statement":{"Action":"ecr:*"}}`},
		{"no action", `{"Statement":[{"Effect":"Allow","Principal":"*"}]}`},
		{"action and notaction", `{"Statement":[{"Effect":"Allow","Action":"a","NotAction":"b"}]}`},
		{"trailing garbage", `{"Statement":[{"Effect":"Allow","Action":"a"}]} x`},
		{"too long", `{"Statement":[{"Effect":"Allow","Action":"a","Sid":"` + strings.Repeat("x", 10240) + `"}]}`},
		// A permission policy names whom it grants (an identity policy
		// does not): IAM's grammar decides, as on ECR.
		{"no principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}`},
		{"bad principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"ecr:*"}]}`},
		{"bad version", `{"Version":"2020-01-01","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*"}]}`},
		{"unknown operator", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringSortOf":{"aws:username":"a"}}}]}`},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(tt.text)})
			e := wantErr[*types.InvalidParameterException](t, err)
			if tt.name != "too long" {
				if want := "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'"; e.ErrorMessage() != want {
					t.Errorf("message = %q", e.ErrorMessage())
				}
			}
			_, err = c.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(tt.text)})
			wantErr[*types.InvalidParameterException](t, err)
		})
	}
	good := []string{
		`{"Statement":{"Effect":"Deny","NotAction":"ecr:BatchGetImage","Principal":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"210987654321"},"Action":"ecr:*"},{"Effect":"Deny","Principal":"*","Action":["ecr:DeleteRepository"]}]}`,
	}
	for _, text := range good {
		if _, err := c.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(text)}); err != nil {
			t.Errorf("%s: %v", text, err)
		}
	}
}

func TestRegistryPolicy(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	_, err := c.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
	e := wantErr[*types.RegistryPolicyNotFoundException](t, err)
	if want := "Registry policy does not exist in the registry with id '123456789012'"; e.ErrorMessage() != want {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	_, err = c.DeleteRegistryPolicy(ctx, &ecr.DeleteRegistryPolicyInput{})
	wantErr[*types.RegistryPolicyNotFoundException](t, err)

	text := `{"Version":"2012-10-17","Statement":[{"Sid":"repl","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:123456789012:repository/*"}]}`
	put, err := c.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(text)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.PolicyText) != text || aws.ToString(put.RegistryId) != testRegistryID {
		t.Errorf("put = %+v", put)
	}
	got, err := c.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
	if err != nil || aws.ToString(got.PolicyText) != text {
		t.Fatalf("get = %+v, %v", got, err)
	}
	del, err := c.DeleteRegistryPolicy(ctx, &ecr.DeleteRegistryPolicyInput{})
	if err != nil || aws.ToString(del.PolicyText) != text {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = c.GetRegistryPolicy(ctx, &ecr.GetRegistryPolicyInput{})
	wantErr[*types.RegistryPolicyNotFoundException](t, err)

	// A registry policy names its resources; under REGISTRY_POLICY_SCOPE V1
	// it may grant only CreateRepository, ReplicateImage and
	// BatchImportUpstreamImage.
	pull := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage"],"Resource":"arn:aws:ecr:us-east-1:123456789012:repository/*"}]}`
	noResource := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage"]}]}`
	_, err = c.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(noResource)})
	wantErr[*types.InvalidParameterException](t, err)
	if _, err := c.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(pull)}); err != nil {
		t.Fatalf("V2 registry policy granting pulls: %v", err)
	}
	if _, err := c.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(pull)})
	if e := wantErr[*types.InvalidParameterException](t, err); e.ErrorMessage() != "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid registry policy provided'" {
		t.Errorf("V1 registry policy granting pulls: message %q", e.ErrorMessage())
	}
	if _, err := c.PutRegistryPolicy(ctx, &ecr.PutRegistryPolicyInput{PolicyText: aws.String(text)}); err != nil {
		t.Errorf("V1 registry policy granting replication: %v", err)
	}
}
