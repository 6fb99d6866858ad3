package ecrapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

func createRepo(t *testing.T, c *ecr.Client, name string) *types.Repository {
	t.Helper()
	out, err := c.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateRepository(%s): %v", name, err)
	}
	return out.Repository
}

func TestCreateRepositoryDefaults(t *testing.T) {
	var host string
	c, _ := newTestAPIWith(t, func(d *ecrapi.Deps) { host = d.Host })
	before := time.Now().Add(-time.Second)
	r := createRepo(t, c, "team-a/app")
	want := map[string]string{
		"repositoryArn":      "arn:aws:ecr:us-east-1:123456789012:repository/team-a/app",
		"registryId":         testRegistryID,
		"repositoryName":     "team-a/app",
		"repositoryUri":      host + "/team-a/app",
		"imageTagMutability": "MUTABLE",
		"encryptionType":     "AES256",
	}
	got := map[string]string{
		"repositoryArn":      aws.ToString(r.RepositoryArn),
		"registryId":         aws.ToString(r.RegistryId),
		"repositoryName":     aws.ToString(r.RepositoryName),
		"repositoryUri":      aws.ToString(r.RepositoryUri),
		"imageTagMutability": string(r.ImageTagMutability),
		"encryptionType":     string(r.EncryptionConfiguration.EncryptionType),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if r.CreatedAt == nil || r.CreatedAt.Before(before) || r.CreatedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("createdAt = %v", r.CreatedAt)
	}
	if r.ImageScanningConfiguration == nil || r.ImageScanningConfiguration.ScanOnPush {
		t.Errorf("imageScanningConfiguration = %+v", r.ImageScanningConfiguration)
	}
	if r.EncryptionConfiguration.KmsKey != nil || len(r.ImageTagMutabilityExclusionFilters) != 0 {
		t.Errorf("unexpected kmsKey/filters: %+v", r)
	}
}

func TestCreateRepositorySettings(t *testing.T) {
	c, st := newTestAPI(t)
	ctx := context.Background()
	out, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:     aws.String("app"),
		Tags:               []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("team"), Value: aws.String("")}},
		ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
			{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("latest")},
			{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("dev-*")},
		},
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
		EncryptionConfiguration:    &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKms},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Repository
	if r.ImageTagMutability != types.ImageTagMutabilityImmutableWithExclusion || len(r.ImageTagMutabilityExclusionFilters) != 2 ||
		aws.ToString(r.ImageTagMutabilityExclusionFilters[1].Filter) != "dev-*" {
		t.Errorf("mutability = %s %+v", r.ImageTagMutability, r.ImageTagMutabilityExclusionFilters)
	}
	if !r.ImageScanningConfiguration.ScanOnPush {
		t.Error("scanOnPush not set")
	}
	if k := aws.ToString(r.EncryptionConfiguration.KmsKey); k != "arn:aws:kms:us-east-1:123456789012:alias/aws/ecr" {
		t.Errorf("kmsKey = %q", k)
	}
	stored, err := st.GetRepository(ctx, testRegistryID, "app")
	if err != nil {
		t.Fatal(err)
	}
	if !ecrmodel.TagImmutable(stored, "v1") || ecrmodel.TagImmutable(stored, "latest") || ecrmodel.TagImmutable(stored, "dev-x") {
		t.Errorf("stored mutability wrong: %+v", stored)
	}
	if len(stored.Tags) != 2 || stored.Tags[0] != (metadata.ResourceTag{Key: "env", Value: "dev"}) {
		t.Errorf("stored tags = %+v", stored.Tags)
	}
	// A given key is kept as given.
	out, err = c.CreateRepository(ctx, &ecr.CreateRepositoryInput{
		RepositoryName:          aws.String("dsse"),
		EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeKmsDsse, KmsKey: aws.String("alias/mine")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if e := out.Repository.EncryptionConfiguration; e.EncryptionType != types.EncryptionTypeKmsDsse || aws.ToString(e.KmsKey) != "alias/mine" {
		t.Errorf("encryption = %+v", e)
	}
}

func TestCreateRepositoryInvalid(t *testing.T) {
	c, _ := newTestAPI(t)
	wild := types.ImageTagMutabilityExclusionFilterTypeWildcard
	filters := func(fs ...string) []types.ImageTagMutabilityExclusionFilter {
		var out []types.ImageTagMutabilityExclusionFilter
		for _, f := range fs {
			out = append(out, types.ImageTagMutabilityExclusionFilter{FilterType: wild, Filter: aws.String(f)})
		}
		return out
	}
	tags := func(n int) []types.Tag {
		var out []types.Tag
		for i := range n {
			out = append(out, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
		}
		return out
	}
	tests := []struct {
		name string
		in   ecr.CreateRepositoryInput
		want any
		msg  string
	}{
		{"uppercase", ecr.CreateRepositoryInput{RepositoryName: aws.String("MyApp")}, new(*types.InvalidParameterException),
			"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"},
		{"one char", ecr.CreateRepositoryInput{RepositoryName: aws.String("a")}, new(*types.InvalidParameterException),
			"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		{"257 chars", ecr.CreateRepositoryInput{RepositoryName: aws.String(strings.Repeat("a", 257))}, new(*types.InvalidParameterException),
			"Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length less than or equal to 256'"},
		{"trailing slash", ecr.CreateRepositoryInput{RepositoryName: aws.String("team/")}, new(*types.InvalidParameterException), ""},
		{"full image uri", ecr.CreateRepositoryInput{RepositoryName: aws.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest")}, new(*types.InvalidParameterException), ""},
		{"bad registry id", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"), RegistryId: aws.String("1234")}, new(*types.InvalidParameterException), ""},
		{"51 tags", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"), Tags: tags(51)}, new(*types.TooManyTagsException), ""},
		{"long key", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			Tags: []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}}, new(*types.InvalidTagParameterException), ""},
		{"long value", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}}, new(*types.InvalidTagParameterException), ""},
		{"aws: key", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, new(*types.InvalidTagParameterException), ""},
		{"bad mutability", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"), ImageTagMutability: "SOMETIMES"}, new(*types.InvalidParameterException), ""},
		{"exclusion without filters", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion}, new(*types.InvalidParameterException), ""},
		{"filters without exclusion", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			ImageTagMutability: types.ImageTagMutabilityImmutable, ImageTagMutabilityExclusionFilters: filters("x")}, new(*types.InvalidParameterException), ""},
		{"six filters", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion, ImageTagMutabilityExclusionFilters: filters("a", "b", "c", "d", "e", "f")},
			new(*types.InvalidParameterException), ""},
		{"bad filter", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			ImageTagMutability: types.ImageTagMutabilityImmutableWithExclusion, ImageTagMutabilityExclusionFilters: filters("a/b")},
			new(*types.InvalidParameterException), ""},
		{"bad filter type", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			ImageTagMutability:                 types.ImageTagMutabilityImmutableWithExclusion,
			ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{{FilterType: "REGEX", Filter: aws.String("x")}}},
			new(*types.InvalidParameterException), ""},
		{"bad encryption", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: "ROT13"}}, new(*types.InvalidParameterException), ""},
		{"aes with key", ecr.CreateRepositoryInput{RepositoryName: aws.String("app"),
			EncryptionConfiguration: &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256, KmsKey: aws.String("k")}},
			new(*types.InvalidParameterException), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.CreateRepository(context.Background(), &tt.in)
			if !errors.As(err, tt.want) {
				t.Fatalf("error = %v, want %T", err, tt.want)
			}
			if tt.msg != "" && !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %v, want message %q", err, tt.msg)
			}
		})
	}
	// Nothing was created by the refused calls.
	out, err := c.DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{})
	if err != nil || len(out.Repositories) != 0 {
		t.Errorf("repositories after refused creates: %v %v", out, err)
	}
}

func TestCreateRepositoryAlreadyExists(t *testing.T) {
	c, _ := newTestAPI(t)
	createRepo(t, c, "app")
	_, err := c.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String("app")})
	e := wantErr[*types.RepositoryAlreadyExistsException](t, err)
	if want := "The repository with name 'app' already exists in the registry with id '123456789012'"; e.ErrorMessage() != want {
		t.Errorf("message = %q, want %q", e.ErrorMessage(), want)
	}
	// Another registry is another namespace.
	out, err := c.CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String("app"), RegistryId: aws.String("210987654321")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Repository.RepositoryArn); got != "arn:aws:ecr:us-east-1:210987654321:repository/app" {
		t.Errorf("arn = %s", got)
	}
}

// seedRepos creates n repositories r000.. directly in the store.
func seedRepos(t *testing.T, st metadata.Store, n int) []string {
	t.Helper()
	ctx := context.Background()
	if err := st.EnsureRegistry(ctx, testRegistryID); err != nil {
		t.Fatal(err)
	}
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("r%03d", i)
		if _, err := st.CreateRepository(ctx, metadata.Repository{RegistryID: testRegistryID, Name: names[i]}); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func TestDescribeRepositoriesPaginator(t *testing.T) {
	c, st := newTestAPI(t)
	names := seedRepos(t, st, 250)
	ctx := context.Background()

	for _, pageSize := range []int32{0, 7, 100, 1000} {
		in := &ecr.DescribeRepositoriesInput{}
		if pageSize > 0 {
			in.MaxResults = aws.Int32(pageSize)
		}
		p := ecr.NewDescribeRepositoriesPaginator(c, in)
		var got []string
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			limit := int(pageSize)
			if limit == 0 {
				limit = 100 // ECR's default page
			}
			if len(out.Repositories) > limit {
				t.Fatalf("page of %d > %d", len(out.Repositories), limit)
			}
			for _, r := range out.Repositories {
				got = append(got, aws.ToString(r.RepositoryName))
			}
		}
		if strings.Join(got, ",") != strings.Join(names, ",") {
			t.Errorf("maxResults %d: got %d names (want every one of 250 once, in order)", pageSize, len(got))
		}
		if pageSize == 0 && pages != 3 {
			t.Errorf("default page size: %d pages, want 3", pages)
		}
	}
}

func TestDescribeRepositoriesByName(t *testing.T) {
	c, st := newTestAPI(t)
	seedRepos(t, st, 3)
	ctx := context.Background()
	out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"r002", "r000", "r002"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Repositories) != 2 || aws.ToString(out.Repositories[0].RepositoryName) != "r002" || out.NextToken != nil {
		t.Errorf("got %+v", out)
	}
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"r000", "nope"}})
	e := wantErr[*types.RepositoryNotFoundException](t, err)
	if want := "The repository with name 'nope' does not exist in the registry with id '123456789012'"; e.ErrorMessage() != want {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	// A repository ARN is not a name (terraform-provider-aws#40309).
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"arn:aws:ecr:us-east-1:123456789012:repository/r000"}})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"r000"}, MaxResults: aws.Int32(10)})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"r000"}, NextToken: aws.String("x")})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: make([]string, 101)})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestDescribeRepositoriesBadPaging(t *testing.T) {
	c, st := newTestAPI(t)
	seedRepos(t, st, 5)
	ctx := context.Background()
	first, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(2)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v %v", first, err)
	}
	tok := aws.ToString(first.NextToken)
	// The token works.
	if _, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{NextToken: first.NextToken}); err != nil {
		t.Fatal(err)
	}
	tampered := []byte(tok)
	tampered[3] ^= 1
	other, _ := newTestAPIWith(t, func(d *ecrapi.Deps) { d.PageKey = []byte("another-key-another-key-another-key") })
	tests := []struct {
		name string
		c    *ecr.Client
		in   ecr.DescribeRepositoriesInput
	}{
		{"tampered", c, ecr.DescribeRepositoriesInput{NextToken: aws.String(string(tampered))}},
		{"garbage", c, ecr.DescribeRepositoriesInput{NextToken: aws.String("garbage")}},
		{"other registry", c, ecr.DescribeRepositoriesInput{NextToken: aws.String(tok), RegistryId: aws.String("210987654321")}},
		{"other key", other, ecr.DescribeRepositoriesInput{NextToken: aws.String(tok)}},
		{"maxResults 0", c, ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(0)}},
		{"maxResults 1001", c, ecr.DescribeRepositoriesInput{MaxResults: aws.Int32(1001)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.DescribeRepositories(ctx, &tt.in)
			wantErr[*types.InvalidParameterException](t, err)
		})
	}
}

// storageRecorder is the part of the registry DeleteRepository touches: it
// records the calls (the other methods are not used here).
type storageRecorder struct {
	ecrapi.Registry
	mu      sync.Mutex
	deleted []string
}

func (s *storageRecorder) DeleteRepository(_ context.Context, reg, repo string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleted = append(s.deleted, reg+"/"+repo)
	return nil
}

func TestDeleteRepository(t *testing.T) {
	rec := &storageRecorder{}
	c, st := newTestAPIWith(t, func(d *ecrapi.Deps) { d.Registry = rec })
	ctx := context.Background()
	createRepo(t, c, "full")
	createRepo(t, c, "empty")
	if _, err := st.PutImage(ctx, metadata.Image{
		RegistryID: testRegistryID, Repository: "full", MediaType: "application/vnd.oci.image.manifest.v1+json",
		Digest: "sha256:" + strings.Repeat("a", 64), PushedAt: time.Now(),
	}); err != nil {
		t.Fatal(err)
	}

	_, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("full")})
	e := wantErr[*types.RepositoryNotEmptyException](t, err)
	if want := "The repository with name 'full' in registry with id '123456789012' cannot be deleted because it still contains images"; e.ErrorMessage() != want {
		t.Errorf("message = %q", e.ErrorMessage())
	}
	for _, name := range []string{"empty", "full"} {
		out, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(name), Force: name == "full"})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Repository.RepositoryName) != name || out.Repository.CreatedAt == nil {
			t.Errorf("deleted = %+v", out.Repository)
		}
		_, err = c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
		wantErr[*types.RepositoryNotFoundException](t, err)
	}
	if got := strings.Join(rec.deleted, ","); got != "123456789012/empty,123456789012/full" {
		t.Errorf("storage deletes = %s", got)
	}
	_, err = c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("empty")})
	wantErr[*types.RepositoryNotFoundException](t, err)
}

func TestPutImageTagMutability(t *testing.T) {
	c, st := newTestAPI(t)
	ctx := context.Background()
	createRepo(t, c, "app")
	out, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName:     aws.String("app"),
		ImageTagMutability: types.ImageTagMutabilityMutableWithExclusion,
		ImageTagMutabilityExclusionFilters: []types.ImageTagMutabilityExclusionFilter{
			{FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard, Filter: aws.String("release-*")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ImageTagMutability != types.ImageTagMutabilityMutableWithExclusion || aws.ToString(out.RepositoryName) != "app" ||
		aws.ToString(out.RegistryId) != testRegistryID || len(out.ImageTagMutabilityExclusionFilters) != 1 {
		t.Errorf("out = %+v", out)
	}
	r, _ := st.GetRepository(ctx, testRegistryID, "app")
	if !ecrmodel.TagImmutable(r, "release-1") || ecrmodel.TagImmutable(r, "dev") {
		t.Errorf("stored = %+v", r)
	}
	// Back to IMMUTABLE drops the filters.
	if _, err := c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("app"), ImageTagMutability: types.ImageTagMutabilityImmutable,
	}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Repositories[0]; r.ImageTagMutability != types.ImageTagMutabilityImmutable || len(r.ImageTagMutabilityExclusionFilters) != 0 {
		t.Errorf("described = %+v", r)
	}
	_, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("app"), ImageTagMutability: "NEVER"})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{RepositoryName: aws.String("nope"), ImageTagMutability: types.ImageTagMutabilityMutable})
	wantErr[*types.RepositoryNotFoundException](t, err)
}

func TestScanningConfiguration(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	createRepo(t, c, "app")
	createRepo(t, c, "prod/api")
	out, err := c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{
		RepositoryName:             aws.String("app"),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.ImageScanningConfiguration.ScanOnPush || aws.ToString(out.RepositoryName) != "app" {
		t.Errorf("out = %+v", out)
	}
	_, err = c.PutImageScanningConfiguration(ctx, &ecr.PutImageScanningConfigurationInput{
		RepositoryName: aws.String("nope"), ImageScanningConfiguration: &types.ImageScanningConfiguration{},
	})
	wantErr[*types.RepositoryNotFoundException](t, err)

	if _, err := c.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeEnhanced,
		Rules: []types.RegistryScanningRule{{
			ScanFrequency:     types.ScanFrequencyContinuousScan,
			RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("prod*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	b, err := c.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{
		RepositoryNames: []string{"app", "prod/api", "nope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.ScanningConfigurations) != 2 || len(b.Failures) != 1 {
		t.Fatalf("got %+v", b)
	}
	if f := b.Failures[0]; aws.ToString(f.RepositoryName) != "nope" || f.FailureCode != types.ScanningConfigurationFailureCodeRepositoryNotFound {
		t.Errorf("failure = %+v", f)
	}
	app, prod := b.ScanningConfigurations[0], b.ScanningConfigurations[1]
	if !app.ScanOnPush || app.ScanFrequency != types.ScanFrequencyScanOnPush || len(app.AppliedScanFilters) != 0 {
		t.Errorf("app = %+v", app)
	}
	if prod.ScanFrequency != types.ScanFrequencyContinuousScan || len(prod.AppliedScanFilters) != 1 ||
		aws.ToString(prod.RepositoryArn) != "arn:aws:ecr:us-east-1:123456789012:repository/prod/api" {
		t.Errorf("prod = %+v", prod)
	}
	_, err = c.BatchGetRepositoryScanningConfiguration(ctx, &ecr.BatchGetRepositoryScanningConfigurationInput{RepositoryNames: make([]string, 26)})
	wantErr[*types.InvalidParameterException](t, err)
}
