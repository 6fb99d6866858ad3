package ecrapi

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// PutImage: a manifest stored through the registry, with ECR's checks and errors.

type putImageIn struct {
	scopeIn
	ImageManifest          *string `json:"imageManifest"`
	ImageManifestMediaType *string `json:"imageManifestMediaType"`
	ImageTag               *string `json:"imageTag"`
	ImageDigest            *string `json:"imageDigest"`
}

// putImage stores a manifest (and its tag) through the registry, which
// checks its blobs and children and records it; the checks ECR answers
// with its own exceptions come first.
func (a *API) putImage(ctx context.Context, req *Request, in *putImageIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
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
	if tag != "" && ecrmodel.TagImmutable(r, tag) {
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
		return nil, a.putImageErr(err, reg, name, tag)
	}
	return map[string]any{"image": imgOut{
		RegistryID: reg, RepositoryName: name, ImageID: newImgID(got, tag),
		ImageManifest: body, ImageManifestMediaType: mt,
	}}, nil
}

func tagImmutableErr(tag, repo string) *Error {
	return &Error{Type: "ImageTagAlreadyExistsException", Message: ecrmodel.TagImmutableMessage(tag, repo)}
}

// manifestType is the media type PutImage records a manifest with, as ECR
// decides it: the manifest's own mediaType, else imageManifestMediaType,
// which ECR requires for a manifest without one ("If you push an image
// manifest that does not contain the mediaType field, you must specify
// the imageManifestMediaType in the request"); without either, ECR
// answers that the manifest is invalid JSON.
func manifestType(body []byte, param string) (string, error) {
	declared, ok := declaredMediaType(body)
	switch {
	case !ok:
		return "", errorf("InvalidParameterException", invalidJSONManifest)
	case param != "" && declared != "" && param != declared:
		return "", errorf("InvalidParameterException",
			"Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'must match the manifest's mediaType %s'", declared)
	case declared != "":
		return declared, nil
	case param != "":
		return param, nil
	}
	return "", errorf("InvalidParameterException", invalidJSONManifest)
}

// declaredMediaType is the manifest's own mediaType field ("" without
// one); ok is false when the manifest is not a JSON object.
func declaredMediaType(body []byte) (mt string, ok bool) {
	var m struct {
		MediaType *string `json:"mediaType"`
	}
	if json.Unmarshal(body, &m) != nil {
		return "", false
	}
	return deref(m.MediaType), true
}

// putImageErr maps a failed PutManifest to ECR's exception.
func (a *API) putImageErr(err error, reg, repo, tag string) error {
	var unknown *ecrmodel.ManifestRefsUnknownError
	var invalid *ecrmodel.ManifestInvalidError
	switch {
	case errors.Is(err, ecrmodel.ErrTagImmutable):
		return tagImmutableErr(tag, repo)
	case errors.As(err, &unknown) && unknown.Children:
		return errorf("ReferencedImagesNotFoundException",
			"Some of the images referenced by the manifest list do not exist in the repository with name '%s' in the registry with id '%s'", repo, reg)
	case errors.As(err, &unknown):
		return errorf("LayersNotFoundException",
			"Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
			strings.Join(unknown.Digests, ", "), repo, reg)
	case errors.Is(err, ecrmodel.ErrDigestMismatch):
		return errorf("ImageDigestDoesNotMatchException", "The image digest does not match the digest calculated for the image manifest")
	case errors.As(err, &invalid):
		return errorf("InvalidParameterException", "Invalid parameter at 'ImageManifest' failed to satisfy constraint: '%s'", invalid.Error())
	}
	return a.registryErr(err, reg, repo)
}
