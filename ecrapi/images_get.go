package ecrapi

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// BatchGetImage: manifests by digest or tag, as the accepted media types allow.

type batchGetImageIn struct {
	scopeIn
	ImageIDs           []imgID  `json:"imageIds"`
	AcceptedMediaTypes []string `json:"acceptedMediaTypes"`
}

type batchGetImageOut struct {
	Images   []imgOut     `json:"images"`
	Failures []imgFailure `json:"failures"`
}

// batchGetImage returns the manifests the ids name; a digest names the
// image once per tag it carries, as ECR answers.
func (a *API) batchGetImage(ctx context.Context, req *Request, in *batchGetImageIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
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
	case errors.Is(err, ecrmodel.ErrManifestUnknown):
		return nil, notFound(id), nil
	case errors.Is(err, ecrmodel.ErrMediaTypeNotAccepted):
		return nil, &imgFailure{ImageID: id, FailureCode: "UnsupportedImageType", FailureReason: reasonNotAccepted}, nil
	case err != nil:
		return nil, nil, a.registryErr(err, reg, repo)
	}
	if d != "" && t != "" && m.Digest != d {
		return nil, &imgFailure{ImageID: id, FailureCode: "ImageTagDoesNotMatchDigest", FailureReason: reasonTagMismatch}, nil
	}
	tags := []string{t}
	mediaType := m.MediaType
	declared, _ := declaredMediaType(m.Body)
	if t == "" || declared == "" {
		// By digest: once per tag, or once untagged. The store decides
		// whether the image exists: storage may still serve a manifest
		// deleted behind the App's descriptor cache. A manifest without a
		// mediaType field has the type PutImage recorded for it
		// (imageManifestMediaType); storage knows it only by its shape.
		img, err := a.d.Store.GetImage(ctx, reg, repo, m.Digest)
		if metadata.Is(err, metadata.NotFound) {
			return nil, notFound(id), nil
		}
		if err != nil {
			return nil, nil, err
		}
		if declared == "" && img.MediaType != "" {
			mediaType = img.MediaType
		}
		if t == "" {
			tags = img.Tags
			if len(tags) == 0 {
				tags = []string{""}
			}
		}
	}
	out := make([]imgOut, 0, len(tags))
	for _, tg := range tags {
		out = append(out, imgOut{
			RegistryID: reg, RepositoryName: repo, ImageID: newImgID(m.Digest, tg),
			ImageManifest: string(m.Body), ImageManifestMediaType: mediaType,
		})
	}
	return out, nil, nil
}
