package ecrapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/berth-registry/berth/internal/regtest"
)

const dockerListType = "application/vnd.docker.distribution.manifest.list.v2+json"

// withoutMediaType is manifest with its top-level mediaType removed.
func withoutMediaType(t *testing.T, manifest string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "mediaType")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPutImageMediaTypeParameter: as on ECR, a manifest without a
// mediaType field needs imageManifestMediaType (without it: "Invalid JSON
// syntax"), and with it is stored byte for byte and reported with that
// type by PutImage, BatchGetImage (by tag and by digest) and
// DescribeImages, Docker types included.
func TestPutImageMediaTypeParameter(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "images/mediatype"
	config, layer := imageRepo(t, s, repo)
	docker := withoutMediaType(t, imageManifest(t, dockerV2Type, config, []blob{layer}, nil))
	oci := withoutMediaType(t, imageManifest(t, ociManifestType, config, []blob{layer},
		map[string]any{"annotations": map[string]string{"kind": "oci"}}))

	for _, m := range []string{docker, oci} {
		_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(m), ImageTag: aws.String("x")})
		wantAPIErr[*types.InvalidParameterException](t, err,
			"Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'")
	}

	// The list's child: the Docker manifest (descriptor sizes are checked).
	list := fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":%q,"digest":%q,"size":%d,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		dockerV2Type, sha(docker), len(docker))
	for _, c2 := range []struct{ tag, manifest, mediaType string }{
		{"docker", docker, dockerV2Type},
		{"oci", oci, ociManifestType},
		{"list", list, dockerListType},
	} {
		out, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(c2.manifest),
			ImageManifestMediaType: aws.String(c2.mediaType), ImageTag: aws.String(c2.tag)})
		if err != nil {
			t.Fatalf("PutImage %s with imageManifestMediaType %s: %v", c2.tag, c2.mediaType, err)
		}
		if got := aws.ToString(out.Image.ImageManifestMediaType); got != c2.mediaType || aws.ToString(out.Image.ImageId.ImageDigest) != sha(c2.manifest) {
			t.Errorf("PutImage %s: type %s digest %s", c2.tag, got, aws.ToString(out.Image.ImageId.ImageDigest))
		}
		for _, id := range []types.ImageIdentifier{{ImageTag: aws.String(c2.tag)}, {ImageDigest: aws.String(sha(c2.manifest))}} {
			got, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{id}})
			if err != nil || len(got.Images) != 1 {
				t.Fatalf("BatchGetImage %s: %v %+v", c2.tag, err, got)
			}
			im := got.Images[0]
			if aws.ToString(im.ImageManifestMediaType) != c2.mediaType || aws.ToString(im.ImageManifest) != c2.manifest {
				t.Errorf("BatchGetImage %s (%+v): type %s, manifest as pushed %v", c2.tag, id,
					aws.ToString(im.ImageManifestMediaType), aws.ToString(im.ImageManifest) == c2.manifest)
			}
		}
		d, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(c2.tag)}}})
		if err != nil || len(d.ImageDetails) != 1 {
			t.Fatalf("DescribeImages %s: %v", c2.tag, err)
		}
		if got := aws.ToString(d.ImageDetails[0].ImageManifestMediaType); got != c2.mediaType {
			t.Errorf("DescribeImages %s: type %s, want %s", c2.tag, got, c2.mediaType)
		}
	}
}
