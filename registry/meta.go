package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/distribution/distribution/v3"
	repomw "github.com/distribution/distribution/v3/registry/middleware/repository"
	"github.com/distribution/distribution/v3/registry/storage"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// metaName is the repository middleware's registered name.
const metaName = "berth-metadata"

// Meta makes the metadata store the one source of truth of /v2: a
// distribution repository middleware whose ManifestService and TagService
// ask the store which manifests a repository holds and where its tags
// point, and record pushes in one store transaction. Storage keeps content
// only (blobs and manifest bytes, by digest): a push writes content first
// and then the rows, a delete removes the rows first and then the links to
// content, so a crash or a failed storage call at any point leaves nothing
// listed that cannot be pulled.
type Meta struct {
	store MetaStore
	log   *slog.Logger
	cache *manifestCache
	pulls *pullRecorder
	// ns reads and unlinks content outside a request (deletes, lifecycle
	// expiry); the App has its own namespace over the same driver.
	ns      distribution.Namespace
	aliases *digestAliases
}

// NewMeta builds the middleware over st and the storage driver drv, and
// starts batching pull times; Close flushes them.
func NewMeta(st MetaStore, drv storagedriver.StorageDriver, log *slog.Logger) (*Meta, error) {
	ns, err := storage.NewRegistry(context.Background(), drv, namespaceOptions()...)
	if err != nil {
		return nil, fmt.Errorf("registry: storage namespace: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Meta{
		store: st, log: log, cache: newManifestCache(0),
		pulls: newPullRecorder(st, log), ns: ns, aliases: &digestAliases{driver: drv},
	}, nil
}

// Close stops the pull recorder after a last flush.
func (m *Meta) Close() { m.pulls.close() }

// Flush writes the pull times recorded so far.
func (m *Meta) Flush(ctx context.Context) { m.pulls.flush(ctx) }

// registerMeta registers the middleware factory; the Meta travels in the
// options (distribution creates middlewares by name).
func registerMeta() {
	_ = repomw.Register(metaName, func(_ context.Context, repo distribution.Repository, opts map[string]any) (distribution.Repository, error) {
		m, ok := opts["instance"].(*Meta)
		if !ok || m == nil {
			return nil, errors.New("berth-metadata middleware: no Meta instance in its options")
		}
		// The factory's ctx is the App's: the request's gate information
		// is read from the contexts the services are called with.
		return m.wrap(repo), nil
	})
}

// wrap is repository r as the store sees it.
func (m *Meta) wrap(r distribution.Repository) *storeRepo {
	return &storeRepo{Repository: r, meta: m, known: map[string]metadata.ManifestRef{}}
}

// storeRepo is one request's view of a repository. distribution builds it
// per request, so it may remember what the request resolved (a HEAD by tag
// then costs one store read).
type storeRepo struct {
	distribution.Repository
	meta *Meta

	mu     sync.Mutex
	known  map[string]metadata.ManifestRef // ref → what the store said
	tagged taggedBy                        // the tag this request's push moved
}

type taggedBy struct {
	tag    string
	digest digest.Digest
}

// errNoGate: a request reached the App without the gate's information; a
// wiring bug, never a client's doing.
var errNoGate = errors.New("metadata: request reached the registry without passing the gate")

func (r *storeRepo) name() string { return r.Named().Name() }

// resolve asks the store for ref (tag, digest or alias) once per request.
func (r *storeRepo) resolve(ctx context.Context, registryID, ref string) (metadata.ManifestRef, error) {
	r.mu.Lock()
	m, ok := r.known[ref]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := r.meta.store.ResolveManifest(ctx, registryID, r.name(), ref)
	if err != nil {
		return m, err
	}
	r.mu.Lock()
	r.known[ref], r.known[m.Digest] = m, m
	r.mu.Unlock()
	return m, nil
}

func (r *storeRepo) Manifests(ctx context.Context, opts ...distribution.ManifestServiceOption) (distribution.ManifestService, error) {
	ms, err := r.Repository.Manifests(ctx, opts...)
	if err != nil {
		return nil, err
	}
	ri, ok := infoFrom(ctx)
	if !ok {
		return nil, errNoGate
	}
	return &storeManifests{inner: ms, repo: r, ri: ri}, nil
}

func (r *storeRepo) Tags(ctx context.Context) distribution.TagService {
	ri, _ := infoFrom(ctx) // checked where it is used: Tags cannot fail
	return &storeTags{repo: r, ri: ri}
}

// DeleteManifest removes manifest dgst (its sha256 digest or an alias) of
// repo with its tags: from the store first, so every view loses it at
// once, then its links in storage. With ifTags, only while its tags are
// exactly *ifTags (sorted; empty for untagged): Kind Changed otherwise.
// An image an index lists is Kind Referenced; an unknown one NotFound.
func (m *Meta) DeleteManifest(ctx context.Context, registryID, repo string, dgst digest.Digest, ifTags *[]string) error {
	ref, err := m.store.ResolveManifest(ctx, registryID, repo, dgst.String())
	if err != nil {
		return err
	}
	if ifTags != nil {
		err = m.store.ExpireImage(ctx, registryID, repo, ref.Digest, *ifTags)
	} else {
		err = m.store.DeleteImage(ctx, registryID, repo, ref.Digest)
	}
	if err != nil {
		return err
	}
	m.unlink(ctx, repo, digest.Digest(ref.Digest))
	return nil
}

// unlink removes a deleted manifest's revision links (its sha256 digest
// and its aliases) from repo's storage. The store has forgotten the
// manifest already, so a failure only leaves unreachable links behind:
// logged, not returned.
func (m *Meta) unlink(ctx context.Context, repo string, canonical digest.Digest) {
	named, err := reference.WithName(repo)
	if err != nil {
		return
	}
	r, err := m.ns.Repository(ctx, named)
	if err == nil {
		var ms distribution.ManifestService
		if ms, err = r.Manifests(ctx); err == nil {
			err = ms.Delete(ctx, canonical)
		}
	}
	if err != nil && !isManifestUnknown(err) && !isPathNotFound(err) {
		m.log.Warn("unlinking a deleted manifest from storage", "repository", repo, "digest", canonical, "error", err)
	}
	aliases, err := m.aliases.manifestAliases(ctx, repo, canonical)
	if err == nil {
		err = m.aliases.removeManifest(ctx, repo, canonical, aliases)
	}
	if err != nil {
		m.log.Warn("unlinking a deleted manifest's digest aliases", "repository", repo, "digest", canonical, "error", err)
	}
}

// canonicalOf is the sha256 name of blob d in repo: d itself, or what its
// other name (sha512) stands for, as recorded at upload or, for a blob
// stored before that, as the repository's link says. (distribution's
// descriptor cache answers a sha512 Stat with the sha512 digest, so the
// descriptor cannot tell.)
func (m *Meta) canonicalOf(ctx context.Context, repo string, d digest.Digest) (string, error) {
	if d.Algorithm() == digest.Canonical {
		return d.String(), nil
	}
	c, err := m.store.ResolveBlob(ctx, d.String())
	if err != nil {
		return "", err
	}
	if c != d.String() {
		return c, nil
	}
	b, err := m.aliases.driver.GetContent(ctx, layerLinkPath(repo, d))
	if err != nil {
		return "", fmt.Errorf("resolving %s in %s: %w", d, repo, err)
	}
	linked, err := digest.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return "", fmt.Errorf("resolving %s in %s: %w", d, repo, err)
	}
	return linked.String(), nil
}
