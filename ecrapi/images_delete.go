package ecrapi

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// BatchDeleteImage: by tag only the tag goes; the last tag takes the image; an image an index lists stays.

type batchDeleteImageIn struct {
	scopeIn
	ImageIDs []imgID `json:"imageIds"`
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
func (a *API) batchDeleteImage(ctx context.Context, req *Request, in *batchDeleteImageIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
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

// untagImage removes del.tag (only while it still names del.digest), and
// the image with it when that was its last tag and no index lists it.
func (a *API) untagImage(ctx context.Context, reg, repo string, del deletion, gone map[string]bool) ([]imgID, error) {
	// Tags live in the store alone.
	_, err := a.d.Store.Untag(ctx, reg, repo, del.tag, del.digest)
	if err != nil && !metadata.Is(err, metadata.NotFound) && !metadata.Is(err, metadata.Changed) {
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
	// Only while still untagged: a push may tag it again meanwhile.
	if err := a.removeImage(ctx, reg, repo, del.digest, true); err != nil {
		if metadata.Is(err, metadata.Referenced) || metadata.Is(err, metadata.Changed) {
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
	if err := a.removeImage(ctx, reg, repo, del.digest, false); err != nil {
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

// removeImage deletes a manifest through the registry, which removes it
// from the store (every view at once) and then from storage. An image
// gone meanwhile is no failure; metadata Kinds Referenced and Changed come
// back as they are.
func (a *API) removeImage(ctx context.Context, reg, repo, dgst string, ifUntagged bool) error {
	err := a.d.Registry.DeleteManifest(ctx, reg, repo, dgst, ifUntagged)
	switch {
	case err == nil, errors.Is(err, ecrmodel.ErrManifestUnknown):
		return nil
	case metadata.Is(err, metadata.Referenced), metadata.Is(err, metadata.Changed):
		return err
	}
	return a.registryErr(err, reg, repo)
}

func withoutDigest(ds []string, d string) []string {
	return slices.DeleteFunc(slices.Clone(ds), func(x string) bool { return x == d })
}
