// Package metadata is berth's source of truth for everything that is not a
// blob: registries, repositories and their settings, images and tags,
// policies, lifecycle previews, creation templates, settings and API access
// keys. One schema runs on two engines: SQLite (embedded default, a file in
// the data dir) and PostgreSQL (several berth nodes sharing one registry).
// Every list query is indexed and keyset-paginated; nothing here walks the
// bucket.
package metadata

import (
	"context"
	"slices"
	"time"
)

// Store is the metadata store. Implementations: Open("sqlite", path) and
// Open("postgres", dsn). All methods are safe for concurrent use, and each
// one is a single transaction.
type Store interface {
	// Engine is "sqlite" or "postgres".
	Engine() string
	Ping(ctx context.Context) error
	Close() error

	// EnsureRegistry records a registry (an account's private registry)
	// if it is not known yet.
	EnsureRegistry(ctx context.Context, registryID string) error

	// CreateRepository stores r (RegistryID, Name and settings; CreatedAt
	// is set by the store when zero). Kind AlreadyExists if present.
	CreateRepository(ctx context.Context, r Repository) (Repository, error)
	// GetRepository: Kind NotFound if absent.
	GetRepository(ctx context.Context, registryID, name string) (Repository, error)
	// ListRepositories returns repositories ordered by name, after
	// p.After (exclusive), at most p.Limit; Next is the last name returned
	// when more follow, else "".
	ListRepositories(ctx context.Context, registryID string, p Page) ([]Repository, string, error)
	// UpdateRepository applies fn to the stored repository inside one
	// transaction and stores the result (Name, RegistryID and CreatedAt
	// cannot change). fn's error aborts and is returned as is.
	UpdateRepository(ctx context.Context, registryID, name string, fn func(*Repository) error) (Repository, error)
	// DeleteRepository removes the repository with its tags, images,
	// repository and lifecycle policies and preview. Without force, a
	// repository holding images is Kind NotEmpty. Returns the repository
	// as it was and the digests of the images it held.
	DeleteRepository(ctx context.Context, registryID, name string, force bool) (Repository, []string, error)

	// PutImage records a manifest stored in repository img.Repository
	// (insert, or update of everything but PushedAt and LastPull when the
	// digest is known). Returns whether the image is new. The repository
	// must exist (Kind NotFound otherwise).
	PutImage(ctx context.Context, img Image) (created bool, err error)
	// GetImage: Kind NotFound if absent. Tags are filled.
	GetImage(ctx context.Context, registryID, repo, digest string) (Image, error)
	// ResolveTag returns the digest a tag points at (Kind NotFound).
	ResolveTag(ctx context.Context, registryID, repo, tag string) (string, error)
	// TagImage points tag at digest (the image must exist: Kind NotFound).
	// When the tag already points at another digest and the repository's
	// tag rule (WithTagRule) forbids moving it, it is
	// Kind ImmutableTag and nothing changes. Returns the digest the tag
	// pointed at before ("" if new). Moving a tag sets the tag's pushed
	// time.
	TagImage(ctx context.Context, registryID, repo, tag, digest string) (previous string, err error)
	// Untag removes a tag (Kind NotFound if absent) and returns the digest
	// it pointed at. With digest set, it removes the tag only while it
	// still points at that image (Kind Changed otherwise). The image
	// itself stays.
	Untag(ctx context.Context, registryID, repo, tag, digest string) (string, error)
	// PutManifest records a pushed manifest, its alias and its tag in one
	// transaction (see ManifestWrite).
	PutManifest(ctx context.Context, w ManifestWrite) (ManifestPut, error)
	// ResolveManifest resolves a tag or digest (or digest alias) of repo
	// to the manifest it names (Kind NotFound).
	ResolveManifest(ctx context.Context, registryID, repo, ref string) (ManifestRef, error)
	// ListTags lists a repository's tags in order (Kind NotFound for a
	// repository that does not exist).
	ListTags(ctx context.Context, registryID, repo string, p Page) ([]string, string, error)
	// ExpireImage deletes an image only while it carries exactly tags
	// (sorted; nil for none): Kind Changed otherwise.
	ExpireImage(ctx context.Context, registryID, repo, digest string, tags []string) error
	// DeleteImage removes an image and its tags. An image that an index
	// (ImageIndex children) in the same repository references is Kind
	// Referenced; an absent one Kind NotFound.
	DeleteImage(ctx context.Context, registryID, repo, digest string) error
	// ListImageIDs lists (digest, tag) pairs: one per tag of each tagged
	// image and one with Tag "" per untagged image, filtered by status,
	// ordered by (digest, tag). The cursor is opaque to callers.
	ListImageIDs(ctx context.Context, registryID, repo string, status TagStatus, p Page) ([]ImageID, string, error)
	// ListImages lists images (Tags filled, sorted) ordered by digest,
	// filtered by status.
	ListImages(ctx context.Context, registryID, repo string, status TagStatus, p Page) ([]Image, string, error)
	// Referrers lists the images in repo whose Subject is subject, ordered
	// by digest; artifactType "" means any.
	Referrers(ctx context.Context, registryID, repo, subject, artifactType string, p Page) ([]Image, string, error)
	// RecordPulls stores last-recorded-pull times (keeps the later of the
	// stored and the given time). Unknown images are skipped.
	RecordPulls(ctx context.Context, pulls []Pull) error
	// ImagesReferencing returns the digests of images in repo that list
	// digest among their Children (manifest lists / indexes).
	ImagesReferencing(ctx context.Context, registryID, repo, digest string) ([]string, error)

	// Policy texts: PolicyRepository and PolicyLifecycle are per
	// repository; PolicyRegistry has repo "". GetPolicy/DeletePolicy: Kind
	// NotFound when none is set. PutPolicy on a missing repository: Kind
	// NotFound.
	GetPolicy(ctx context.Context, kind PolicyKind, registryID, repo string) (Policy, error)
	PutPolicy(ctx context.Context, kind PolicyKind, registryID, repo, text string) (Policy, error)
	DeletePolicy(ctx context.Context, kind PolicyKind, registryID, repo string) (Policy, error)

	// Lifecycle previews, one per repository (replaced by each start).
	PutLifecyclePreview(ctx context.Context, pv LifecyclePreview) error
	GetLifecyclePreview(ctx context.Context, registryID, repo string) (LifecyclePreview, error)

	// Repository creation templates, keyed by (registry, prefix). Create:
	// Kind AlreadyExists; Get/Update/Delete: Kind NotFound. ListTemplates
	// orders by prefix.
	CreateTemplate(ctx context.Context, t Template) (Template, error)
	GetTemplate(ctx context.Context, registryID, prefix string) (Template, error)
	ListTemplates(ctx context.Context, registryID string, p Page) ([]Template, string, error)
	UpdateTemplate(ctx context.Context, registryID, prefix string, fn func(*Template) error) (Template, error)
	DeleteTemplate(ctx context.Context, registryID, prefix string) (Template, error)

	// Settings are per-registry name/value pairs (account settings,
	// registry scanning configuration as JSON, ...). GetSetting reports
	// ok=false when unset.
	GetSetting(ctx context.Context, registryID, name string) (value string, ok bool, err error)
	PutSetting(ctx context.Context, registryID, name, value string) error

	// Access keys for SigV4. Secret is sealed by the caller; the store
	// never sees it in the clear. CreateAccessKey: Kind AlreadyExists.
	CreateAccessKey(ctx context.Context, k AccessKey) error
	GetAccessKey(ctx context.Context, id string) (AccessKey, error)
	// ListAccessKeys lists the keys of one principal ARN ("" = all).
	ListAccessKeys(ctx context.Context, principal string) ([]AccessKey, error)
	// SetAccessKeyStatus sets Active/Inactive; DeleteAccessKey removes.
	SetAccessKeyStatus(ctx context.Context, id, status string) error
	DeleteAccessKey(ctx context.Context, id string) error

	IAM
	OIDC
	Coordination
	Blobs
	PullThrough
}

// Blobs is blob accounting and the garbage collector's queue (see
// blobs.go and gc.go).
type Blobs interface {
	// RecordBlob records a repository's link to a blob before the content
	// work that makes it true, and queues the blob's review.
	RecordBlob(ctx context.Context, l BlobLink, size int64, aliases []string, event string) error
	// ResolveBlob maps an alias (sha512 name) to its canonical digest.
	ResolveBlob(ctx context.Context, ref string) (string, error)
	// TouchBlob pushes out a near review of a blob a client asked about.
	TouchBlob(ctx context.Context, registryID, repo, ref string) (string, error)
	// EnsureBlobLinks records a manifest push's blobs before its content
	// is checked.
	EnsureBlobLinks(ctx context.Context, links []BlobLink) error

	ClaimReviews(ctx context.Context, now time.Time, owner string, ttl time.Duration, limit int) ([]string, error)
	PlanCollection(ctx context.Context, digest, owner string, now time.Time) (Collection, error)
	FinishCollection(ctx context.Context, c Collection, owner string) error
	PostponeReview(ctx context.Context, digest, owner string, after func(failures int) time.Time, why string) error
	ReleaseReview(ctx context.Context, digest, owner string) error
	GCStatus(ctx context.Context, now time.Time) (GCStatus, error)
	PreviewCollections(ctx context.Context, now time.Time, limit int) ([]Collection, error)
	Adopted(ctx context.Context) (bool, error)
	AdoptImages(ctx context.Context, resolve BlobResolver, limit int) (bool, error)

	RecordUpload(ctx context.Context, u Upload) error
	ForgetUpload(ctx context.Context, id string) error
	ClaimIdleUploads(ctx context.Context, idleSince, now time.Time, owner string, ttl time.Duration, limit int) ([]Upload, error)
	ForgetIdleUpload(ctx context.Context, id string, idleSince time.Time) (bool, error)
}

// Coordination is how nodes sharing the store divide background work and
// serialize writers of one upload.
type Coordination interface {
	// AcquireLease takes lease name for owner for ttl when free, expired
	// or already owner's; it reports whether owner holds it.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// RenewLease extends owner's lease; false when owner lost it.
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives up owner's lease.
	ReleaseLease(ctx context.Context, name, owner string) error
	// PruneLeases removes leases that expired before cutoff.
	PruneLeases(ctx context.Context, cutoff time.Time) (int64, error)

	// DueLifecycleRuns lists repositories of every registry with a
	// lifecycle policy due at now, oldest first.
	DueLifecycleRuns(ctx context.Context, now time.Time, limit int) ([]RepoKey, error)
	// LifecycleRunDue reports whether one repository's run is due.
	LifecycleRunDue(ctx context.Context, registryID, repo string, now time.Time) (bool, error)
	// FinishLifecycleRun records a run and releases its lease.
	FinishLifecycleRun(ctx context.Context, registryID, repo string, evaluated, next time.Time, leaseName, owner string) error
	// LifecycleLastEvaluated is when repo's policy was last evaluated.
	LifecycleLastEvaluated(ctx context.Context, registryID, repo string) (time.Time, error)
}

// Page asks for at most Limit entries after the cursor After ("" = from
// the start). Limit <= 0 means 100.
type Page struct {
	Limit int
	After string
}

// TagStatus filters images: TagAny, TagTagged, TagUntagged.
type TagStatus string

const (
	TagAny      TagStatus = "ANY"
	TagTagged   TagStatus = "TAGGED"
	TagUntagged TagStatus = "UNTAGGED"
)

// Tag mutability modes (ECR's ImageTagMutability).
const (
	Mutable                = "MUTABLE"
	Immutable              = "IMMUTABLE"
	ImmutableWithExclusion = "IMMUTABLE_WITH_EXCLUSION"
	MutableWithExclusion   = "MUTABLE_WITH_EXCLUSION"
)

// Repository is an ECR repository.
type Repository struct {
	RegistryID string
	Name       string
	CreatedAt  time.Time
	// TagMutability is one of the mode constants ("" is MUTABLE).
	TagMutability string
	// MutabilityExclusions are WILDCARD filters ('*' matches any run of
	// characters) naming tags exempt from TagMutability.
	MutabilityExclusions []string
	ScanOnPush           bool
	// EncryptionType is AES256 (default), KMS or KMS_DSSE; KMSKey the key.
	EncryptionType string
	KMSKey         string
	// Tags are the resource tags, in the order given.
	Tags []ResourceTag
	// ImageCount is filled by GetRepository and ListRepositories.
	ImageCount int64
}

// ResourceTag is an AWS resource tag.
type ResourceTag struct{ Key, Value string }

// SetTags sets add on tags as every TagResource does: a key already there
// takes the new value in place, a new key is appended.
func SetTags(tags, add []ResourceTag) []ResourceTag {
	for _, t := range add {
		if i := slices.IndexFunc(tags, func(o ResourceTag) bool { return o.Key == t.Key }); i >= 0 {
			tags[i].Value = t.Value
		} else {
			tags = append(tags, t)
		}
	}
	return tags
}

// RemoveTags drops the tags with the given keys (UntagResource).
func RemoveTags(tags []ResourceTag, keys []string) []ResourceTag {
	return slices.DeleteFunc(tags, func(t ResourceTag) bool { return slices.Contains(keys, t.Key) })
}

// Image is a manifest stored in a repository.
type Image struct {
	RegistryID string
	Repository string
	Digest     string // sha256:… of the exact manifest bytes (or sha512:…)
	MediaType  string // the manifest's media type
	// ArtifactType is the manifest's artifactType, else its config's
	// media type ("" for indexes without artifactType).
	ArtifactType string
	ManifestSize int64 // size of the manifest bytes
	// Size is what ECR reports as imageSizeInBytes: the sum of the layer
	// sizes (for an index, the sum over its children known here).
	Size     int64
	PushedAt time.Time
	LastPull time.Time // zero: never pulled
	// Subject is the digest of the manifest this one refers to (OCI 1.1
	// referrers), "" when none.
	Subject string
	// Annotations are the manifest's annotations (nil when none).
	Annotations map[string]string
	// Children are the digests of the manifests an index lists.
	Children []string
	// Blobs are the digests of the config and layers the manifest lists.
	Blobs []string
	// Tags are the tags pointing at this image, sorted (filled by reads).
	Tags []string
}

// ImageID is one entry of ListImageIDs.
type ImageID struct{ Digest, Tag string }

// Pull is one manifest fetch to record.
type Pull struct {
	RegistryID, Repository, Digest string
	At                             time.Time
}

// PolicyKind names a stored policy.
type PolicyKind string

const (
	PolicyRepository PolicyKind = "repository"
	PolicyLifecycle  PolicyKind = "lifecycle"
	PolicyRegistry   PolicyKind = "registry"
)

// Policy is a stored policy text.
type Policy struct {
	Kind       PolicyKind
	RegistryID string
	Repository string
	Text       string
	UpdatedAt  time.Time
}

// LifecyclePreview is the result of a lifecycle policy preview.
type LifecyclePreview struct {
	RegistryID, Repository string
	PolicyText             string
	Status                 string // IN_PROGRESS | COMPLETE | EXPIRED | FAILED
	StartedAt              time.Time
	// Results is the preview's result list as JSON (ecrapi's shape).
	Results string
}

// Template is a repository creation template.
type Template struct {
	RegistryID           string
	Prefix               string // "ROOT" or a repository-name prefix
	Description          string
	AppliedFor           []string // CREATE_ON_PUSH, PULL_THROUGH_CACHE, REPLICATION
	TagMutability        string
	MutabilityExclusions []string
	EncryptionType       string
	KMSKey               string
	ResourceTags         []ResourceTag
	RepositoryPolicy     string
	LifecyclePolicy      string
	CustomRoleArn        string
	CreatedAt, UpdatedAt time.Time
}

// AccessKey is an API access key.
type AccessKey struct {
	ID        string // AKIA…
	Secret    []byte // sealed by the caller
	Principal string // ARN of the user the key belongs to
	Account   string // 12-digit account id
	Status    string // Active | Inactive
	CreatedAt time.Time
}

// Key status values.
const (
	KeyActive   = "Active"
	KeyInactive = "Inactive"
)
