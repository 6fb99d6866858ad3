package ecrapi

import (
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/ecrmodel"
)

// The image operations. Manifests are stored and read through the
// Registry (the /v2 path, which records images and tags in the metadata
// store); listings and descriptions read the store.

func (a *API) registerImageOps() {
	a.add(op("PutImage", onRepository, a.putImage))
	a.add(op("BatchGetImage", onRepository, a.batchGetImage))
	a.add(op("ListImages", onRepository, a.listImages))
	a.add(op("DescribeImages", onRepository, a.describeImages))
	a.add(op("BatchDeleteImage", onRepository, a.batchDeleteImage))
	// The model: "must have the ecr:BatchGetImage permission".
	a.add(op("ListImageReferrers", onRepository, a.listImageReferrers).withAction("ecr:BatchGetImage"))
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
	if errors.Is(err, ecrmodel.ErrRepositoryUnknown) {
		return a.repoNotFound(reg, repo)
	}
	return err
}
