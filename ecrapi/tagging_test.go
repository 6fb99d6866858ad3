package ecrapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

func tagString(tags []types.Tag) string {
	var b strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&b, "%s=%s;", aws.ToString(t.Key), aws.ToString(t.Value))
	}
	return b.String()
}

func TestTagging(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	arn := aws.ToString(createRepo(t, c, "team/app").RepositoryArn)
	list := func() string {
		t.Helper()
		out, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Tags == nil {
			t.Fatal("tags member missing")
		}
		return tagString(out.Tags)
	}
	if got := list(); got != "" {
		t.Errorf("initial tags %q", got)
	}
	tag := func(kv ...string) error {
		var tags []types.Tag
		for i := 0; i < len(kv); i += 2 {
			tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
		}
		_, err := c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(arn), Tags: tags})
		return err
	}
	if err := tag("env", "dev", "team", "a", "env", "prod"); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "env=prod;team=a;" {
		t.Errorf("tags = %q", got)
	}
	if err := tag("team", "b", "cost", ""); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "env=prod;team=b;cost=;" {
		t.Errorf("tags = %q", got)
	}
	if _, err := c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != "env=prod;cost=;" {
		t.Errorf("tags = %q", got)
	}

	// 48 more make 50: allowed; one more is too many and changes nothing.
	var kv []string
	for i := range 48 {
		kv = append(kv, fmt.Sprint("k", i), "v")
	}
	if err := tag(kv...); err != nil {
		t.Fatal(err)
	}
	wantErr[*types.TooManyTagsException](t, tag("one-too-many", "v"))
	if got := strings.Count(list(), ";"); got != 50 {
		t.Errorf("%d tags after refused TagResource, want 50", got)
	}
	// Overwriting an existing key at the limit is fine.
	if err := tag("env", "staging"); err != nil {
		t.Fatal(err)
	}
	wantErr[*types.InvalidTagParameterException](t, tag(strings.Repeat("k", 129), "v"))
	wantErr[*types.InvalidTagParameterException](t, tag("k", strings.Repeat("v", 257)))
	wantErr[*types.InvalidTagParameterException](t, tag("", "v"))
}

func TestTaggingBadARN(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	createRepo(t, c, "app")
	bad := []string{
		"app",
		"arn:aws:ecr:eu-west-1:123456789012:repository/app", // another region
		"arn:aws:s3:us-east-1:123456789012:repository/app",
		"arn:aws:ecr:us-east-1:123456789012:app",
		"arn:aws:ecr:us-east-1:1234:repository/app",
		"arn:aws:ecr:us-east-1:123456789012:repository/App",
		"arn:aws:ecr:us-east-1:123456789012:repository/",
	}
	for _, arn := range bad {
		_, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		e := wantErr[*types.InvalidParameterException](t, err)
		if want := "Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN'"; e.ErrorMessage() != want {
			t.Errorf("%s: message %q", arn, e.ErrorMessage())
		}
		_, err = c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		wantErr[*types.InvalidParameterException](t, err)
		_, err = c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k"}})
		wantErr[*types.InvalidParameterException](t, err)
	}
	missing := aws.String("arn:aws:ecr:us-east-1:123456789012:repository/nope")
	_, err := c.ListTagsForResource(ctx, &ecr.ListTagsForResourceInput{ResourceArn: missing})
	wantErr[*types.RepositoryNotFoundException](t, err)
	_, err = c.TagResource(ctx, &ecr.TagResourceInput{ResourceArn: missing, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantErr[*types.RepositoryNotFoundException](t, err)
	_, err = c.UntagResource(ctx, &ecr.UntagResourceInput{ResourceArn: missing, TagKeys: []string{"k"}})
	wantErr[*types.RepositoryNotFoundException](t, err)
}
