package ecrapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/lifecycle"
	"github.com/berth-registry/berth/metadata"
)

var lifecycleNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// lifecycleAllImagesB is "Filtering on all images, example B" of ECR's
// lifecycle policy examples: it expires a (rule 1), b (rule 2), d (rule 3).
const lifecycleAllImagesB = `{"rules":[
 {"rulePriority":1,"description":"Rule 1","selection":{"tagStatus":"tagged","tagPatternList":["alpha*"],"countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}},
 {"rulePriority":2,"description":"Rule 2","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},
 {"rulePriority":3,"description":"Rule 3","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`

const lifecycleKeepOne = `{"rules":[{"rulePriority":1,"description":"keep one","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`

// newLifecycleAPI serves the API at lifecycleNow with repository "app"
// holding example B's images, and returns the client, the store and the
// base URL for raw calls.
func newLifecycleAPI(t *testing.T) (*ecr.Client, metadata.Store, string) {
	t.Helper()
	var host string
	c, st := newTestAPIWith(t, func(d *ecrapi.Deps) {
		d.Now = func() time.Time { return lifecycleNow }
		host = d.Host
	})
	ctx := context.Background()
	if _, err := st.CreateRepository(ctx, metadata.Repository{RegistryID: testRegistryID, Name: "app"}); err != nil {
		t.Fatal(err)
	}
	for _, im := range []struct {
		name string
		days float64
		tags []string
	}{{"a", 4, []string{"alpha-1", "beta-1"}}, {"b", 3, nil}, {"c", 2, []string{"alpha-2"}}, {"d", 1, []string{"git-hash"}}, {"e", 1, nil}} {
		digest := "sha256:" + strings.Repeat(im.name, 64)
		pushed := lifecycleNow.Add(-time.Duration(im.days * float64(24*time.Hour)))
		if _, err := st.PutImage(ctx, metadata.Image{RegistryID: testRegistryID, Repository: "app", Digest: digest,
			MediaType: "application/vnd.oci.image.manifest.v1+json", PushedAt: pushed}); err != nil {
			t.Fatal(err)
		}
		for _, tag := range im.tags {
			if _, err := st.TagImage(ctx, testRegistryID, "app", tag, digest); err != nil {
				t.Fatal(err)
			}
		}
	}
	return c, st, "http://" + host
}

func lifecycleDigest(name string) string { return "sha256:" + strings.Repeat(name, 64) }

// wantAPIErr checks err is exception T with message msg.
func wantAPIErr[T smithy.APIError](t *testing.T, err error, msg string) {
	t.Helper()
	e := wantErr[T](t, err)
	if e.ErrorMessage() != msg {
		t.Fatalf("%s message %q, want %q", e.ErrorCode(), e.ErrorMessage(), msg)
	}
}

func TestLifecyclePolicyPutGetDelete(t *testing.T) {
	ctx := context.Background()
	c, st, _ := newLifecycleAPI(t)
	repo := aws.String("app")
	notFound := "Lifecycle policy does not exist for the repository with name 'app' in the registry with id '123456789012'"

	_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantAPIErr[*types.LifecyclePolicyNotFoundException](t, err, notFound)
	_, err = c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	wantAPIErr[*types.LifecyclePolicyNotFoundException](t, err, notFound)

	put, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycleAllImagesB)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.LifecyclePolicyText) != lifecycleAllImagesB || aws.ToString(put.RegistryId) != testRegistryID || aws.ToString(put.RepositoryName) != "app" {
		t.Fatalf("put = %+v", put)
	}

	got, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo, RegistryId: aws.String(testRegistryID)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.LifecyclePolicyText) != lifecycleAllImagesB || got.LastEvaluatedAt == nil || got.LastEvaluatedAt.Unix() != 0 {
		t.Fatalf("get = %+v", got)
	}

	// A sweep records lastEvaluatedAt and expires what the policy selects.
	var expired []string
	r := &lifecycle.Runner{Store: st, Now: func() time.Time { return lifecycleNow },
		Expire: func(ctx context.Context, registryID, repo, digest string, tags []string) error {
			expired = append(expired, digest[len("sha256:"):][:1])
			return st.ExpireImage(ctx, registryID, repo, digest, tags)
		}}
	if n, err := r.RunOnce(ctx, testRegistryID); err != nil || n != 3 || !slices.Equal(expired, []string{"a", "b", "d"}) {
		t.Fatalf("RunOnce = %d %v, expired %v", n, err, expired)
	}
	got, err = c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	if err != nil || !got.LastEvaluatedAt.Equal(lifecycleNow) {
		t.Fatalf("get after sweep = %+v, %v", got, err)
	}

	// Putting again replaces the policy.
	if _, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycleKeepOne)}); err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteLifecyclePolicy(ctx, &ecr.DeleteLifecyclePolicyInput{RepositoryName: repo})
	if err != nil || aws.ToString(del.LifecyclePolicyText) != lifecycleKeepOne || !del.LastEvaluatedAt.Equal(lifecycleNow) {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	_, err = c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo})
	wantAPIErr[*types.LifecyclePolicyNotFoundException](t, err, notFound)
}

func TestLifecyclePolicyValidation(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newLifecycleAPI(t)
	noRepo := "The repository with name 'nope' does not exist in the registry with id '123456789012'"
	badPolicy := strings.Replace(lifecycleKeepOne, `"any"`, `"tagged"`, 1)
	cases := []struct {
		name, repo, text string
		check            func(t *testing.T, err error)
	}{
		{"missing repository", "nope", lifecycleKeepOne, func(t *testing.T, err error) {
			wantAPIErr[*types.RepositoryNotFoundException](t, err, noRepo)
		}},
		{"text too short", "app", `{"rules":[]}`, func(t *testing.T, err error) {
			wantAPIErr[*types.InvalidParameterException](t, err,
				"Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length greater than or equal to 100'")
		}},
		{"text too long", "app", lifecycleKeepOne + strings.Repeat(" ", 30720), func(t *testing.T, err error) {
			wantAPIErr[*types.InvalidParameterException](t, err,
				"Invalid parameter at 'lifecyclePolicyText' failed to satisfy constraint: 'must have length less than or equal to 30720'")
		}},
		{"not json", "app", strings.Repeat("x", 120), func(t *testing.T, err error) {
			wantAPIErr[*types.InvalidParameterException](t, err,
				"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: Could not map policyString into LifecyclePolicy.'")
		}},
		{"tagged without tags", "app", badPolicy, func(t *testing.T, err error) {
			wantAPIErr[*types.InvalidParameterException](t, err,
				"Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: Must specify tagPrefixList or tagPatternList when tagStatus=TAGGED.'")
		}},
		{"bad repository name", "App", lifecycleKeepOne, func(t *testing.T, err error) {
			wantErr[*types.InvalidParameterException](t, err)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: aws.String(tc.repo), LifecyclePolicyText: aws.String(tc.text)})
			tc.check(t, err)
			_, err = c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String(tc.repo), LifecyclePolicyText: aws.String(tc.text)})
			tc.check(t, err)
		})
	}
	_, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String("nope")})
	wantAPIErr[*types.RepositoryNotFoundException](t, err, noRepo)
	_, err = c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String("nope")})
	wantAPIErr[*types.RepositoryNotFoundException](t, err, noRepo)
}

func TestLifecyclePolicyPreview(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newLifecycleAPI(t)
	repo := aws.String("app")

	_, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	wantAPIErr[*types.LifecyclePolicyPreviewNotFoundException](t, err,
		"Lifecycle policy preview does not exist for the repository with name 'app' in the registry with id '123456789012'")
	// Without a text, the stored policy is previewed; there is none.
	_, err = c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo})
	wantErr[*types.LifecyclePolicyNotFoundException](t, err)

	if _, err := c.PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycleAllImagesB)}); err != nil {
		t.Fatal(err)
	}
	start, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo})
	if err != nil {
		t.Fatal(err)
	}
	if start.Status != types.LifecyclePolicyPreviewStatusComplete || aws.ToString(start.LifecyclePolicyText) != lifecycleAllImagesB {
		t.Fatalf("start = %+v", start)
	}

	w := ecr.NewLifecyclePolicyPreviewCompleteWaiter(c)
	all, err := w.WaitForOutput(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(all.LifecyclePolicyText) != lifecycleAllImagesB || all.NextToken != nil ||
		all.Summary == nil || aws.ToInt32(all.Summary.ExpiringImageTotalCount) != 3 || len(all.Summary.TransitioningImageTotalCounts) != 0 {
		t.Fatalf("preview = %+v", all)
	}
	var got []string
	for _, r := range all.PreviewResults {
		if r.Action == nil || r.Action.Type != types.ImageActionTypeExpire || r.ImagePushedAt == nil || r.StorageClass != types.LifecyclePolicyStorageClassStandard {
			t.Fatalf("result %+v", r)
		}
		got = append(got, aws.ToString(r.ImageDigest)[7:8]+"@"+string(rune('0'+aws.ToInt32(r.AppliedRulePriority)))+":"+strings.Join(r.ImageTags, ","))
	}
	if want := []string{"a@1:alpha-1,beta-1", "b@2:", "d@3:git-hash"}; !slices.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	if !all.PreviewResults[0].ImagePushedAt.Equal(lifecycleNow.Add(-4 * 24 * time.Hour)) {
		t.Fatalf("pushed at %v", all.PreviewResults[0].ImagePushedAt)
	}

	count := func(in *ecr.GetLifecyclePolicyPreviewInput) int {
		t.Helper()
		in.RepositoryName = repo
		out, err := c.GetLifecyclePolicyPreview(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return len(out.PreviewResults)
	}
	if n := count(&ecr.GetLifecyclePolicyPreviewInput{Filter: &types.LifecyclePolicyPreviewFilter{TagStatus: types.TagStatusTagged}}); n != 2 {
		t.Errorf("tagged results %d", n)
	}
	if n := count(&ecr.GetLifecyclePolicyPreviewInput{Filter: &types.LifecyclePolicyPreviewFilter{TagStatus: types.TagStatusUntagged}}); n != 1 {
		t.Errorf("untagged results %d", n)
	}
	if n := count(&ecr.GetLifecyclePolicyPreviewInput{ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("git-hash")}, {ImageDigest: aws.String(lifecycleDigest("b"))}, {ImageTag: aws.String("alpha-2")}}}); n != 2 {
		t.Errorf("results by image id %d", n)
	}

	// The paginator walks one result at a time.
	var paged []string
	p := ecr.NewGetLifecyclePolicyPreviewPaginator(c, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo, MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.PreviewResults {
			paged = append(paged, aws.ToString(r.ImageDigest))
		}
	}
	if want := []string{lifecycleDigest("a"), lifecycleDigest("b"), lifecycleDigest("d")}; !slices.Equal(paged, want) {
		t.Fatalf("paged %v", paged)
	}

	// A preview of another text replaces the stored preview (not the policy).
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycleKeepOne)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo})
	if err != nil || aws.ToString(out.LifecyclePolicyText) != lifecycleKeepOne || len(out.PreviewResults) != 4 {
		t.Fatalf("second preview = %+v, %v", out, err)
	}
	if pol, err := c.GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: repo}); err != nil || aws.ToString(pol.LifecyclePolicyText) != lifecycleAllImagesB {
		t.Fatalf("policy after preview = %+v, %v", pol, err)
	}
}

func TestLifecyclePolicyPreviewParams(t *testing.T) {
	ctx := context.Background()
	c, _, _ := newLifecycleAPI(t)
	repo := aws.String("app")
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycleKeepOne)}); err != nil {
		t.Fatal(err)
	}
	first, err := c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo, MaxResults: aws.Int32(2)})
	if err != nil || first.NextToken == nil || len(first.PreviewResults) != 2 {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	for _, in := range []*ecr.GetLifecyclePolicyPreviewInput{
		{MaxResults: aws.Int32(0)},
		{MaxResults: aws.Int32(101)},
		{NextToken: aws.String("forged")},
		{ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("x")}}, MaxResults: aws.Int32(5)},
	} {
		in.RepositoryName = repo
		_, err := c.GetLifecyclePolicyPreview(ctx, in)
		wantErr[*types.InvalidParameterException](t, err)
	}
	// A different preview invalidates the old one's tokens.
	if _, err := c.StartLifecyclePolicyPreview(ctx, &ecr.StartLifecyclePolicyPreviewInput{RepositoryName: repo, LifecyclePolicyText: aws.String(lifecycleAllImagesB)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetLifecyclePolicyPreview(ctx, &ecr.GetLifecyclePolicyPreviewInput{RepositoryName: repo, NextToken: first.NextToken})
	wantErr[*types.InvalidParameterException](t, err)
}

// TestLifecycleWire checks the JSON on the wire: member names, the
// omitted imageTags of untagged images, epoch timestamps.
func TestLifecycleWire(t *testing.T) {
	_, _, url := newLifecycleAPI(t)
	call := func(op, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
		req.Header.Set("X-Amz-Target", ecrapi.TargetPrefix+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %s", op, b)
		}
		return resp.StatusCode, m
	}
	text, _ := json.Marshal(lifecycleAllImagesB)
	if code, m := call("StartLifecyclePolicyPreview", `{"repositoryName":"app","lifecyclePolicyText":`+string(text)+`}`); code != 200 || m["status"] != "COMPLETE" {
		t.Fatalf("start: %d %v", code, m)
	}
	code, m := call("GetLifecyclePolicyPreview", `{"repositoryName":"app","filter":{"tagStatus":"UNTAGGED"}}`)
	if code != 200 {
		t.Fatalf("get: %d %v", code, m)
	}
	res := m["previewResults"].([]any)
	want := map[string]any{
		"imageDigest":         lifecycleDigest("b"),
		"imagePushedAt":       float64(lifecycleNow.Add(-3 * 24 * time.Hour).Unix()),
		"action":              map[string]any{"type": "EXPIRE"},
		"appliedRulePriority": float64(2),
		"storageClass":        "STANDARD",
	}
	if len(res) != 1 || !jsonEqual(res[0], want) {
		t.Fatalf("results %v, want [%v]", res, want)
	}
	if s := m["summary"].(map[string]any); s["expiringImageTotalCount"] != float64(3) {
		t.Fatalf("summary %v", s)
	}
	code, m = call("GetLifecyclePolicyPreview", `{"repositoryName":"app","filter":{"tagStatus":"SOME"}}`)
	if code != 400 || m["__type"] != "InvalidParameterException" {
		t.Fatalf("bad filter: %d %v", code, m)
	}
	code, m = call("PutLifecyclePolicy", `{"repositoryName":"app"}`)
	if code != 400 || m["__type"] != "ValidationException" {
		t.Fatalf("no text: %d %v", code, m)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
