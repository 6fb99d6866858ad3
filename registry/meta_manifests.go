package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/manifest/manifestlist"
	"github.com/distribution/distribution/v3/manifest/ocischema"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// storeManifests is the ManifestService /v2 sees: existence from the store,
// content from the manifest cache or storage.
type storeManifests struct {
	inner distribution.ManifestService
	repo  *storeRepo
	ri    requestInfo
}

func (m *storeManifests) unknown(d digest.Digest) error {
	return distribution.ErrManifestUnknownRevision{Name: m.repo.name(), Revision: d}
}

func (m *storeManifests) Exists(ctx context.Context, d digest.Digest) (bool, error) {
	_, err := m.repo.resolve(ctx, m.ri.RegistryID, d.String())
	if metadata.Is(err, metadata.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// Get serves a manifest the store says the repository holds. Content is
// addressed by its sha256 digest; the handler presents it under the digest
// the client asked for (an alias stays an alias).
func (m *storeManifests) Get(ctx context.Context, d digest.Digest, opts ...distribution.ManifestServiceOption) (distribution.Manifest, error) {
	ref, err := m.repo.resolve(ctx, m.ri.RegistryID, d.String())
	if metadata.Is(err, metadata.NotFound) {
		return nil, m.unknown(d)
	}
	if err != nil {
		return nil, err
	}
	canonical := digest.Digest(ref.Digest)
	mf, ok := m.repo.meta.cache.get(canonical)
	if !ok {
		if mf, err = m.inner.Get(ctx, canonical, opts...); err != nil {
			if isManifestUnknown(err) {
				// Listed but not in storage: content is written before
				// rows, so this is storage lost or altered underneath.
				m.repo.meta.log.Error("manifest listed in the metadata store is missing from storage",
					"registry", m.ri.RegistryID, "repository", m.repo.name(), "digest", canonical)
			}
			return nil, err
		}
		m.repo.meta.cache.add(canonical, mf, int(ref.Size))
	}
	if m.ri.Method == "GET" {
		m.repo.meta.pulls.pulled(m.ri.RegistryID, m.repo.name(), canonical)
	}
	return mf, nil
}

// Put stores a manifest's content, then records it (and moves its tag) in
// one store transaction; a push the store refuses leaves nothing visible.
func (m *storeManifests) Put(ctx context.Context, mf distribution.Manifest, opts ...distribution.ManifestServiceOption) (digest.Digest, error) {
	if m.ri.RegistryID == "" {
		return "", errNoGate
	}
	st, name := m.repo.meta.store, m.repo.name()
	mediaType, payload, err := mf.Payload()
	if err != nil {
		return "", errcode.ErrorCodeManifestInvalid.WithDetail(err.Error())
	}
	if mt, ok := ctx.Value(recordAsKey{}).(string); ok {
		mediaType = mt // see ECRBackend.PutManifest
	}
	canonical := digest.Canonical.FromBytes(payload)
	tag := ""
	for _, o := range opts {
		if t, ok := o.(distribution.WithTagOption); ok {
			tag = t.Tag
		}
	}
	if err := checkSchema(payload); err != nil {
		return "", err
	}
	blobs, err := m.checkReferences(ctx, mf)
	if err != nil {
		return "", err
	}
	if tag != "" {
		// A push certain to lose its tag is refused before any content
		// is written; the transaction below decides races.
		if err := m.precheckTag(ctx, tag, canonical); err != nil {
			return "", err
		}
	}
	// The push's intent, before its content is checked and stored: the
	// garbage collector leaves what it names alone from now on.
	links := []metadata.BlobLink{{RegistryID: m.ri.RegistryID, Repository: name, Digest: canonical.String(), Kind: metadata.LinkManifest}}
	for _, b := range blobs {
		links = append(links, metadata.BlobLink{RegistryID: m.ri.RegistryID, Repository: name, Digest: b, Kind: metadata.LinkLayer})
	}
	if err := st.EnsureBlobLinks(ctx, links); err != nil {
		if metadata.Is(err, metadata.Changed) {
			return "", errcode.ErrorCodeManifestBlobUnknown.WithDetail("a blob the manifest names is being garbage collected; upload it again")
		}
		return "", err
	}
	stored, err := m.inner.Put(ctx, mf, opts...)
	if err != nil {
		return stored, err
	}
	img, err := imageRecord(ctx, st, m.ri.RegistryID, name, canonical, mediaType, payload)
	if err != nil {
		return "", err
	}
	_, err = st.PutManifest(ctx, metadata.ManifestWrite{Image: img, Blobs: blobs, Alias: aliasFrom(ctx), Tag: tag})
	switch {
	case err == nil:
	case metadata.Is(err, metadata.NotFound) && metadata.EntityOf(err) == "blob":
		return "", errcode.ErrorCodeManifestBlobUnknown.WithDetail(metadata.CauseOf(err))
	case metadata.Is(err, metadata.Changed):
		return "", errcode.ErrorCodeUnavailable.WithDetail("the manifest is being garbage collected; retry")
	case metadata.Is(err, metadata.ImmutableTag):
		return "", tagImmutableError(name, tag)
	case metadata.Is(err, metadata.NotFound) && metadata.EntityOf(err) == "repository":
		return "", nameUnknownError(name, m.ri.RegistryID)
	case metadata.Is(err, metadata.NotFound) && metadata.EntityOf(err) == "child":
		return "", errcode.ErrorCodeManifestBlobUnknown.WithDetail(metadata.CauseOf(err))
	default:
		return "", fmt.Errorf("recording the manifest: %w", err)
	}
	m.repo.mu.Lock()
	m.repo.tagged = taggedBy{tag: tag, digest: canonical}
	m.repo.mu.Unlock()
	m.repo.meta.cache.add(canonical, mf, len(payload))
	return stored, nil
}

// Delete is the edge's business (it answers ECR's way); distribution's
// own handler never reaches it.
func (m *storeManifests) Delete(ctx context.Context, d digest.Digest) error {
	if m.ri.RegistryID == "" {
		return errNoGate
	}
	return m.repo.meta.DeleteManifest(ctx, m.ri.RegistryID, m.repo.name(), d, nil)
}

func (m *storeManifests) precheckTag(ctx context.Context, tag string, d digest.Digest) error {
	st := m.repo.meta.store
	current, err := st.ResolveTag(ctx, m.ri.RegistryID, m.repo.name(), tag)
	if metadata.Is(err, metadata.NotFound) || (err == nil && current == d.String()) {
		return nil
	}
	if err != nil {
		return err
	}
	r, err := st.GetRepository(ctx, m.ri.RegistryID, m.repo.name())
	if metadata.Is(err, metadata.NotFound) {
		return nameUnknownError(m.repo.name(), m.ri.RegistryID)
	}
	if err != nil {
		return err
	}
	if ecrmodel.TagImmutable(r, tag) {
		return tagImmutableError(m.repo.name(), tag)
	}
	return nil
}

// maxReferences bounds the descriptors of one manifest (layers and config,
// or an index's manifests): far above any image, low enough that a
// manifest cannot list one layer thousands of times.
const maxReferences = 1000

// checkSchema refuses what distribution would only notice deep in its
// handlers (and answer 500): a body that is not a schema 2 document.
func checkSchema(payload []byte) error {
	var v struct {
		SchemaVersion int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		return errcode.ErrorCodeManifestInvalid.WithDetail(err.Error())
	}
	if v.SchemaVersion != 2 {
		return errcode.ErrorCodeManifestInvalid.WithDetail(fmt.Sprintf("schemaVersion %d is not supported: want 2", v.SchemaVersion))
	}
	return nil
}

// checkReferences verifies that every descriptor's size is the size of
// what it names: blobs by their stored size, an index's manifests by the
// store's record. Unknown ones are left to the existence checks that
// follow (MANIFEST_BLOB_UNKNOWN). It returns the canonical digests of the
// blobs found (config and layers; foreign layers excepted).
func (m *storeManifests) checkReferences(ctx context.Context, mf distribution.Manifest) ([]string, error) {
	refs := mf.References()
	if len(refs) > maxReferences {
		return nil, errcode.ErrorCodeManifestInvalid.WithDetail(fmt.Sprintf("%d descriptors: at most %d are allowed", len(refs), maxReferences))
	}
	index := false
	switch mf.(type) {
	case *manifestlist.DeserializedManifestList, *ocischema.DeserializedImageIndex:
		index = true
	}
	blobs := m.repo.Blobs(ctx)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	var mu sync.Mutex
	var canonical []string
	seen := map[digest.Digest]bool{}
	for _, d := range refs {
		if err := d.Digest.Validate(); err != nil {
			return nil, errcode.ErrorCodeManifestInvalid.WithDetail(fmt.Sprintf("descriptor digest %q: %v", d.Digest, err))
		}
		if seen[d.Digest] || (!index && len(d.URLs) > 0) {
			continue // foreign layers: distribution's call
		}
		seen[d.Digest] = true
		g.Go(func() error {
			var size int64
			if index {
				ref, err := m.repo.resolve(gctx, m.ri.RegistryID, d.Digest.String())
				if err != nil {
					return nil
				}
				size = ref.Size
			} else {
				desc, err := blobs.Stat(gctx, d.Digest)
				if err != nil {
					return nil
				}
				size = desc.Size
				c, err := m.repo.meta.canonicalOf(gctx, m.repo.name(), d.Digest)
				if err != nil {
					return err
				}
				mu.Lock()
				canonical = append(canonical, c)
				mu.Unlock()
			}
			if d.Size != size {
				return errcode.ErrorCodeManifestInvalid.WithDetail(fmt.Sprintf(
					"descriptor %s has size %d, but the content it names is %d bytes", d.Digest, d.Size, size))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return canonical, nil
}

// manifestDoc is the part of any manifest (Docker schema 2, manifest list,
// OCI image or index) the metadata store records.
type manifestDoc struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       *v1.Descriptor    `json:"config"`
	Layers       []v1.Descriptor   `json:"layers"`
	Manifests    []v1.Descriptor   `json:"manifests"`
	Subject      *v1.Descriptor    `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

// imageRecord builds the metadata record of a manifest.
func imageRecord(ctx context.Context, st MetaStore, registryID, repo string, d digest.Digest, mediaType string, payload []byte) (metadata.Image, error) {
	var doc manifestDoc
	if err := json.Unmarshal(payload, &doc); err != nil {
		return metadata.Image{}, errcode.ErrorCodeManifestInvalid.WithDetail(err.Error())
	}
	if mediaType == "" {
		mediaType = doc.MediaType
	}
	img := metadata.Image{
		RegistryID: registryID, Repository: repo, Digest: d.String(),
		MediaType: mediaType, ArtifactType: doc.ArtifactType,
		ManifestSize: int64(len(payload)), PushedAt: time.Now(), Annotations: doc.Annotations,
	}
	if doc.Subject != nil {
		img.Subject = doc.Subject.Digest.String()
	}
	if doc.Config != nil {
		if img.ArtifactType == "" {
			img.ArtifactType = doc.Config.MediaType
		}
		img.Blobs = append(img.Blobs, doc.Config.Digest.String())
	}
	for _, l := range doc.Layers {
		img.Blobs = append(img.Blobs, l.Digest.String())
		img.Size += l.Size
	}
	for _, c := range doc.Manifests {
		img.Children = append(img.Children, c.Digest.String())
		child, err := st.GetImage(ctx, registryID, repo, c.Digest.String())
		switch {
		case err == nil:
			img.Size += child.Size
		case !metadata.Is(err, metadata.NotFound):
			return metadata.Image{}, err
		}
	}
	return img, nil
}

func tagImmutableError(repo, tag string) error {
	return errcode.ErrorCodeTagInvalid.WithMessage(ecrmodel.TagImmutableMessage(tag, repo))
}

func nameUnknownError(repo, registryID string) error {
	return errcode.ErrorCodeNameUnknown.WithMessage(fmt.Sprintf(
		"The repository with name '%s' does not exist in the registry with id '%s'", repo, registryID))
}

type aliasKey struct{}

// withAlias marks a manifest PUT whose client named it by a non-canonical
// digest (the edge stores it under its sha256 digest).
func withAlias(ctx context.Context, alias digest.Digest) context.Context {
	return context.WithValue(ctx, aliasKey{}, alias)
}

func aliasFrom(ctx context.Context) string {
	d, _ := ctx.Value(aliasKey{}).(digest.Digest)
	return d.String()
}
