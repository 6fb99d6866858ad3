package ecrapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// The image operations. Manifests are stored and read through the
// Registry (the /v2 path, which records images and tags in the metadata
// store); listings and descriptions read the store.

func (a *API) registerImageOps() {
	a.add(operation{name: "PutImage", repoScoped: true, handle: a.putImage})
	a.add(operation{name: "BatchGetImage", repoScoped: true, handle: a.batchGetImage})
	a.add(operation{name: "ListImages", repoScoped: true, handle: a.listImages})
	a.add(operation{name: "DescribeImages", repoScoped: true, handle: a.describeImages})
	a.add(operation{name: "BatchDeleteImage", repoScoped: true, handle: a.batchDeleteImage})
	// The model: "must have the ecr:BatchGetImage permission".
	a.add(operation{name: "ListImageReferrers", action: "ecr:BatchGetImage", repoScoped: true, handle: a.listImageReferrers})
}

const (
	maxManifestChars = 4194304
	maxImageTag      = 300
	maxImageIDs      = 100
	// imageDigestPattern is the model's digest pattern, as ECR quotes it.
	imageDigestPattern = "[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+"
)

var (
	imageDigestRE = regexp.MustCompile(`^[a-zA-Z0-9_+.-]+:[a-fA-F0-9]+$`)
	// ociTagRE is the tag grammar of the distribution spec: longer or
	// other tags (ECR's model allows 300 characters of anything) cannot
	// be stored.
	ociTagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// Failure reasons, in ECR's words.
const (
	reasonNotFound       = "Requested image not found"
	reasonMissingID      = "Invalid request parameters: both tag and digest cannot be null"
	reasonInvalidDigest  = "Invalid request parameters: image digest should satisfy the regex '" + imageDigestPattern + "'"
	reasonInvalidTag     = "Invalid request parameters: image tag should satisfy the regex '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'"
	reasonTagMismatch    = "Invalid request parameters: given tag does not map to the given digest"
	reasonNotAccepted    = "The image manifest media type is not among the accepted media types"
	reasonReferencedBy   = "Requested image is referenced by a manifest list or image index: "
	invalidJSONManifest  = "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"
	imageListLengthLower = "Member must have length greater than or equal to 1"
)

// imgID is ECR's ImageIdentifier, on input and output.
type imgID struct {
	ImageDigest *string `json:"imageDigest,omitempty"`
	ImageTag    *string `json:"imageTag,omitempty"`
}

func newImgID(dgst, tag string) imgID {
	var id imgID
	if dgst != "" {
		id.ImageDigest = &dgst
	}
	if tag != "" {
		id.ImageTag = &tag
	}
	return id
}

func (id imgID) digest() string { return deref(id.ImageDigest) }
func (id imgID) tag() string    { return deref(id.ImageTag) }

// String is the form ImageNotFoundException quotes.
func (id imgID) String() string {
	d, t := id.digest(), id.tag()
	if d == "" {
		d = "null"
	}
	if t == "" {
		t = "null"
	}
	return fmt.Sprintf("{imageDigest:'%s', imageTag:'%s'}", d, t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// imgFailure is ECR's ImageFailure.
type imgFailure struct {
	ImageID       imgID  `json:"imageId"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

// imgOut is ECR's Image.
type imgOut struct {
	RegistryID             string `json:"registryId"`
	RepositoryName         string `json:"repositoryName"`
	ImageID                imgID  `json:"imageId"`
	ImageManifest          string `json:"imageManifest"`
	ImageManifestMediaType string `json:"imageManifestMediaType,omitempty"`
}

// checkImageIDs validates the length of an ImageIdentifierList.
func checkImageIDs(ids []imgID, present bool) error {
	switch {
	case !present:
		return missingParam("imageIds")
	case len(ids) < 1:
		return invalidParam("imageIds", imageListLengthLower)
	case len(ids) > maxImageIDs:
		return invalidParam("imageIds", "Member must have length less than or equal to 100")
	}
	return nil
}

// idProblem is the per-image failure of an identifier that cannot name an
// image: neither digest nor tag, a malformed digest or an impossible tag.
// An empty tag counts as absent.
func idProblem(id imgID) *imgFailure {
	d, t := id.digest(), id.tag()
	switch {
	case d == "" && t == "":
		return &imgFailure{ImageID: id, FailureCode: "MissingDigestAndTag", FailureReason: reasonMissingID}
	case d != "" && !imageDigestRE.MatchString(d):
		return &imgFailure{ImageID: id, FailureCode: "InvalidImageDigest", FailureReason: reasonInvalidDigest}
	case t != "" && !ociTagRE.MatchString(t):
		return &imgFailure{ImageID: id, FailureCode: "InvalidImageTag", FailureReason: reasonInvalidTag}
	}
	return nil
}

// parsableDigest: the pattern admits digests no content can have
// (sha256:abc); those name nothing.
func parsableDigest(d string) bool {
	_, err := digest.Parse(d)
	return err == nil
}

func notFound(id imgID) *imgFailure {
	return &imgFailure{ImageID: id, FailureCode: "ImageNotFound", FailureReason: reasonNotFound}
}

// checkImageTag validates a tag to be written.
func checkImageTag(field, tag string) error {
	n := utf8.RuneCountInString(tag)
	switch {
	case n < 1:
		return invalidParam(field, "must have length greater than or equal to 1")
	case n > maxImageTag:
		return invalidParam(field, "must have length less than or equal to 300")
	case !ociTagRE.MatchString(tag):
		return invalidParam(field, "must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}'")
	}
	return nil
}

func imageNotFoundErr(id imgID, reg, repo string) *Error {
	return errorf("ImageNotFoundException",
		"The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", id, repo, reg)
}

// registryErr maps the Registry errors every operation may see.
func (a *API) registryErr(err error, reg, repo string) error {
	if errors.Is(err, ErrRepositoryUnknown) {
		return a.repoNotFound(reg, repo)
	}
	return err
}

type putImageIn struct {
	RepositoryName         string  `json:"repositoryName"`
	ImageManifest          *string `json:"imageManifest"`
	ImageManifestMediaType *string `json:"imageManifestMediaType"`
	ImageTag               *string `json:"imageTag"`
	ImageDigest            *string `json:"imageDigest"`
}

// putImage stores a manifest (and its tag) through the registry, which
// checks its blobs and children and records it; the checks ECR answers
// with its own exceptions come first.
func (a *API) putImage(ctx context.Context, req *Request) (any, error) {
	var in putImageIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	if in.ImageManifest == nil {
		return nil, missingParam("imageManifest")
	}
	body := *in.ImageManifest
	switch n := utf8.RuneCountInString(body); {
	case n < 1:
		return nil, invalidParam("imageManifest", "must have length greater than or equal to 1")
	case n > maxManifestChars:
		return nil, invalidParam("imageManifest", "must have length less than or equal to 4194304")
	}
	tag := deref(in.ImageTag)
	if in.ImageTag != nil {
		if err := checkImageTag("imageTag", tag); err != nil {
			return nil, err
		}
	}
	mt, err := manifestType([]byte(body), deref(in.ImageManifestMediaType))
	if err != nil {
		return nil, err
	}
	dgst := digest.Canonical.FromString(body).String()
	if in.ImageDigest != nil {
		given, err := digest.Parse(*in.ImageDigest)
		if err != nil || given.Algorithm() != digest.Canonical {
			return nil, invalidParam("imageDigest", "must be the sha256 digest of the image manifest, sha256:<64 hex digits>")
		}
		if given.String() != dgst {
			return nil, errorf("ImageDigestDoesNotMatchException",
				"Provided digest '%s' does not match the digest '%s' calculated for the image manifest", given, dgst)
		}
	}
	r, err := a.getRepo(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	img, err := a.d.Store.GetImage(ctx, reg, name, dgst)
	switch {
	case err == nil && (tag == "" || slices.Contains(img.Tags, tag)):
		shown := tag
		if shown == "" {
			shown = "null"
		}
		return nil, errorf("ImageAlreadyExistsException",
			"Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'", dgst, shown, name, reg)
	case err != nil && !metadata.Is(err, metadata.NotFound):
		return nil, err
	}
	if tag != "" && r.TagImmutable(tag) {
		prev, err := a.d.Store.ResolveTag(ctx, reg, name, tag)
		if err == nil && prev != dgst {
			return nil, tagImmutableErr(tag, name)
		}
		if err != nil && !metadata.Is(err, metadata.NotFound) {
			return nil, err
		}
	}
	got, err := a.d.Registry.PutManifest(ctx, reg, name, tag, mt, []byte(body))
	if err != nil {
		return nil, a.putImageErr(ctx, err, reg, name, tag, []byte(body))
	}
	return map[string]any{"image": imgOut{
		RegistryID: reg, RepositoryName: name, ImageID: newImgID(got, tag),
		ImageManifest: body, ImageManifestMediaType: mt,
	}}, nil
}

func tagImmutableErr(tag, repo string) *Error {
	return errorf("ImageTagAlreadyExistsException",
		"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the tag is immutable.", tag, repo)
}

// manifestType is the media type PutImage stores a manifest under: the
// parameter, else the manifest's mediaType, else (OCI allows leaving it
// out) what its shape says; ECR itself refuses a manifest without one.
func manifestType(body []byte, param string) (string, error) {
	var m struct {
		MediaType *string         `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	if json.Unmarshal(body, &m) != nil {
		return "", errorf("InvalidParameterException", invalidJSONManifest)
	}
	declared := deref(m.MediaType)
	switch {
	case param != "" && declared != "" && param != declared:
		return "", errorf("InvalidParameterException",
			"Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'must match the manifest's mediaType %s'", declared)
	case param != "":
		return param, nil
	case declared != "":
		return declared, nil
	case m.Manifests != nil:
		return "application/vnd.oci.image.index.v1+json", nil
	case m.Config != nil:
		return "application/vnd.oci.image.manifest.v1+json", nil
	}
	return "", errorf("InvalidParameterException", invalidJSONManifest)
}

// putImageErr maps a failed PutManifest to ECR's exception.
func (a *API) putImageErr(ctx context.Context, err error, reg, repo, tag string, body []byte) error {
	switch {
	case errors.Is(err, ErrTagImmutable):
		return tagImmutableErr(tag, repo)
	case errors.Is(err, ErrManifestBlobUnknown):
		missing := a.missingBlobs(ctx, reg, repo, body)
		return errorf("LayersNotFoundException",
			"Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
			strings.Join(missing, ", "), repo, reg)
	case errors.Is(err, ErrManifestChildUnknown):
		return errorf("ReferencedImagesNotFoundException",
			"Some of the images referenced by the manifest list do not exist in the repository with name '%s' in the registry with id '%s'", repo, reg)
	case errors.Is(err, ErrDigestMismatch):
		return errorf("ImageDigestDoesNotMatchException", "The image digest does not match the digest calculated for the image manifest")
	case errors.Is(err, ErrManifestInvalid):
		msg := err.Error()
		if i := strings.Index(msg, ErrManifestInvalid.Error()); i >= 0 {
			msg = msg[i:]
		}
		return errorf("InvalidParameterException", "Invalid parameter at 'ImageManifest' failed to satisfy constraint: '%s'", msg)
	}
	return a.registryErr(err, reg, repo)
}

// missingBlobs lists the config and layers of a manifest the repository
// lacks (foreign layers, fetched from their URLs, excepted). It runs only
// to word LayersNotFoundException.
func (a *API) missingBlobs(ctx context.Context, reg, repo string, body []byte) []string {
	type desc struct {
		Digest string   `json:"digest"`
		URLs   []string `json:"urls"`
	}
	var m struct {
		Config *desc  `json:"config"`
		Layers []desc `json:"layers"`
	}
	_ = json.Unmarshal(body, &m)
	all := m.Layers
	if m.Config != nil {
		all = append([]desc{*m.Config}, all...)
	}
	var missing []string
	for _, d := range all {
		if len(d.URLs) > 0 || !parsableDigest(d.Digest) || slices.Contains(missing, d.Digest) {
			continue
		}
		if _, err := a.d.Registry.StatBlob(ctx, reg, repo, d.Digest); errors.Is(err, ErrBlobUnknown) {
			missing = append(missing, d.Digest)
		}
	}
	return missing
}

type batchGetImageIn struct {
	RepositoryName     string   `json:"repositoryName"`
	ImageIDs           []imgID  `json:"imageIds"`
	AcceptedMediaTypes []string `json:"acceptedMediaTypes"`
}

type batchGetImageOut struct {
	Images   []imgOut     `json:"images"`
	Failures []imgFailure `json:"failures"`
}

// batchGetImage returns the manifests the ids name; a digest names the
// image once per tag it carries, as ECR answers.
func (a *API) batchGetImage(ctx context.Context, req *Request) (any, error) {
	var in batchGetImageIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	if err := checkImageIDs(in.ImageIDs, in.ImageIDs != nil); err != nil {
		return nil, err
	}
	if in.AcceptedMediaTypes != nil && (len(in.AcceptedMediaTypes) < 1 || len(in.AcceptedMediaTypes) > 100) {
		return nil, invalidParam("acceptedMediaTypes", "Member must have length between 1 and 100")
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	out := batchGetImageOut{Images: []imgOut{}, Failures: []imgFailure{}}
	for _, id := range in.ImageIDs {
		imgs, fail, err := a.getImage(ctx, reg, name, id, in.AcceptedMediaTypes)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			out.Failures = append(out.Failures, *fail)
		}
		out.Images = append(out.Images, imgs...)
	}
	return out, nil
}

// getImage resolves one id of BatchGetImage.
func (a *API) getImage(ctx context.Context, reg, repo string, id imgID, accept []string) ([]imgOut, *imgFailure, error) {
	if f := idProblem(id); f != nil {
		return nil, f, nil
	}
	d, t := id.digest(), id.tag()
	if d != "" && !parsableDigest(d) {
		return nil, notFound(id), nil
	}
	ref := t
	if ref == "" {
		ref = d
	}
	m, err := a.d.Registry.GetManifest(ctx, reg, repo, ref, accept)
	switch {
	case errors.Is(err, ErrManifestUnknown):
		return nil, notFound(id), nil
	case errors.Is(err, ErrMediaTypeNotAccepted):
		return nil, &imgFailure{ImageID: id, FailureCode: "UnsupportedImageType", FailureReason: reasonNotAccepted}, nil
	case err != nil:
		return nil, nil, a.registryErr(err, reg, repo)
	}
	if d != "" && t != "" && m.Digest != d {
		return nil, &imgFailure{ImageID: id, FailureCode: "ImageTagDoesNotMatchDigest", FailureReason: reasonTagMismatch}, nil
	}
	tags := []string{t}
	if t == "" {
		// By digest: once per tag, or once untagged. The store decides
		// whether the image exists: storage may still serve a manifest
		// deleted behind the App's descriptor cache.
		img, err := a.d.Store.GetImage(ctx, reg, repo, m.Digest)
		if metadata.Is(err, metadata.NotFound) {
			return nil, notFound(id), nil
		}
		if err != nil {
			return nil, nil, err
		}
		tags = img.Tags
		if len(tags) == 0 {
			tags = []string{""}
		}
	}
	out := make([]imgOut, 0, len(tags))
	for _, tg := range tags {
		out = append(out, imgOut{
			RegistryID: reg, RepositoryName: repo, ImageID: newImgID(m.Digest, tg),
			ImageManifest: string(m.Body), ImageManifestMediaType: m.MediaType,
		})
	}
	return out, nil, nil
}

// imgFilter is ListImagesFilter / DescribeImagesFilter.
type imgFilter struct {
	TagStatus   *string `json:"tagStatus"`
	ImageStatus *string `json:"imageStatus"`
}

// status validates the filter. none reports an image status no image has
// (berth archives nothing): the listing is empty.
func (f *imgFilter) status() (st metadata.TagStatus, none bool, err error) {
	st = metadata.TagAny
	if f == nil {
		return st, false, nil
	}
	if f.TagStatus != nil {
		switch s := metadata.TagStatus(*f.TagStatus); s {
		case metadata.TagAny, metadata.TagTagged, metadata.TagUntagged:
			st = s
		default:
			return "", false, invalidParam("filter.tagStatus", "Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]")
		}
	}
	if f.ImageStatus != nil {
		switch *f.ImageStatus {
		case "ACTIVE", "ANY":
		case "ARCHIVED", "ACTIVATING":
			none = true
		default:
			return "", false, invalidParam("filter.imageStatus", "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]")
		}
	}
	return st, none, nil
}

type listImagesIn struct {
	RepositoryName string     `json:"repositoryName"`
	NextToken      *string    `json:"nextToken"`
	MaxResults     *int       `json:"maxResults"`
	Filter         *imgFilter `json:"filter"`
}

type listImagesOut struct {
	ImageIDs  []imgID `json:"imageIds"`
	NextToken string  `json:"nextToken,omitempty"`
}

func (a *API) listImages(ctx context.Context, req *Request) (any, error) {
	var in listImagesIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	st, none, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	scope := reg + "/" + name + "/" + string(st)
	limit, after, err := a.pageParams("ListImages", scope, in.MaxResults, in.NextToken, maxPage)
	if err != nil {
		return nil, err
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	out := listImagesOut{ImageIDs: []imgID{}}
	if none {
		return out, nil
	}
	ids, next, err := a.d.Store.ListImageIDs(ctx, reg, name, st, metadata.Page{Limit: limit, After: after})
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	for _, id := range ids {
		out.ImageIDs = append(out.ImageIDs, newImgID(id.Digest, id.Tag))
	}
	out.NextToken = a.encodeToken("ListImages", scope, next)
	return out, nil
}

type describeImagesIn struct {
	RepositoryName string     `json:"repositoryName"`
	ImageIDs       []imgID    `json:"imageIds"`
	NextToken      *string    `json:"nextToken"`
	MaxResults     *int       `json:"maxResults"`
	Filter         *imgFilter `json:"filter"`
}

// imgDetail is ECR's ImageDetail (scan fields omitted: berth does not scan).
type imgDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          *epoch   `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   *epoch   `json:"lastRecordedPullTime,omitempty"`
	SubjectManifestDigest  string   `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string   `json:"imageStatus"`
}

func imageDetail(img metadata.Image) imgDetail {
	return imgDetail{
		RegistryID: img.RegistryID, RepositoryName: img.Repository, ImageDigest: img.Digest,
		ImageTags: img.Tags, ImageSizeInBytes: img.Size, ImagePushedAt: ts(img.PushedAt),
		ImageManifestMediaType: img.MediaType, ArtifactMediaType: img.ArtifactType,
		LastRecordedPullTime: ts(img.LastPull), SubjectManifestDigest: img.Subject, ImageStatus: "ACTIVE",
	}
}

type describeImagesOut struct {
	ImageDetails []imgDetail `json:"imageDetails"`
	NextToken    string      `json:"nextToken,omitempty"`
}

func (a *API) describeImages(ctx context.Context, req *Request) (any, error) {
	var in describeImagesIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	st, none, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	if in.ImageIDs != nil {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, errorf("InvalidParameterException",
				"Invalid parameter at 'imageIds' failed to satisfy constraint: 'cannot be combined with maxResults or nextToken'")
		}
		if err := checkImageIDs(in.ImageIDs, true); err != nil {
			return nil, err
		}
		if _, err := a.getRepo(ctx, reg, name); err != nil {
			return nil, err
		}
		return a.describeListed(ctx, reg, name, in.ImageIDs)
	}
	scope := reg + "/" + name + "/" + string(st)
	limit, after, err := a.pageParams("DescribeImages", scope, in.MaxResults, in.NextToken, maxPage)
	if err != nil {
		return nil, err
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	out := describeImagesOut{ImageDetails: []imgDetail{}}
	if none {
		return out, nil
	}
	imgs, next, err := a.d.Store.ListImages(ctx, reg, name, st, metadata.Page{Limit: limit, After: after})
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	for _, img := range imgs {
		out.ImageDetails = append(out.ImageDetails, imageDetail(img))
	}
	out.NextToken = a.encodeToken("DescribeImages", scope, next)
	return out, nil
}

// describeListed describes the images ids name, each once; one missing id
// fails the call.
func (a *API) describeListed(ctx context.Context, reg, name string, ids []imgID) (any, error) {
	out := describeImagesOut{ImageDetails: []imgDetail{}}
	seen := map[string]bool{}
	for _, id := range ids {
		if f := idProblem(id); f != nil {
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'imageIds' failed to satisfy constraint: '%s'",
				strings.TrimPrefix(f.FailureReason, "Invalid request parameters: "))
		}
		img, ok, err := a.lookupImage(ctx, reg, name, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, imageNotFoundErr(id, reg, name)
		}
		if !seen[img.Digest] {
			seen[img.Digest] = true
			out.ImageDetails = append(out.ImageDetails, imageDetail(img))
		}
	}
	return out, nil
}

// lookupImage finds the image id names in the store (both digest and tag:
// the tag must name that digest).
func (a *API) lookupImage(ctx context.Context, reg, repo string, id imgID) (metadata.Image, bool, error) {
	d, t := id.digest(), id.tag()
	if t != "" {
		td, err := a.d.Store.ResolveTag(ctx, reg, repo, t)
		if metadata.Is(err, metadata.NotFound) {
			return metadata.Image{}, false, nil
		}
		if err != nil {
			return metadata.Image{}, false, err
		}
		if d != "" && d != td {
			return metadata.Image{}, false, nil
		}
		d = td
	}
	img, err := a.d.Store.GetImage(ctx, reg, repo, d)
	if metadata.Is(err, metadata.NotFound) {
		return metadata.Image{}, false, nil
	}
	return img, err == nil, err
}

type batchDeleteImageIn struct {
	RepositoryName string  `json:"repositoryName"`
	ImageIDs       []imgID `json:"imageIds"`
}

type batchDeleteImageOut struct {
	ImageIDs []imgID      `json:"imageIds"`
	Failures []imgFailure `json:"failures"`
}

// deletion is one resolved id of BatchDeleteImage: untag tag (digest is
// the image it names), or, without a tag, delete image digest.
type deletion struct {
	id          imgID
	digest, tag string
}

// batchDeleteImage deletes images by digest and untags them by tag; an
// image losing its last tag goes too. Every id is resolved before anything
// changes, so two ids naming one image delete it once, without a failure.
func (a *API) batchDeleteImage(ctx context.Context, req *Request) (any, error) {
	var in batchDeleteImageIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	if err := checkImageIDs(in.ImageIDs, in.ImageIDs != nil); err != nil {
		return nil, err
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	out := batchDeleteImageOut{ImageIDs: []imgID{}, Failures: []imgFailure{}}
	var todo []deletion
	for _, id := range in.ImageIDs {
		del, fail, err := a.resolveDeletion(ctx, reg, name, id)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			out.Failures = append(out.Failures, *fail)
			continue
		}
		todo = append(todo, del)
	}
	gone := map[string]bool{}     // digests deleted by this call
	untagged := map[string]bool{} // tags removed by this call
	for _, del := range todo {
		if gone[del.digest] || (del.tag != "" && untagged[del.tag]) {
			continue
		}
		var deleted []imgID
		var fail *imgFailure
		var err error
		if del.tag != "" {
			deleted, err = a.untagImage(ctx, reg, name, del, gone)
		} else {
			deleted, fail, err = a.deleteImage(ctx, reg, name, del, gone)
		}
		if err != nil {
			return nil, err
		}
		if fail != nil {
			out.Failures = append(out.Failures, *fail)
		}
		for _, id := range deleted {
			if t := id.tag(); t != "" {
				untagged[t] = true
			}
		}
		out.ImageIDs = append(out.ImageIDs, deleted...)
	}
	return out, nil
}

// resolveDeletion checks one id against the store.
func (a *API) resolveDeletion(ctx context.Context, reg, repo string, id imgID) (deletion, *imgFailure, error) {
	if f := idProblem(id); f != nil {
		return deletion{}, f, nil
	}
	d, t := id.digest(), id.tag()
	if d != "" && !parsableDigest(d) {
		return deletion{}, notFound(id), nil
	}
	if t == "" {
		if _, err := a.d.Store.GetImage(ctx, reg, repo, d); err != nil {
			if metadata.Is(err, metadata.NotFound) {
				return deletion{}, notFound(id), nil
			}
			return deletion{}, nil, err
		}
		return deletion{id: id, digest: d}, nil, nil
	}
	td, err := a.d.Store.ResolveTag(ctx, reg, repo, t)
	switch {
	case metadata.Is(err, metadata.NotFound):
		return deletion{}, notFound(id), nil
	case err != nil:
		return deletion{}, nil, err
	case d != "" && d != td:
		return deletion{}, &imgFailure{ImageID: id, FailureCode: "ImageTagDoesNotMatchDigest", FailureReason: reasonTagMismatch}, nil
	}
	return deletion{id: id, digest: td, tag: t}, nil, nil
}

// untagImage removes del.tag from storage and store, and the image with
// it when that was its last tag and no index lists it.
func (a *API) untagImage(ctx context.Context, reg, repo string, del deletion, gone map[string]bool) ([]imgID, error) {
	err := a.d.Registry.DeleteTag(ctx, reg, repo, del.tag)
	if err != nil && !errors.Is(err, ErrManifestUnknown) {
		return nil, a.registryErr(err, reg, repo)
	}
	// The registry path may have recorded the untag already.
	if _, err := a.d.Store.Untag(ctx, reg, repo, del.tag); err != nil && !metadata.Is(err, metadata.NotFound) {
		return nil, err
	}
	deleted := []imgID{newImgID(del.digest, del.tag)}
	img, err := a.d.Store.GetImage(ctx, reg, repo, del.digest)
	if metadata.Is(err, metadata.NotFound) {
		return deleted, nil
	}
	if err != nil || len(img.Tags) > 0 {
		return deleted, err
	}
	parents, err := a.d.Store.ImagesReferencing(ctx, reg, repo, del.digest)
	if err != nil || len(withoutDigest(parents, del.digest)) > 0 {
		return deleted, err // a child of an index stays, untagged
	}
	if err := a.removeImage(ctx, reg, repo, del.digest); err != nil {
		if metadata.Is(err, metadata.Referenced) {
			return deleted, nil
		}
		return nil, err
	}
	gone[del.digest] = true
	return deleted, nil
}

// deleteImage deletes image del.digest with all its tags, unless an index
// in the repository lists it.
func (a *API) deleteImage(ctx context.Context, reg, repo string, del deletion, gone map[string]bool) ([]imgID, *imgFailure, error) {
	img, err := a.d.Store.GetImage(ctx, reg, repo, del.digest)
	if metadata.Is(err, metadata.NotFound) {
		return nil, notFound(del.id), nil
	}
	if err != nil {
		return nil, nil, err
	}
	parents, err := a.d.Store.ImagesReferencing(ctx, reg, repo, del.digest)
	if err != nil {
		return nil, nil, err
	}
	if ps := withoutDigest(parents, del.digest); len(ps) > 0 {
		return nil, &imgFailure{ImageID: del.id, FailureCode: "ImageReferencedByManifestList",
			FailureReason: reasonReferencedBy + strings.Join(ps, ", ")}, nil
	}
	if err := a.removeImage(ctx, reg, repo, del.digest); err != nil {
		if metadata.Is(err, metadata.Referenced) {
			return nil, &imgFailure{ImageID: del.id, FailureCode: "ImageReferencedByManifestList",
				FailureReason: reasonReferencedBy + "an index pushed meanwhile"}, nil
		}
		return nil, nil, err
	}
	gone[del.digest] = true
	var deleted []imgID
	for _, t := range img.Tags {
		deleted = append(deleted, newImgID(del.digest, t))
	}
	if len(deleted) == 0 {
		deleted = []imgID{newImgID(del.digest, "")}
	}
	return deleted, nil, nil
}

// removeImage deletes a manifest from storage, then from the store:
// storage first, so a failure leaves the image listed and deletable again
// rather than listed nowhere yet stored.
func (a *API) removeImage(ctx context.Context, reg, repo, dgst string) error {
	err := a.d.Registry.DeleteManifest(ctx, reg, repo, dgst)
	if err != nil && !errors.Is(err, ErrManifestUnknown) {
		return a.registryErr(err, reg, repo)
	}
	err = a.d.Store.DeleteImage(ctx, reg, repo, dgst)
	if metadata.Is(err, metadata.NotFound) {
		return nil // recorded by the registry path already
	}
	return err
}

func withoutDigest(ds []string, d string) []string {
	return slices.DeleteFunc(slices.Clone(ds), func(x string) bool { return x == d })
}

type listImageReferrersIn struct {
	RepositoryName string `json:"repositoryName"`
	SubjectID      *struct {
		ImageDigest *string `json:"imageDigest"`
	} `json:"subjectId"`
	Filter *struct {
		ArtifactTypes  []string `json:"artifactTypes"`
		ArtifactStatus *string  `json:"artifactStatus"`
	} `json:"filter"`
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

// imgReferrer is ECR's ImageReferrer.
type imgReferrer struct {
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

type listImageReferrersOut struct {
	Referrers []imgReferrer `json:"referrers"`
	NextToken string        `json:"nextToken,omitempty"`
}

const (
	defaultReferrerPage = 20
	maxReferrerPage     = 50
	// referrerScans bounds the store pages one call reads when several
	// artifact types are filtered in process; a short page with a token
	// is a valid answer.
	referrerScans = 10
)

func (a *API) listImageReferrers(ctx context.Context, req *Request) (any, error) {
	var in listImageReferrersIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	if in.SubjectID == nil {
		return nil, missingParam("subjectId")
	}
	if in.SubjectID.ImageDigest == nil {
		return nil, missingParam("subjectId.imageDigest")
	}
	subject := *in.SubjectID.ImageDigest
	if !imageDigestRE.MatchString(subject) {
		return nil, invalidParam("subjectId.imageDigest", "must satisfy regular expression '"+imageDigestPattern+"'")
	}
	var types []string
	none := false
	if f := in.Filter; f != nil {
		if len(f.ArtifactTypes) > 5 {
			return nil, invalidParam("filter.artifactTypes", "Member must have length less than or equal to 5")
		}
		for _, t := range f.ArtifactTypes {
			if n := utf8.RuneCountInString(t); n < 1 || n > 255 {
				return nil, invalidParam("filter.artifactTypes", "Member must have length between 1 and 255")
			}
		}
		types = slices.Compact(slices.Sorted(slices.Values(f.ArtifactTypes)))
		if f.ArtifactStatus != nil {
			switch *f.ArtifactStatus {
			case "ACTIVE", "ANY":
			case "ARCHIVED", "ACTIVATING":
				none = true
			default:
				return nil, invalidParam("filter.artifactStatus", "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]")
			}
		}
	}
	scope := reg + "/" + name + "/" + subject + "/" + strings.Join(types, "\n")
	limit, after, err := a.pageParams("ListImageReferrers", scope, in.MaxResults, in.NextToken, maxReferrerPage)
	if err != nil {
		return nil, err
	}
	if in.MaxResults == nil {
		limit = defaultReferrerPage
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	out := listImageReferrersOut{Referrers: []imgReferrer{}}
	if none {
		return out, nil
	}
	one := ""
	if len(types) == 1 {
		one = types[0]
	}
	next := after
	for scans := 0; scans < referrerScans && len(out.Referrers) < limit; scans++ {
		// Asking for exactly what is still missing keeps every match of a
		// page in the answer, so the store's cursor resumes after it.
		imgs, cursor, err := a.d.Store.Referrers(ctx, reg, name, subject, one, metadata.Page{Limit: limit - len(out.Referrers), After: next})
		if err != nil {
			return nil, a.storeErr(err, reg, name)
		}
		for _, img := range imgs {
			if len(types) > 1 && !slices.Contains(types, img.ArtifactType) {
				continue
			}
			out.Referrers = append(out.Referrers, imgReferrer{
				Digest: img.Digest, MediaType: img.MediaType, ArtifactType: img.ArtifactType,
				Size: img.ManifestSize, Annotations: img.Annotations, ArtifactStatus: "ACTIVE",
			})
		}
		next = cursor
		if next == "" {
			break
		}
	}
	out.NextToken = a.encodeToken("ListImageReferrers", scope, next)
	return out, nil
}
