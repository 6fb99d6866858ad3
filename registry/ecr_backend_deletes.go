package registry

import (
	"context"
	"fmt"
	"path"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// DeleteManifest removes manifest dgst with its tags (with ifUntagged,
// only while it has none): the store first, then its storage links.
// metadata Kinds Referenced and Changed come back as they are.
func (b *ECRBackend) DeleteManifest(ctx context.Context, registryID, repo, dgst string, ifUntagged bool) error {
	d, err := digest.Parse(dgst)
	if err != nil {
		return fmt.Errorf("%w: %s", ecrmodel.ErrManifestUnknown, dgst)
	}
	var ifTags *[]string
	if ifUntagged {
		ifTags = &[]string{}
	}
	err = b.meta.DeleteManifest(ctx, registryID, repo, d, ifTags)
	switch {
	case metadata.Is(err, metadata.NotFound) && metadata.EntityOf(err) == "repository":
		return fmt.Errorf("%w: %s", ecrmodel.ErrRepositoryUnknown, repo)
	case metadata.Is(err, metadata.NotFound):
		return fmt.Errorf("%w: %s", ecrmodel.ErrManifestUnknown, dgst)
	}
	return err
}

// DeleteRepository removes everything distribution keeps for repo (its
// manifests' links, layer links, uploads). The store forgot the
// repository first; blobs stay for garbage collection.
func (b *ECRBackend) DeleteRepository(ctx context.Context, registryID, repo string) error {
	// The name becomes a storage path: only a valid name may get there.
	if !validName(repo) {
		return fmt.Errorf("%w: invalid name %q", ecrmodel.ErrRepositoryUnknown, repo)
	}
	err := b.driver.Delete(ctx, path.Join(repositoriesRoot, repo))
	if err != nil && !isPathNotFound(err) {
		return err
	}
	return nil
}
