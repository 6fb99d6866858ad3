package ecrapi

import (
	"context"
	"time"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// Store is what the ECR API reads and writes in the metadata store; the
// node passes the whole metadata.Store, tests may pass less. Manifests,
// blobs and uploads are not here: they go through the Registry, the /v2
// path, which records them.
type Store interface {
	RepositoryStore
	ImageStore
	PolicyStore
	TemplateStore
	ecrmodel.SettingReader
	PutSetting(ctx context.Context, registryID, name, value string) error
}

// RepositoryStore is repositories and the registries that hold them.
type RepositoryStore interface {
	EnsureRegistry(ctx context.Context, registryID string) error
	CreateRepository(ctx context.Context, r metadata.Repository) (metadata.Repository, error)
	GetRepository(ctx context.Context, registryID, name string) (metadata.Repository, error)
	ListRepositories(ctx context.Context, registryID string, p metadata.Page) ([]metadata.Repository, string, error)
	UpdateRepository(ctx context.Context, registryID, name string, fn func(*metadata.Repository) error) (metadata.Repository, error)
	DeleteRepository(ctx context.Context, registryID, name string, force bool) (metadata.Repository, []string, error)
}

// ImageStore is what the image operations read (images, tags, listings,
// referrers) and the one write they make themselves: removing a tag.
type ImageStore interface {
	GetImage(ctx context.Context, registryID, repo, digest string) (metadata.Image, error)
	ResolveTag(ctx context.Context, registryID, repo, tag string) (string, error)
	Untag(ctx context.Context, registryID, repo, tag, digest string) (string, error)
	ListImageIDs(ctx context.Context, registryID, repo string, status metadata.TagStatus, p metadata.Page) ([]metadata.ImageID, string, error)
	ListImages(ctx context.Context, registryID, repo string, status metadata.TagStatus, p metadata.Page) ([]metadata.Image, string, error)
	Referrers(ctx context.Context, registryID, repo, subject, artifactType string, p metadata.Page) ([]metadata.Image, string, error)
	ImagesReferencing(ctx context.Context, registryID, repo, digest string) ([]string, error)
}

// PolicyStore is repository, registry and lifecycle policies, and
// lifecycle previews.
type PolicyStore interface {
	GetPolicy(ctx context.Context, kind metadata.PolicyKind, registryID, repo string) (metadata.Policy, error)
	PutPolicy(ctx context.Context, kind metadata.PolicyKind, registryID, repo, text string) (metadata.Policy, error)
	DeletePolicy(ctx context.Context, kind metadata.PolicyKind, registryID, repo string) (metadata.Policy, error)
	PutLifecyclePreview(ctx context.Context, pv metadata.LifecyclePreview) error
	GetLifecyclePreview(ctx context.Context, registryID, repo string) (metadata.LifecyclePreview, error)
	LifecycleLastEvaluated(ctx context.Context, registryID, repo string) (time.Time, error)
}

// TemplateStore is repository creation templates.
type TemplateStore interface {
	CreateTemplate(ctx context.Context, t metadata.Template) (metadata.Template, error)
	GetTemplate(ctx context.Context, registryID, prefix string) (metadata.Template, error)
	ListTemplates(ctx context.Context, registryID string, p metadata.Page) ([]metadata.Template, string, error)
	UpdateTemplate(ctx context.Context, registryID, prefix string, fn func(*metadata.Template) error) (metadata.Template, error)
	DeleteTemplate(ctx context.Context, registryID, prefix string) (metadata.Template, error)
}

// The whole store serves the API.
var _ Store = metadata.Store(nil)
