package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/ecrmodel"
)

// Registry is the embedded registry as the API uses it: manifests and
// blobs go through the same code (validation, storage, metadata
// recording, tag immutability, blob accounting) as the /v2 path.
// registry.ECRBackend implements it in process; its errors are
// ecrmodel's typed values.
type Registry interface {
	// GetManifest returns the manifest ref (a tag or digest) of repo in
	// registryID, negotiated against accept (empty: any). It records a pull.
	GetManifest(ctx context.Context, registryID, repo, ref string, accept []string) (ecrmodel.Manifest, error)
	// PutManifest stores body as a manifest of mediaType (empty: detected
	// from the body) under tag (empty: by digest only) and returns its
	// digest. Tag immutability violations are ecrmodel.ErrTagImmutable.
	PutManifest(ctx context.Context, registryID, repo, tag, mediaType string, body []byte) (string, error)
	// StatBlob reports the size of blob digest if repo holds it.
	StatBlob(ctx context.Context, registryID, repo, digest string) (size int64, err error)
	// InitiateUpload starts a layer upload; the id is a UUID.
	InitiateUpload(ctx context.Context, registryID, repo string) (uploadID string, err error)
	// UploadPart appends data at byte offset first (which must equal the
	// bytes received so far: else *ecrmodel.PartError) and returns the last byte
	// received.
	UploadPart(ctx context.Context, registryID, repo, uploadID string, first int64, data []byte) (last int64, err error)
	// CompleteUpload commits the upload as blob digest.
	CompleteUpload(ctx context.Context, registryID, repo, uploadID, digest string) error
	// DeleteManifest removes manifest digest and every tag naming it;
	// with ifUntagged, only while no tag names it (metadata Kind Changed
	// otherwise). An image an index lists is metadata Kind Referenced.
	DeleteManifest(ctx context.Context, registryID, repo, digest string, ifUntagged bool) error
	// DeleteRepository removes repo's manifests, tags and blob links from
	// storage (blobs themselves are left to garbage collection).
	DeleteRepository(ctx context.Context, registryID, repo string) error
	// DownloadURL returns a short-lived URL that serves blob digest of
	// repo without other credentials.
	DownloadURL(ctx context.Context, registryID, repo, digest string) (string, error)
}
