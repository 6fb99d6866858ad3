package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-registry/berth/internal/testenv"
)

// Helpers of the one-source-of-truth tests: pushes and pulls with
// go-containerregistry (crane's client library), checks with the real ECR
// SDK client, against one node or several nodes of one registry.

// startCluster starts n nodes sharing one PostgreSQL database and one
// bucket on the shared MinIO; extra is appended to each node's config.
func startCluster(t *testing.T, n int, extra string) []*testenv.Berth {
	t.Helper()
	m := sharedMinIO(t)
	dsn := testenv.StartPostgres(t)
	o := testenv.BerthOptions{
		Storage: m.S3Storage(newBucket(t, m), "berth"),
		Extra:   fmt.Sprintf("metadata: {engine: postgres, dsn: %q}\n%s", dsn, extra),
	}
	nodes := testenv.StartCluster(t, n, o)
	for _, b := range nodes {
		watchLog(t, b)
	}
	return nodes
}

// regOpts are go-containerregistry options for b: its CA, its login.
func regOpts(ctx context.Context, b *testenv.Berth) []remote.Option {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = b.TLSConfig()
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(tr),
		remote.WithAuth(&authn.Basic{Username: b.User, Password: b.Password})}
}

// ref names repo:tag (or repo@digest) on node b.
func ref(t *testing.T, b *testenv.Berth, repo, tagOrDigest string) name.Reference {
	t.Helper()
	sep := ":"
	if strings.Contains(tagOrDigest, ":") {
		sep = "@"
	}
	r, err := name.ParseReference(b.Addr + "/" + repo + sep + tagOrDigest)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// pushBlobs uploads img's config and layers to repo on b, so that a
// manifest PUT is all that is left of its push.
func pushBlobs(ctx context.Context, t *testing.T, b *testenv.Berth, repo string, img v1.Image) {
	t.Helper()
	repoRef, err := name.NewRepository(b.Addr + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range append(layers, static.NewLayer(raw, ggcrtypes.OCIConfigJSON)) {
		if err := remote.WriteLayer(repoRef, l, regOpts(ctx, b)...); err != nil {
			t.Fatalf("uploading a blob to %s: %v", b.Addr, err)
		}
	}
}

// registryCode is the registry error code of a go-containerregistry error
// ("" when it is not a registry error) and its HTTP status.
func registryCode(err error) (string, int) {
	var te *transport.Error
	if !errors.As(err, &te) {
		return "", 0
	}
	if len(te.Errors) == 0 {
		return "", te.StatusCode
	}
	return string(te.Errors[0].Code), te.StatusCode
}

// headDigest is what HEAD repo:tag on b answers ("" for 404).
func headDigest(ctx context.Context, t *testing.T, b *testenv.Berth, repo, tag string) string {
	t.Helper()
	d, err := remote.Head(ref(t, b, repo, tag), regOpts(ctx, b)...)
	if code, status := registryCode(err); status == http.StatusNotFound || code == "MANIFEST_UNKNOWN" {
		return ""
	}
	if err != nil {
		t.Fatalf("HEAD %s:%s on %s: %v", repo, tag, b.Addr, err)
	}
	return d.Digest.String()
}

// ecrViews is what the ECR API says tag names in repo: BatchGetImage,
// DescribeImages (by tag, and the whole listing) and ListImages.
func ecrViews(ctx context.Context, t *testing.T, c *ecr.Client, repo, tag string) map[string]string {
	t.Helper()
	views := map[string]string{}
	bg, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tag)}}})
	if err != nil {
		t.Fatalf("BatchGetImage: %v", err)
	}
	if len(bg.Images) == 1 {
		views["BatchGetImage"] = aws.ToString(bg.Images[0].ImageId.ImageDigest)
	} else {
		views["BatchGetImage"] = ""
	}
	var nfe *types.ImageNotFoundException
	di, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tag)}}})
	switch {
	case errors.As(err, &nfe):
		views["DescribeImages(tag)"] = ""
	case err != nil:
		t.Fatalf("DescribeImages: %v", err)
	case len(di.ImageDetails) == 1:
		views["DescribeImages(tag)"] = aws.ToString(di.ImageDetails[0].ImageDigest)
	}
	views["DescribeImages"] = ""
	for p := ecr.NewDescribeImagesPaginator(c, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeImages: %v", err)
		}
		for _, d := range page.ImageDetails {
			for _, tg := range d.ImageTags {
				if tg == tag {
					if views["DescribeImages"] != "" {
						t.Fatalf("DescribeImages lists tag %s on two images", tag)
					}
					views["DescribeImages"] = aws.ToString(d.ImageDigest)
				}
			}
		}
	}
	views["ListImages"] = ""
	for p := ecr.NewListImagesPaginator(c, &ecr.ListImagesInput{RepositoryName: aws.String(repo),
		Filter: &types.ListImagesFilter{TagStatus: types.TagStatusTagged}}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListImages: %v", err)
		}
		for _, id := range page.ImageIds {
			if aws.ToString(id.ImageTag) == tag {
				views["ListImages"] = aws.ToString(id.ImageDigest)
			}
		}
	}
	return views
}

// imageExists reports whether DescribeImages knows digest in repo.
func imageExists(ctx context.Context, t *testing.T, c *ecr.Client, repo, digest string) bool {
	t.Helper()
	_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(digest)}}})
	var nfe *types.ImageNotFoundException
	if errors.As(err, &nfe) {
		return false
	}
	if err != nil {
		t.Fatalf("DescribeImages %s: %v", digest, err)
	}
	return true
}

// pullAll pulls repo@digest from b and checks every blob's bytes against
// its digest (go-containerregistry verifies as it reads).
func pullAll(ctx context.Context, b *testenv.Berth, repo, ref string) error {
	r, err := name.ParseReference(b.Addr + "/" + repo + map[bool]string{true: "@", false: ":"}[strings.Contains(ref, ":")] + ref)
	if err != nil {
		return err
	}
	img, err := remote.Image(r, regOpts(ctx, b)...)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if _, err := img.ConfigFile(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer: %w", err)
		}
	}
	return nil
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
