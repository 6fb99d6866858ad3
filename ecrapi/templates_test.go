package ecrapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

const expireUntagged = `{"rules":[{"rulePriority":1,"description":"expire untagged","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}`

func TestTemplateLifecycle(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	push := []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}
	out, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix:             aws.String("team-a"),
		AppliedFor:         push,
		Description:        aws.String("team A"),
		ImageTagMutability: types.ImageTagMutabilityImmutable,
		ResourceTags:       []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}},
		RepositoryPolicy:   aws.String(pullPolicy),
		LifecyclePolicy:    aws.String(expireUntagged),
		EncryptionConfiguration: &types.EncryptionConfigurationForRepositoryCreationTemplate{
			EncryptionType: types.EncryptionTypeKms,
			KmsKey:         aws.String("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tp := out.RepositoryCreationTemplate
	if aws.ToString(out.RegistryId) != testRegistryID || aws.ToString(tp.Prefix) != "team-a" || aws.ToString(tp.Description) != "team A" ||
		tp.ImageTagMutability != types.ImageTagMutabilityImmutable || len(tp.AppliedFor) != 1 || aws.ToString(tp.RepositoryPolicy) != pullPolicy ||
		aws.ToString(tp.LifecyclePolicy) != expireUntagged || tp.CreatedAt == nil || tp.UpdatedAt == nil ||
		tp.EncryptionConfiguration.EncryptionType != types.EncryptionTypeKms || len(tp.ResourceTags) != 1 {
		t.Errorf("created = %+v", tp)
	}
	_, err = c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team-a"), AppliedFor: push})
	wantErr[*types.TemplateAlreadyExistsException](t, err)

	up, err := c.UpdateRepositoryCreationTemplate(ctx, &ecr.UpdateRepositoryCreationTemplateInput{
		Prefix:             aws.String("team-a"),
		ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
			{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")},
		},
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush, types.RCTAppliedForReplication},
	})
	if err != nil {
		t.Fatal(err)
	}
	tp = up.RepositoryCreationTemplate
	if tp.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || len(tp.ImageTagMutabilityExclusionFilters) != 1 ||
		len(tp.AppliedFor) != 2 || aws.ToString(tp.Description) != "team A" || aws.ToString(tp.RepositoryPolicy) != pullPolicy {
		t.Errorf("updated = %+v", tp)
	}
	d, err := c.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{Prefixes: []string{"team-a", "absent"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.RepositoryCreationTemplates) != 1 || aws.ToString(d.RegistryId) != testRegistryID {
		t.Errorf("described = %+v", d)
	}
	del, err := c.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("team-a")})
	if err != nil || aws.ToString(del.RepositoryCreationTemplate.Prefix) != "team-a" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = c.DeleteRepositoryCreationTemplate(ctx, &ecr.DeleteRepositoryCreationTemplateInput{Prefix: aws.String("team-a")})
	wantErr[*types.TemplateNotFoundException](t, err)
	_, err = c.UpdateRepositoryCreationTemplate(ctx, &ecr.UpdateRepositoryCreationTemplateInput{Prefix: aws.String("team-a"), Description: aws.String("x")})
	wantErr[*types.TemplateNotFoundException](t, err)
}

func TestTemplateValidation(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	push := []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush}
	tests := []struct {
		name string
		in   ecr.CreateRepositoryCreationTemplateInput
	}{
		{"uppercase prefix", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("Team"), AppliedFor: push}},
		{"ROOT with slash", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("ROOT/"), AppliedFor: push}},
		{"leading slash", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("/team"), AppliedFor: push}},
		{"empty appliedFor", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: []types.RCTAppliedFor{}}},
		{"bad appliedFor", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: []types.RCTAppliedFor{"ALWAYS"}}},
		{"long description", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: push, Description: aws.String(strings.Repeat("d", 257))}},
		{"bad policy", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: push, RepositoryPolicy: aws.String("{}")}},
		{"bad lifecycle", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: push, LifecyclePolicy: aws.String(`{"rules":[]}`)}},
		{"bad kms key", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: push,
			EncryptionConfiguration: &types.EncryptionConfigurationForRepositoryCreationTemplate{EncryptionType: types.EncryptionTypeKms, KmsKey: aws.String("alias/x")}}},
		{"bad tag", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: push,
			ResourceTags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}}},
		{"exclusion without filters", ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String("team"), AppliedFor: push,
			ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateRepositoryCreationTemplate(ctx, &tt.in)
			wantErr[*types.InvalidParameterException](t, err)
		})
	}
	for _, p := range []string{"ROOT", "team/", "a/b/c", "x__y"} {
		if _, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{Prefix: aws.String(p), AppliedFor: push}); err != nil {
			t.Errorf("prefix %q: %v", p, err)
		}
	}
}

func TestDescribeTemplatesPaging(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	var want []string
	for i := range 12 {
		p := fmt.Sprintf("p%02d", i)
		want = append(want, p)
		if _, err := c.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
			Prefix: aws.String(p), AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForPullThroughCache},
		}); err != nil {
			t.Fatal(err)
		}
	}
	p := ecr.NewDescribeRepositoryCreationTemplatesPaginator(c, &ecr.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(5)})
	var got []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range out.RepositoryCreationTemplates {
			got = append(got, aws.ToString(tp.Prefix))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v", got)
	}
	// A DescribeRepositories token is no template token.
	r, err := c.DescribeRepositoryCreationTemplates(ctx, &ecr.DescribeRepositoryCreationTemplatesInput{MaxResults: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{NextToken: r.NextToken})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestMatchTemplate(t *testing.T) {
	_, st := newTestAPI(t)
	ctx := context.Background()
	if err := st.EnsureRegistry(ctx, testRegistryID); err != nil {
		t.Fatal(err)
	}
	add := func(prefix string, applied ...string) {
		t.Helper()
		if _, err := st.CreateTemplate(ctx, metadata.Template{
			RegistryID: testRegistryID, Prefix: prefix, AppliedFor: applied, TagMutability: metadata.Mutable,
			Description: prefix,
		}); err != nil {
			t.Fatal(err)
		}
	}
	match := func(repo string) string {
		t.Helper()
		tp, ok, err := ecrmodel.MatchTemplate(ctx, st, testRegistryID, repo, ecrmodel.AppliedForCreateOnPush)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "-"
		}
		return tp.Prefix
	}
	if got := match("anything"); got != "-" {
		t.Errorf("no templates: %s", got)
	}
	add("prod", ecrapi.AppliedForCreateOnPush)
	add("prod/team/", ecrapi.AppliedForCreateOnPush)
	add("cache", ecrapi.AppliedForPullThroughCache)
	if got := match("other"); got != "-" {
		t.Errorf("other without ROOT: %s", got)
	}
	add("ROOT", ecrapi.AppliedForCreateOnPush, ecrapi.AppliedForReplication)
	for repo, want := range map[string]string{
		"prod/api":        "prod",
		"prod/team/api":   "prod/team/",
		"prod/teamx/api":  "prod",
		"prod":            "ROOT", // the prefix reads as "prod/"
		"production/api":  "ROOT",
		"cache/library/x": "ROOT", // not a CREATE_ON_PUSH template
		"x":               "ROOT",
	} {
		if got := match(repo); got != want {
			t.Errorf("%s: matched %s, want %s", repo, got, want)
		}
	}
}

func TestRepositoryFromTemplate(t *testing.T) {
	tp := metadata.Template{
		Prefix: "prod", TagMutability: metadata.ImmutableWithExclusion, MutabilityExclusions: []string{"latest"},
		EncryptionType: "KMS", ResourceTags: []metadata.ResourceTag{{Key: "env", Value: "prod"}},
		RepositoryPolicy: pullPolicy,
	}
	r := ecrmodel.RepositoryFromTemplate(tp, testRegistryID, "prod/api")
	if r.RegistryID != testRegistryID || r.Name != "prod/api" || r.TagMutability != metadata.ImmutableWithExclusion ||
		len(r.MutabilityExclusions) != 1 || r.EncryptionType != "KMS" || len(r.Tags) != 1 {
		t.Errorf("repository = %+v", r)
	}
	r.Tags[0].Value = "changed"
	if tp.ResourceTags[0].Value != "prod" {
		t.Error("repository shares the template's tags")
	}
	if r := ecrmodel.RepositoryFromTemplate(metadata.Template{}, testRegistryID, "x"); r.TagMutability != metadata.Mutable || r.EncryptionType != "AES256" {
		t.Errorf("defaults = %+v", r)
	}
}

func TestTemplateRepositoryDescribed(t *testing.T) {
	// A repository created from a KMS template without a key reports the
	// AWS managed key, as ECR does.
	c, st := newTestAPI(t)
	ctx := context.Background()
	r := ecrmodel.RepositoryFromTemplate(metadata.Template{EncryptionType: "KMS"}, testRegistryID, "from/template")
	if _, err := st.CreateRepository(ctx, r); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"from/template"}})
	if err != nil {
		t.Fatal(err)
	}
	if k := aws.ToString(d.Repositories[0].EncryptionConfiguration.KmsKey); k != "arn:aws:kms:us-east-1:123456789012:alias/aws/ecr" {
		t.Errorf("kmsKey = %q", k)
	}
}
