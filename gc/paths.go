package gc

import (
	"path"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// distribution's storage layout (registry/storage/paths.go), which berth
// keeps: blobs by digest, and per repository the links to them.
const root = "/docker/registry/v2"

// blobDir holds a blob's data.
func blobDir(d digest.Digest) string {
	hex := d.Encoded()
	return path.Join(root, "blobs", d.Algorithm().String(), hex[:2], hex)
}

// linkPath is the directory of a repository's link to d.
func linkPath(repo string, kind metadata.LinkKind, d digest.Digest) string {
	if kind == metadata.LinkManifest {
		return path.Join(root, "repositories", repo, "_manifests", "revisions", d.Algorithm().String(), d.Encoded())
	}
	return path.Join(root, "repositories", repo, "_layers", d.Algorithm().String(), d.Encoded())
}

// uploadDir is an upload's state and data.
func uploadDir(repo, id string) string {
	return path.Join(root, "repositories", repo, "_uploads", id)
}
