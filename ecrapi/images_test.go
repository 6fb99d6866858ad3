package ecrapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/internal/regtest"
)

// Full-stack tests of the image and layer operations: the real SDK client
// against a whole berth (gate, registry, metadata recorder, SQLite).

const (
	ociManifestType = "application/vnd.oci.image.manifest.v1+json"
	ociIndexType    = "application/vnd.oci.image.index.v1+json"
	dockerV2Type    = "application/vnd.docker.distribution.manifest.v2+json"
)

// pushLayer uploads data through the layer API in one part.
func pushLayer(t *testing.T, c *ecr.Client, repo string, data []byte) string {
	t.Helper()
	ctx := context.Background()
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatalf("InitiateLayerUpload: %v", err)
	}
	if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{
		RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerPartBlob: data,
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(data) - 1)),
	}); err != nil {
		t.Fatalf("UploadLayerPart: %v", err)
	}
	d := digest.FromBytes(data).String()
	if _, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{
		RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{d},
	}); err != nil {
		t.Fatalf("CompleteLayerUpload: %v", err)
	}
	return d
}

type blob struct {
	digest string
	size   int
}

// imageManifest is an OCI (or, with mediaType dockerV2Type, Docker)
// manifest; extra fields (annotations, subject, artifactType) are merged.
func imageManifest(t *testing.T, mediaType string, config blob, layers []blob, extra map[string]any) string {
	t.Helper()
	cfgType, layerType := "application/vnd.oci.image.config.v1+json", "application/vnd.oci.image.layer.v1.tar+gzip"
	if mediaType == dockerV2Type {
		cfgType, layerType = "application/vnd.docker.container.image.v1+json", "application/vnd.docker.image.rootfs.diff.tar.gzip"
	}
	m := map[string]any{
		"schemaVersion": 2, "mediaType": mediaType,
		"config": map[string]any{"mediaType": cfgType, "digest": config.digest, "size": config.size},
	}
	ls := []map[string]any{}
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": layerType, "digest": l.digest, "size": l.size})
	}
	m["layers"] = ls
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// indexManifest lists manifests, each given by its body (a manifest
// pushed, named by its digest and size) or by a digest alone (one not
// pushed, with a made-up size).
func indexManifest(t *testing.T, children ...string) string {
	t.Helper()
	ms := []map[string]any{}
	for _, c := range children {
		d, size := c, 300
		if strings.HasPrefix(c, "{") {
			d, size = sha(c), len(c)
		}
		ms = append(ms, map[string]any{"mediaType": ociManifestType, "digest": d, "size": size,
			"platform": map[string]string{"os": "linux", "architecture": "amd64"}})
	}
	b, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ociIndexType, "manifests": ms})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha(s string) string { return digest.FromString(s).String() }

// imageRepo makes repo with a config blob and a layer; it returns them.
func imageRepo(t *testing.T, s *regtest.Stack, repo string) (config, layer blob) {
	t.Helper()
	createRepo(t, s.ECR, repo)
	config = blob{pushLayer(t, s.ECR, repo, []byte("{}")), 2}
	layer = blob{pushLayer(t, s.ECR, repo, []byte("layer of "+repo)), len("layer of " + repo)}
	return config, layer
}

func putImage(t *testing.T, c *ecr.Client, repo, tag, manifest string) string {
	t.Helper()
	in := &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest)}
	if tag != "" {
		in.ImageTag = aws.String(tag)
	}
	out, err := c.PutImage(context.Background(), in)
	if err != nil {
		t.Fatalf("PutImage %s:%s: %v", repo, tag, err)
	}
	return aws.ToString(out.Image.ImageId.ImageDigest)
}

func TestPutImageAndBatchGetImage(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "images/app"
	config, layer := imageRepo(t, s, repo)
	manifest := imageManifest(t, ociManifestType, config, []blob{layer}, nil)

	out, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")})
	if err != nil {
		t.Fatalf("PutImage: %v", err)
	}
	d := sha(manifest)
	img := out.Image
	if aws.ToString(img.ImageId.ImageDigest) != d || aws.ToString(img.ImageId.ImageTag) != "v1" ||
		aws.ToString(img.ImageManifest) != manifest || aws.ToString(img.ImageManifestMediaType) != ociManifestType ||
		aws.ToString(img.RegistryId) != s.RegistryID || aws.ToString(img.RepositoryName) != repo {
		t.Fatalf("PutImage image = %+v", img)
	}

	// A second tag on the same manifest is fine; the same pair again is not.
	putImage(t, c, repo, "v2", manifest)
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest), ImageTag: aws.String("v1")})
	wantAPIErr[*types.ImageAlreadyExistsException](t, err, fmt.Sprintf(
		"Image with digest '%s' and tag 'v1' already exists in the repository with name '%s' in registry with id '%s'", d, repo, s.RegistryID))

	got, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("v1")},
		{ImageDigest: aws.String(d)},
		{ImageTag: aws.String("v1"), ImageDigest: aws.String(d)},
	}})
	if err != nil {
		t.Fatalf("BatchGetImage: %v", err)
	}
	if len(got.Failures) != 0 || len(got.Images) != 4 { // by digest: once per tag
		t.Fatalf("BatchGetImage: %d images, failures %+v", len(got.Images), got.Failures)
	}
	var ids []string
	for _, im := range got.Images {
		if aws.ToString(im.ImageManifest) != manifest || aws.ToString(im.ImageManifestMediaType) != ociManifestType ||
			aws.ToString(im.ImageId.ImageDigest) != d {
			t.Fatalf("BatchGetImage image = %+v", im)
		}
		ids = append(ids, aws.ToString(im.ImageId.ImageTag))
	}
	if strings.Join(ids, ",") != "v1,v1,v2,v1" {
		t.Fatalf("BatchGetImage tags %v", ids)
	}

	failures, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{
		{ImageTag: aws.String("nope")},
		{},
		{ImageDigest: aws.String("invalid_digest")},
		{ImageTag: aws.String("v1"), ImageDigest: aws.String("sha256:" + strings.Repeat("a", 64))},
		{ImageDigest: aws.String("sha256:" + strings.Repeat("b", 64))},
	}})
	if err != nil {
		t.Fatalf("BatchGetImage failures: %v", err)
	}
	want := []string{
		"ImageNotFound/Requested image not found",
		"MissingDigestAndTag/Invalid request parameters: both tag and digest cannot be null",
		"InvalidImageDigest/Invalid request parameters: image digest should satisfy the regex '[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
		"ImageTagDoesNotMatchDigest/Invalid request parameters: given tag does not map to the given digest",
		"ImageNotFound/Requested image not found",
	}
	var gotF []string
	for _, f := range failures.Failures {
		gotF = append(gotF, string(f.FailureCode)+"/"+aws.ToString(f.FailureReason))
	}
	if len(failures.Images) != 0 || !slices.Equal(gotF, want) {
		t.Fatalf("failures:\n%s\nwant\n%s", strings.Join(gotF, "\n"), strings.Join(want, "\n"))
	}

	onlyDocker, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}, AcceptedMediaTypes: []string{dockerV2Type}})
	if err != nil || len(onlyDocker.Images) != 0 || len(onlyDocker.Failures) != 1 || onlyDocker.Failures[0].FailureCode != "UnsupportedImageType" {
		t.Fatalf("BatchGetImage accepting Docker only: %+v, %v", onlyDocker, err)
	}

	// A Docker manifest without a tag, by digest only.
	docker := imageManifest(t, dockerV2Type, config, []blob{layer}, nil)
	dd := putImage(t, c, repo, "", docker)
	byDigest, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(dd)}}, AcceptedMediaTypes: []string{dockerV2Type}})
	if err != nil || len(byDigest.Images) != 1 || aws.ToString(byDigest.Images[0].ImageManifest) != docker ||
		byDigest.Images[0].ImageId.ImageTag != nil || aws.ToString(byDigest.Images[0].ImageManifestMediaType) != dockerV2Type {
		t.Fatalf("BatchGetImage of an untagged Docker manifest: %+v, %v", byDigest, err)
	}
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(docker)})
	wantErr[*types.ImageAlreadyExistsException](t, err)

	// The pull is recorded (in batches): BatchGetImage is a pull.
	if img, err := s.Store.GetImage(ctx, s.RegistryID, repo, d); err != nil || img.Size == 0 {
		t.Fatalf("store image %+v, %v", img, err)
	}
}

func TestPutImageErrors(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "images/errors"
	config, layer := imageRepo(t, s, repo)
	manifest := imageManifest(t, ociManifestType, config, []blob{layer}, nil)

	_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest),
		ImageTag: aws.String("v1"), ImageDigest: aws.String(sha("something else"))})
	wantErr[*types.ImageDigestDoesNotMatchException](t, err)
	// The matching digest is accepted.
	if _, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(manifest),
		ImageTag: aws.String("v1"), ImageDigest: aws.String(sha(manifest))}); err != nil {
		t.Fatalf("PutImage with its digest: %v", err)
	}

	missing := blob{sha("missing layer"), 13}
	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo),
		ImageManifest: aws.String(imageManifest(t, ociManifestType, config, []blob{layer, missing}, nil)), ImageTag: aws.String("v2")})
	wantAPIErr[*types.LayersNotFoundException](t, err, fmt.Sprintf(
		"Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
		missing.digest, repo, s.RegistryID))

	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo),
		ImageManifest: aws.String(indexManifest(t, manifest, sha("no such child"))), ImageTag: aws.String("idx")})
	wantErr[*types.ReferencedImagesNotFoundException](t, err)

	_, err = c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("images/none"), ImageManifest: aws.String(manifest)})
	wantAPIErr[*types.RepositoryNotFoundException](t, err, fmt.Sprintf(
		"The repository with name 'images/none' does not exist in the registry with id '%s'", s.RegistryID))

	for _, c2 := range []struct {
		name string
		in   ecr.PutImageInput
	}{
		{"not JSON", ecr.PutImageInput{ImageManifest: aws.String("{not json")}},
		{"no media type", ecr.PutImageInput{ImageManifest: aws.String(`{"schemaVersion":2}`)}},
		{"empty tag", ecr.PutImageInput{ImageManifest: aws.String(manifest), ImageTag: aws.String("")}},
		{"long tag", ecr.PutImageInput{ImageManifest: aws.String(manifest), ImageTag: aws.String(strings.Repeat("t", 301))}},
		{"media type contradicts", ecr.PutImageInput{ImageManifest: aws.String(manifest), ImageManifestMediaType: aws.String(dockerV2Type)}},
		{"digest malformed", ecr.PutImageInput{ImageManifest: aws.String(manifest), ImageDigest: aws.String("sha256:xyz")}},
	} {
		c2.in.RepositoryName = aws.String(repo)
		_, err := c.PutImage(ctx, &c2.in)
		if e := wantErr[*types.InvalidParameterException](t, err); c2.name == "not JSON" &&
			e.ErrorMessage() != "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'" {
			t.Fatalf("%s: %q", c2.name, e.ErrorMessage())
		}
	}
}

func TestPutImageImmutableTag(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "images/immutable"
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo),
		ImageTagMutability: types.ImageTagMutabilityImmutable}); err != nil {
		t.Fatal(err)
	}
	config := blob{pushLayer(t, c, repo, []byte("{}")), 2}
	a := imageManifest(t, ociManifestType, config, nil, map[string]any{"annotations": map[string]string{"v": "a"}})
	b := imageManifest(t, ociManifestType, config, nil, map[string]any{"annotations": map[string]string{"v": "b"}})
	putImage(t, c, repo, "release", a)
	_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(b), ImageTag: aws.String("release")})
	wantAPIErr[*types.ImageTagAlreadyExistsException](t, err,
		"The image tag 'release' already exists in the '"+repo+"' repository and cannot be overwritten because the tag is immutable.")
	// Another tag for the second manifest is fine.
	putImage(t, c, repo, "other", b)
}

func TestLayerUploadAndDownload(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "layers/app"
	createRepo(t, c, repo)

	const part = 5 << 20
	data := make([]byte, part+123_456)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(up.PartSize) <= 0 {
		t.Fatalf("partSize %v", up.PartSize)
	}
	for off := 0; off < len(data); off += part {
		end := min(off+part, len(data))
		out, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(int64(off)), PartLastByte: aws.Int64(int64(end - 1)), LayerPartBlob: data[off:end]})
		if err != nil {
			t.Fatalf("UploadLayerPart %d: %v", off, err)
		}
		if aws.ToInt64(out.LastByteReceived) != int64(end-1) || aws.ToString(out.UploadId) != aws.ToString(up.UploadId) {
			t.Fatalf("UploadLayerPart %d: %+v", off, out)
		}
		if off == 0 {
			// Sending the first part again: not consecutive.
			_, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(9), LayerPartBlob: data[:10]})
			e := wantErr[*types.InvalidLayerPartException](t, err)
			if aws.ToInt64(e.LastValidByteReceived) != part-1 || aws.ToString(e.UploadId) != aws.ToString(up.UploadId) ||
				aws.ToString(e.RepositoryName) != repo || aws.ToString(e.RegistryId) != s.RegistryID {
				t.Fatalf("InvalidLayerPartException %+v", e)
			}
		}
	}
	d := digest.FromBytes(data).String()
	_, err = c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
		LayerDigests: []string{sha("wrong")}})
	wantErr[*types.InvalidLayerException](t, err)

	// Again, correctly (a failed completion ends the upload, as a
	// digest mismatch does in distribution).
	up, err = c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += part {
		end := min(off+part, len(data))
		if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(int64(off)), PartLastByte: aws.Int64(int64(end - 1)), LayerPartBlob: data[off:end]}); err != nil {
			t.Fatal(err)
		}
	}
	done, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up.UploadId, LayerDigests: []string{d}})
	if err != nil || aws.ToString(done.LayerDigest) != d || aws.ToString(done.UploadId) != aws.ToString(up.UploadId) {
		t.Fatalf("CompleteLayerUpload = %+v, %v", done, err)
	}

	bad := "sha256:" + strings.Repeat("z", 64)
	avail, err := c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo),
		LayerDigests: []string{d, sha("absent"), bad}})
	if err != nil {
		t.Fatal(err)
	}
	if len(avail.Layers) != 1 || aws.ToString(avail.Layers[0].LayerDigest) != d || avail.Layers[0].LayerAvailability != types.LayerAvailabilityAvailable ||
		aws.ToInt64(avail.Layers[0].LayerSize) != int64(len(data)) {
		t.Fatalf("layers %+v", avail.Layers)
	}
	if len(avail.Failures) != 2 || avail.Failures[0].FailureCode != types.LayerFailureCodeMissingLayerDigest ||
		avail.Failures[1].FailureCode != types.LayerFailureCodeInvalidLayerDigest || aws.ToString(avail.Failures[1].LayerDigest) != bad {
		t.Fatalf("failures %+v", avail.Failures)
	}

	dl, err := c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(d)})
	if err != nil || aws.ToString(dl.LayerDigest) != d {
		t.Fatalf("GetDownloadUrlForLayer = %+v, %v", dl, err)
	}
	u := aws.ToString(dl.DownloadUrl)
	resp, err := s.HTTP.Get(u) // no credentials: the URL is the authorization
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("download: %d, %d bytes (want %d)", resp.StatusCode, len(body), len(data))
	}
	// The signature covers the blob: another digest is refused.
	pu, _ := url.Parse(u)
	pu.Path = "/v2/" + repo + "/blobs/" + sha("absent")
	if resp, err := s.HTTP.Get(pu.String()); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("download of another blob with the URL's signature: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	_, err = c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: aws.String(repo), LayerDigest: aws.String(sha("absent"))})
	wantErr[*types.LayersNotFoundException](t, err)
	up2, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up2.UploadId, LayerDigests: []string{d}})
	wantErr[*types.LayerAlreadyExistsException](t, err)
	_, err = c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: up2.UploadId, LayerDigests: []string{sha("x")}})
	wantErr[*types.EmptyUploadException](t, err)
}

func TestLayerUploadErrors(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "layers/errors"
	createRepo(t, c, repo)
	up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
	if err != nil {
		t.Fatal(err)
	}
	part := func(first, last int64, data []byte) error {
		_, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
			PartFirstByte: aws.Int64(first), PartLastByte: aws.Int64(last), LayerPartBlob: data})
		return err
	}
	if err := part(0, 1023, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	// A second part after a first one under 5 MiB.
	wantErr[*types.LayerPartTooSmallException](t, part(1024, 2047, make([]byte, 1024)))
	// Byte range and blob length disagree: the error says where to resume.
	e := wantErr[*types.InvalidLayerPartException](t, part(1024, 4095, make([]byte, 10)))
	if aws.ToInt64(e.LastValidByteReceived) != 1023 {
		t.Fatalf("lastValidByteReceived %d", aws.ToInt64(e.LastValidByteReceived))
	}

	unknown := "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	_, err = c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: aws.String(unknown),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte("x")})
	wantErr[*types.UploadNotFoundException](t, err)
	_, err = c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo), UploadId: aws.String(unknown), LayerDigests: []string{sha("x")}})
	wantErr[*types.UploadNotFoundException](t, err)
	_, err = c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: aws.String("u"),
		PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte("x")})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String("layers/none")})
	wantErr[*types.RepositoryNotFoundException](t, err)
	_, err = c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: aws.String(repo), LayerDigests: []string{}})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestListAndDescribeImagesPaging(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "paging/app"
	createRepo(t, c, repo)
	config := blob{pushLayer(t, c, repo, []byte("{}")), 2}
	const n = 250
	digests := map[string]string{} // digest → tag ("" untagged)
	for i := range n {
		m := imageManifest(t, ociManifestType, config, nil, map[string]any{"annotations": map[string]string{"n": fmt.Sprint(i)}})
		tag := ""
		if i%2 == 0 {
			tag = fmt.Sprintf("t%03d", i)
		}
		digests[putImage(t, c, repo, tag, m)] = tag
	}

	seen := map[string]int{}
	pages := 0
	lp := ecr.NewListImagesPaginator(c, &ecr.ListImagesInput{RepositoryName: aws.String(repo)})
	for lp.HasMorePages() {
		page, err := lp.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListImages page %d: %v", pages, err)
		}
		pages++
		for _, id := range page.ImageIds {
			d := aws.ToString(id.ImageDigest)
			if digests[d] != aws.ToString(id.ImageTag) {
				t.Fatalf("ListImages id %s:%s", d, aws.ToString(id.ImageTag))
			}
			seen[d]++
		}
	}
	if pages != 3 || len(seen) != n {
		t.Fatalf("ListImages: %d pages, %d images", pages, len(seen))
	}
	for d, k := range seen {
		if k != 1 {
			t.Fatalf("ListImages listed %s %d times", d, k)
		}
	}
	for status, want := range map[types.TagStatus]int{types.TagStatusTagged: n / 2, types.TagStatusUntagged: n / 2} {
		count := 0
		lp := ecr.NewListImagesPaginator(c, &ecr.ListImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(1000),
			Filter: &types.ListImagesFilter{TagStatus: status}})
		for lp.HasMorePages() {
			page, err := lp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			count += len(page.ImageIds)
		}
		if count != want {
			t.Fatalf("ListImages %s: %d", status, count)
		}
	}

	described := map[string]int{}
	dp := ecr.NewDescribeImagesPaginator(c, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(60)})
	for dp.HasMorePages() {
		page, err := dp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range page.ImageDetails {
			d := aws.ToString(im.ImageDigest)
			described[d]++
			wantTags := []string{}
			if tg := digests[d]; tg != "" {
				wantTags = []string{tg}
			}
			if !slices.Equal(im.ImageTags, wantTags) && !(len(wantTags) == 0 && im.ImageTags == nil) {
				t.Fatalf("DescribeImages %s tags %v, want %v", d, im.ImageTags, wantTags)
			}
			if aws.ToString(im.ImageManifestMediaType) != ociManifestType || im.ImagePushedAt == nil ||
				im.ImageStatus != types.ImageStatusActive || aws.ToString(im.RepositoryName) != repo ||
				aws.ToString(im.ArtifactMediaType) != "application/vnd.oci.image.config.v1+json" || im.LastRecordedPullTime != nil {
				t.Fatalf("DescribeImages detail %+v", im)
			}
		}
	}
	if len(described) != n {
		t.Fatalf("DescribeImages: %d images", len(described))
	}
	for d, k := range described {
		if k != 1 {
			t.Fatalf("DescribeImages described %s %d times", d, k)
		}
	}

	// Listed ids: one detail per image; a missing id fails the call.
	byTag, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("t000")}, {ImageTag: aws.String("t002")}}})
	if err != nil || len(byTag.ImageDetails) != 2 || byTag.ImageDetails[0].ImageTags[0] != "t000" {
		t.Fatalf("DescribeImages by tag: %+v, %v", byTag, err)
	}
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("missing")}}})
	wantAPIErr[*types.ImageNotFoundException](t, err, fmt.Sprintf(
		"The image with imageId {imageDigest:'null', imageTag:'missing'} does not exist within the repository with name '%s' in the registry with id '%s'", repo, s.RegistryID))
	_, err = c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(5),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("t000")}}})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(1001)})
	wantErr[*types.InvalidParameterException](t, err)
	_, err = c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String("paging/none")})
	wantErr[*types.RepositoryNotFoundException](t, err)
}

// TestBatchDeleteImage runs with the registry's DELETE disabled for /v2
// clients (the default: as in ECR) and enabled.
func TestBatchDeleteImage(t *testing.T) {
	for _, enabled := range []bool{false, true} {
		t.Run(fmt.Sprintf("delete_enabled=%v", enabled), func(t *testing.T) {
			testBatchDeleteImage(t, regtest.NewWith(t, func(c *config.Config) { c.Registry.DeleteEnabled = enabled }))
		})
	}
}

func testBatchDeleteImage(t *testing.T, s *regtest.Stack) {
	c, ctx := s.ECR, context.Background()
	const repo = "delete/app"
	config, layer := imageRepo(t, s, repo)
	manifest := func(v string) string {
		return imageManifest(t, ociManifestType, config, []blob{layer}, map[string]any{"annotations": map[string]string{"v": v}})
	}
	del := func(ids ...types.ImageIdentifier) *ecr.BatchDeleteImageOutput {
		t.Helper()
		out, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: ids})
		if err != nil {
			t.Fatalf("BatchDeleteImage: %v", err)
		}
		return out
	}
	exists := func(d string) bool {
		t.Helper()
		_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
			ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(d)}}})
		if err == nil {
			return true
		}
		wantErr[*types.ImageNotFoundException](t, err)
		return false
	}
	idString := func(ids []types.ImageIdentifier) string {
		var s []string
		for _, id := range ids {
			s = append(s, aws.ToString(id.ImageDigest)+":"+aws.ToString(id.ImageTag))
		}
		return strings.Join(s, " ")
	}

	x := putImage(t, c, repo, "a", manifest("x"))
	putImage(t, c, repo, "b", manifest("x"))
	out := del(types.ImageIdentifier{ImageTag: aws.String("a")})
	if idString(out.ImageIds) != x+":a" || len(out.Failures) != 0 || !exists(x) {
		t.Fatalf("untag a: %s %+v", idString(out.ImageIds), out.Failures)
	}
	if _, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	// The last tag takes the image with it.
	out = del(types.ImageIdentifier{ImageTag: aws.String("b")})
	if idString(out.ImageIds) != x+":b" || exists(x) {
		t.Fatalf("untag b: %s, image exists %v", idString(out.ImageIds), exists(x))
	}
	got, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(x)}}})
	if err != nil || len(got.Images) != 0 || len(got.Failures) != 1 {
		t.Fatalf("BatchGetImage after deletion: %+v, %v", got, err)
	}

	// By digest: the image and all its tags; a digest and one of its
	// tags in one call delete it once.
	y := putImage(t, c, repo, "c", manifest("y"))
	putImage(t, c, repo, "d", manifest("y"))
	out = del(types.ImageIdentifier{ImageDigest: aws.String(y)}, types.ImageIdentifier{ImageTag: aws.String("d")})
	if idString(out.ImageIds) != y+":c "+y+":d" || len(out.Failures) != 0 || exists(y) {
		t.Fatalf("delete by digest: %s %+v", idString(out.ImageIds), out.Failures)
	}

	// An index's child cannot go while the index lists it.
	childBody := manifest("child")
	child := putImage(t, c, repo, "", childBody)
	idx := putImage(t, c, repo, "idx", indexManifest(t, childBody))
	out = del(types.ImageIdentifier{ImageDigest: aws.String(child)})
	if len(out.ImageIds) != 0 || len(out.Failures) != 1 || out.Failures[0].FailureCode != types.ImageFailureCodeImageReferencedByManifestList || !exists(child) {
		t.Fatalf("delete of an index's child: %s %+v", idString(out.ImageIds), out.Failures)
	}
	out = del(types.ImageIdentifier{ImageTag: aws.String("idx")}, types.ImageIdentifier{ImageDigest: aws.String(child)})
	if idString(out.ImageIds) != idx+":idx "+child+":" || len(out.Failures) != 0 || exists(idx) || exists(child) {
		t.Fatalf("delete of the index, then the child: %s %+v", idString(out.ImageIds), out.Failures)
	}

	z := putImage(t, c, repo, "z", manifest("z"))
	out = del(
		types.ImageIdentifier{ImageTag: aws.String("nope")},
		types.ImageIdentifier{},
		types.ImageIdentifier{ImageDigest: aws.String("bad")},
		types.ImageIdentifier{ImageTag: aws.String("z"), ImageDigest: aws.String(x)},
	)
	var codes []string
	for _, f := range out.Failures {
		codes = append(codes, string(f.FailureCode))
	}
	if len(out.ImageIds) != 0 || strings.Join(codes, ",") != "ImageNotFound,MissingDigestAndTag,InvalidImageDigest,ImageTagDoesNotMatchDigest" || !exists(z) {
		t.Fatalf("failures: %v", codes)
	}
	_, err = c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: []types.ImageIdentifier{}})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestListImageReferrers(t *testing.T) {
	s := regtest.New(t)
	c, ctx := s.ECR, context.Background()
	const repo = "referrers/app"
	config, layer := imageRepo(t, s, repo)
	subject := putImage(t, c, repo, "v1", imageManifest(t, ociManifestType, config, []blob{layer}, nil))
	ref := func(artifactType, name string) string {
		return putImage(t, c, repo, "", imageManifest(t, ociManifestType, config, []blob{layer}, map[string]any{
			"artifactType": artifactType,
			"subject":      map[string]any{"mediaType": ociManifestType, "digest": subject, "size": 300},
			"annotations":  map[string]string{"name": name},
		}))
	}
	const sbom, sig = "application/vnd.example.sbom+json", "application/vnd.example.signature"
	sbomD := ref(sbom, "sbom")
	sigD := ref(sig, "sig")

	list := func(in *ecr.ListImageReferrersInput) []types.ImageReferrer {
		t.Helper()
		in.RepositoryName = aws.String(repo)
		in.SubjectId = &types.SubjectIdentifier{ImageDigest: aws.String(subject)}
		var all []types.ImageReferrer
		for {
			out, err := c.ListImageReferrers(ctx, in)
			if err != nil {
				t.Fatalf("ListImageReferrers: %v", err)
			}
			all = append(all, out.Referrers...)
			if out.NextToken == nil {
				return all
			}
			in.NextToken = out.NextToken
		}
	}
	digests := func(rs []types.ImageReferrer) []string {
		var ds []string
		for _, r := range rs {
			ds = append(ds, aws.ToString(r.Digest))
		}
		return ds
	}
	all := list(&ecr.ListImageReferrersInput{})
	want := []string{sbomD, sigD}
	slices.Sort(want)
	if !slices.Equal(digests(all), want) {
		t.Fatalf("referrers %v, want %v", digests(all), want)
	}
	for _, r := range all {
		if aws.ToString(r.MediaType) != ociManifestType || aws.ToInt64(r.Size) == 0 || r.ArtifactStatus != types.ArtifactStatusActive ||
			r.Annotations["name"] == "" || (aws.ToString(r.ArtifactType) != sbom && aws.ToString(r.ArtifactType) != sig) {
			t.Fatalf("referrer %+v", r)
		}
	}
	if got := digests(list(&ecr.ListImageReferrersInput{Filter: &types.ListImageReferrersFilter{ArtifactTypes: []string{sbom}}})); !slices.Equal(got, []string{sbomD}) {
		t.Fatalf("sbom referrers %v", got)
	}
	if got := digests(list(&ecr.ListImageReferrersInput{MaxResults: aws.Int32(1), Filter: &types.ListImageReferrersFilter{ArtifactTypes: []string{sig, sbom}}})); !slices.Equal(got, want) {
		t.Fatalf("referrers of both types, one per page: %v", got)
	}
	if got := list(&ecr.ListImageReferrersInput{Filter: &types.ListImageReferrersFilter{ArtifactTypes: []string{"application/other"}}}); len(got) != 0 {
		t.Fatalf("referrers of another type: %v", digests(got))
	}
	_, err := c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: aws.String(repo),
		SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(subject)}, MaxResults: aws.Int32(51)})
	wantErr[*types.InvalidParameterException](t, err)
}

// TestImageOpsValidation covers the checks made before the registry is
// consulted, on the API alone (no registry wired).
func TestImageOpsValidation(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	repo := aws.String("valid/name")
	uid := aws.String("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
	d := sha("x")
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"BatchGetImage no ids", func() error {
			_, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{}})
			return err
		}},
		{"BatchGetImage 101 ids", func() error {
			_, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: repo, ImageIds: make([]types.ImageIdentifier, 101)})
			return err
		}},
		{"BatchDeleteImage no ids", func() error {
			_, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: repo, ImageIds: []types.ImageIdentifier{}})
			return err
		}},
		{"DescribeImages ids with paging", func() error {
			_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: repo, NextToken: aws.String("x"),
				ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("t")}}})
			return err
		}},
		{"ListImages bad tag status", func() error {
			_, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: repo, Filter: &types.ListImagesFilter{TagStatus: "SOME"}})
			return err
		}},
		{"ListImages forged token", func() error {
			_, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: repo, NextToken: aws.String("eyJ9.AAAA")})
			return err
		}},
		{"PutImage long manifest", func() error {
			_, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: repo, ImageManifest: aws.String(strings.Repeat(" ", 4194305))})
			return err
		}},
		{"UploadLayerPart bad upload id", func() error {
			_, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: aws.String("u"),
				PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(0), LayerPartBlob: []byte("x")})
			return err
		}},
		{"UploadLayerPart negative first byte", func() error {
			_, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: repo, UploadId: uid,
				PartFirstByte: aws.Int64(-1), PartLastByte: aws.Int64(0), LayerPartBlob: []byte("x")})
			return err
		}},
		{"CompleteLayerUpload two digests", func() error {
			_, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: uid, LayerDigests: []string{d, d}})
			return err
		}},
		{"CompleteLayerUpload bad digest", func() error {
			_, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: repo, UploadId: uid, LayerDigests: []string{"md5-x"}})
			return err
		}},
		{"GetDownloadUrlForLayer bad digest", func() error {
			_, err := c.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{RepositoryName: repo, LayerDigest: aws.String("nope")})
			return err
		}},
		{"BatchCheckLayerAvailability 101 digests", func() error {
			_, err := c.BatchCheckLayerAvailability(ctx, &ecr.BatchCheckLayerAvailabilityInput{RepositoryName: repo, LayerDigests: make([]string, 101)})
			return err
		}},
		{"ListImageReferrers bad subject", func() error {
			_, err := c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: repo,
				SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String("x")}})
			return err
		}},
		{"ListImageReferrers six artifact types", func() error {
			_, err := c.ListImageReferrers(ctx, &ecr.ListImageReferrersInput{RepositoryName: repo,
				SubjectId: &types.SubjectIdentifier{ImageDigest: aws.String(d)},
				Filter:    &types.ListImageReferrersFilter{ArtifactTypes: []string{"a", "b", "c", "d", "e", "f"}}})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr[*types.InvalidParameterException](t, tc.call()) })
	}
	// The repository is looked up after validation.
	_, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: repo})
	wantErr[*types.RepositoryNotFoundException](t, err)
}
