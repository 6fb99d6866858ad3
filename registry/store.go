package registry

import (
	"context"
	"time"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// GateStore is what the /v2 gate asks the metadata store: whether a
// repository exists, the catalog, account settings (BLOB_MOUNTING) and,
// for create-on-push, the creation templates and the repository they make.
type GateStore interface {
	ecrmodel.SettingReader
	ecrmodel.RepositoryCreator
	GetRepository(ctx context.Context, registryID, name string) (metadata.Repository, error)
	ListRepositories(ctx context.Context, registryID string, p metadata.Page) ([]metadata.Repository, string, error)
}

// MetaStore is what the metadata middleware and the ECR backend read and
// write: manifests, tags and images, pull times, blob links and uploads,
// and the leases that keep one writer per upload.
type MetaStore interface {
	GetRepository(ctx context.Context, registryID, name string) (metadata.Repository, error)
	GetImage(ctx context.Context, registryID, repo, digest string) (metadata.Image, error)
	ResolveTag(ctx context.Context, registryID, repo, tag string) (string, error)
	TagImage(ctx context.Context, registryID, repo, tag, digest string) (previous string, err error)
	Untag(ctx context.Context, registryID, repo, tag, digest string) (string, error)
	PutManifest(ctx context.Context, w metadata.ManifestWrite) (metadata.ManifestPut, error)
	ResolveManifest(ctx context.Context, registryID, repo, ref string) (metadata.ManifestRef, error)
	ListTags(ctx context.Context, registryID, repo string, p metadata.Page) ([]string, string, error)
	ExpireImage(ctx context.Context, registryID, repo, digest string, tags []string) error
	DeleteImage(ctx context.Context, registryID, repo, digest string) error
	ListImages(ctx context.Context, registryID, repo string, status metadata.TagStatus, p metadata.Page) ([]metadata.Image, string, error)
	Referrers(ctx context.Context, registryID, repo, subject, artifactType string, p metadata.Page) ([]metadata.Image, string, error)
	RecordPulls(ctx context.Context, pulls []metadata.Pull) error

	RecordBlob(ctx context.Context, l metadata.BlobLink, size int64, aliases []string, event string) error
	ResolveBlob(ctx context.Context, ref string) (string, error)
	TouchBlob(ctx context.Context, registryID, repo, ref string) (string, error)
	EnsureBlobLinks(ctx context.Context, links []metadata.BlobLink) error
	RecordUpload(ctx context.Context, u metadata.Upload) error
	ForgetUpload(ctx context.Context, id string) error

	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}
