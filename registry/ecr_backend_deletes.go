package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path"
	"strconv"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/ecrapi"
)

// DeleteTag removes tag from repo; the manifest stays.
func (b *ECRBackend) DeleteTag(ctx context.Context, registryID, repo, tag string) error {
	const op = "DeleteTag"
	rec := b.call(ctx, registryID, http.MethodDelete, "/v2/"+repo+"/manifests/"+tag, nil, nil)
	switch {
	case rec.code == http.StatusAccepted:
		return nil
	case !deleteRefused(rec):
		return b.fail(op, rec, "")
	}
	r, err := b.repository(ctx, repo)
	if err != nil {
		return &BackendError{Op: op, Err: err}
	}
	switch err := r.Tags(ctx).Untag(ctx, tag); {
	case err == nil:
		return nil
	case isPathNotFound(err) || errors.As(err, new(distribution.ErrTagUnknown)):
		return &BackendError{Op: op, Kind: ecrapi.ErrManifestUnknown, Detail: "tag " + tag}
	default:
		return &BackendError{Op: op, Err: err}
	}
}

// DeleteManifest removes manifest dgst with its tags.
func (b *ECRBackend) DeleteManifest(ctx context.Context, registryID, repo, dgst string) error {
	const op = "DeleteManifest"
	if err := checkDigest(op, dgst); err != nil {
		return err
	}
	rec := b.call(ctx, registryID, http.MethodDelete, "/v2/"+repo+"/manifests/"+dgst, nil, nil)
	switch {
	case rec.code == http.StatusAccepted:
		return nil
	case !deleteRefused(rec):
		return b.fail(op, rec, "")
	}
	if err := b.deleteFallback(ctx, repo, digest.Digest(dgst)); err != nil {
		if errors.Is(err, ecrapi.ErrManifestUnknown) {
			return &BackendError{Op: op, Kind: ecrapi.ErrManifestUnknown, Detail: dgst}
		}
		return &BackendError{Op: op, Err: err}
	}
	return nil
}

// deleteRefused reports the App's answer when deletion is disabled.
func deleteRefused(rec *bufferedResponse) bool {
	return rec.code == http.StatusMethodNotAllowed && firstCode(rec) == "UNSUPPORTED"
}

// deleteFallback deletes a manifest as the App and the edge would (the
// revision link, its tags, its referrers entry and digest aliases), for
// when the App has deletion disabled for registry clients. It cannot clear
// the App's in-memory descriptor cache, so this process's App may serve
// the manifest by digest until it restarts; routing the delete through
// the App (deletion enabled in distribution, refused to clients at the
// gate) avoids that.
func (b *ECRBackend) deleteFallback(ctx context.Context, repo string, d digest.Digest) error {
	r, err := b.repository(ctx, repo)
	if err != nil {
		return err
	}
	canonical := d
	if d.Algorithm() != digest.Canonical {
		if canonical, err = b.aliases.resolveManifest(ctx, repo, d); err != nil {
			if isPathNotFound(err) {
				return ecrapi.ErrManifestUnknown
			}
			return err
		}
	}
	ms, err := r.Manifests(ctx)
	if err != nil {
		return err
	}
	m, err := ms.Get(ctx, canonical)
	if isManifestUnknown(err) {
		return ecrapi.ErrManifestUnknown
	}
	if err != nil {
		return err
	}
	var fields manifestFields // for the subject: none if unreadable
	if _, payload, err := m.Payload(); err == nil {
		if json.Unmarshal(payload, &fields) != nil {
			fields = manifestFields{}
		}
	}
	if err := ms.Delete(ctx, canonical); err != nil && !isManifestUnknown(err) {
		return err
	}
	tags := r.Tags(ctx)
	names, err := tags.Lookup(ctx, v1.Descriptor{Digest: canonical})
	if err != nil {
		return err
	}
	for _, t := range names {
		if err := tags.Untag(ctx, t); err != nil && !isPathNotFound(err) {
			return err
		}
	}
	aliases, err := b.aliases.manifestAliases(ctx, repo, canonical)
	if err != nil {
		return err
	}
	if fields.Subject != nil && fields.Subject.Digest.Validate() == nil {
		for _, dg := range append([]digest.Digest{canonical}, aliases...) {
			if err := b.referrers.Remove(ctx, repo, fields.Subject.Digest, dg); err != nil {
				return err
			}
		}
	}
	return b.aliases.removeManifest(ctx, repo, canonical, aliases)
}

// DeleteRepository removes everything distribution keeps for repo (its
// manifests, tags, layer links, uploads, referrers index). Blobs stay for
// garbage collection. Like deleteFallback it bypasses the App's
// descriptor cache.
func (b *ECRBackend) DeleteRepository(ctx context.Context, registryID, repo string) error {
	const op = "DeleteRepository"
	// The name becomes a storage path: only a valid name may get there.
	if !ociName.MatchString(repo) || len(repo) > reference.RepositoryNameTotalLengthMax {
		return &BackendError{Op: op, Kind: ecrapi.ErrRepositoryUnknown, Detail: "invalid repository name " + strconv.Quote(repo)}
	}
	if b.driver == nil {
		return &BackendError{Op: op, Err: errNoStorage}
	}
	err := b.driver.Delete(ctx, path.Join(repositoriesRoot, repo))
	if err != nil && !isPathNotFound(err) {
		return &BackendError{Op: op, Err: err}
	}
	return nil
}
