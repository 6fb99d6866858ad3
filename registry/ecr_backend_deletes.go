package registry

import (
	"context"
	"errors"
	"path"
	"strconv"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/metadata"
)

// errNoStorage is a deletion that needs the storage driver and metadata
// middleware the backend was built without.
var errNoStorage = errors.New("the ECR backend has no storage (WithStorage)")

// DeleteManifest removes manifest dgst with its tags (with ifUntagged,
// only while it has none): the store first, then its storage links.
// metadata Kinds Referenced and Changed come back as they are.
func (b *ECRBackend) DeleteManifest(ctx context.Context, registryID, repo, dgst string, ifUntagged bool) error {
	const op = "DeleteManifest"
	d, err := digest.Parse(dgst)
	if err != nil {
		return &BackendError{Op: op, Kind: ecrapi.ErrManifestUnknown, Detail: "invalid digest " + strconv.Quote(dgst)}
	}
	if b.meta == nil {
		return &BackendError{Op: op, Err: errNoStorage}
	}
	var ifTags *[]string
	if ifUntagged {
		ifTags = &[]string{}
	}
	err = b.meta.DeleteManifest(ctx, registryID, repo, d, ifTags)
	switch {
	case err == nil:
		return nil
	case metadata.Is(err, metadata.NotFound) && metadata.EntityOf(err) == "repository":
		return &BackendError{Op: op, Kind: ecrapi.ErrRepositoryUnknown, Detail: repo}
	case metadata.Is(err, metadata.NotFound):
		return &BackendError{Op: op, Kind: ecrapi.ErrManifestUnknown, Detail: dgst}
	case metadata.Is(err, metadata.Referenced), metadata.Is(err, metadata.Changed):
		return err
	}
	return &BackendError{Op: op, Err: err}
}

// DeleteRepository removes everything distribution keeps for repo (its
// manifests' links, layer links, uploads). The store forgot the
// repository first; blobs stay for garbage collection.
func (b *ECRBackend) DeleteRepository(ctx context.Context, registryID, repo string) error {
	const op = "DeleteRepository"
	// The name becomes a storage path: only a valid name may get there.
	if !validName(repo) {
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
