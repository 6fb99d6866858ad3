package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	repomw "github.com/distribution/distribution/v3/registry/middleware/repository"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/metadata"
)

// recorderName is the repository middleware's registered name.
const recorderName = "berth-metadata"

// Recorder is a distribution repository middleware that keeps the metadata
// store in step with the registry path: manifests pushed, tags moved or
// removed, manifests deleted (each after storage succeeded) and manifest
// pulls (batched). It also refuses to move an immutable tag before the
// manifest is stored.
type Recorder struct {
	store metadata.Store
	log   *slog.Logger

	mu      sync.Mutex
	pending map[pullKey]time.Time
	stop    chan struct{}
	done    chan struct{}
}

type pullKey struct{ registry, repo, digest string }

// pullFlushEvery bounds how stale a lastRecordedPullTime can be.
const pullFlushEvery = 2 * time.Second

// NewRecorder starts a recorder; Close flushes the pulls it holds.
func NewRecorder(st metadata.Store, log *slog.Logger) *Recorder {
	rec := &Recorder{store: st, log: log, pending: map[pullKey]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go rec.loop()
	return rec
}

func (rec *Recorder) loop() {
	defer close(rec.done)
	t := time.NewTicker(pullFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			rec.Flush(context.Background())
		case <-rec.stop:
			rec.Flush(context.Background())
			return
		}
	}
}

// Close stops the flusher after a last flush.
func (rec *Recorder) Close() {
	select {
	case <-rec.stop:
	default:
		close(rec.stop)
	}
	<-rec.done
}

// Flush writes the pulls recorded so far.
func (rec *Recorder) Flush(ctx context.Context) {
	rec.mu.Lock()
	if len(rec.pending) == 0 {
		rec.mu.Unlock()
		return
	}
	pulls := make([]metadata.Pull, 0, len(rec.pending))
	for k, at := range rec.pending {
		pulls = append(pulls, metadata.Pull{RegistryID: k.registry, Repository: k.repo, Digest: k.digest, At: at})
	}
	rec.pending = map[pullKey]time.Time{}
	rec.mu.Unlock()
	if err := rec.store.RecordPulls(ctx, pulls); err != nil {
		rec.log.Warn("recording pull times", "error", err, "pulls", len(pulls))
	}
}

func (rec *Recorder) pulled(registryID, repo string, d digest.Digest) {
	rec.mu.Lock()
	rec.pending[pullKey{registryID, repo, d.String()}] = time.Now()
	rec.mu.Unlock()
}

// registerRecorder registers the middleware factory; the Recorder travels
// in the options (distribution creates middlewares by name).
func registerRecorder() {
	_ = repomw.Register(recorderName, func(ctx context.Context, repo distribution.Repository, opts map[string]any) (distribution.Repository, error) {
		rec, ok := opts["instance"].(*Recorder)
		if !ok || rec == nil {
			return repo, nil // no metadata store wired (never in berth serve)
		}
		// ctx is the App's, not the request's: the request's gate
		// information is read from the contexts the services are called
		// with.
		return &recordedRepo{Repository: repo, rec: rec}, nil
	})
}

type recordedRepo struct {
	distribution.Repository
	rec *Recorder
}

// errNoGate: a request reached the App without the gate's information; a
// wiring bug, never a client's doing.
var errNoGate = fmt.Errorf("metadata recorder: request reached the registry without passing the gate")

func (r *recordedRepo) name() string { return r.Named().Name() }

func (r *recordedRepo) Manifests(ctx context.Context, opts ...distribution.ManifestServiceOption) (distribution.ManifestService, error) {
	ms, err := r.Repository.Manifests(ctx, opts...)
	if err != nil {
		return nil, err
	}
	ri, ok := infoFrom(ctx)
	if !ok {
		return nil, errNoGate
	}
	return &recordedManifests{ManifestService: ms, repo: r, ri: ri}, nil
}

func (r *recordedRepo) Tags(ctx context.Context) distribution.TagService {
	ri, _ := infoFrom(ctx) // checked where it is used: Tags cannot fail
	return &recordedTags{TagService: r.Repository.Tags(ctx), repo: r, ri: ri}
}

type recordedManifests struct {
	distribution.ManifestService
	repo *recordedRepo
	ri   requestInfo
}

func (m *recordedManifests) Get(ctx context.Context, d digest.Digest, opts ...distribution.ManifestServiceOption) (distribution.Manifest, error) {
	mf, err := m.ManifestService.Get(ctx, d, opts...)
	if err == nil && m.ri.Method == "GET" {
		m.repo.rec.pulled(m.ri.RegistryID, m.repo.name(), d)
	}
	return mf, err
}

func (m *recordedManifests) Put(ctx context.Context, mf distribution.Manifest, opts ...distribution.ManifestServiceOption) (digest.Digest, error) {
	st, ri, name := m.repo.rec.store, m.ri, m.repo.name()
	mediaType, payload, err := mf.Payload()
	if err != nil {
		return "", err
	}
	dgst := digest.FromBytes(payload)
	for _, o := range opts {
		if t, ok := o.(distribution.WithTagOption); ok {
			if err := checkTagMove(ctx, st, ri.RegistryID, name, t.Tag, dgst.String()); err != nil {
				return "", err
			}
		}
	}
	stored, err := m.ManifestService.Put(ctx, mf, opts...)
	if err != nil {
		return stored, err
	}
	if mt, ok := ctx.Value(recordAsKey{}).(string); ok {
		mediaType = mt
	}
	img, err := imageRecord(ctx, st, ri.RegistryID, name, stored, mediaType, payload)
	if err != nil {
		return "", err
	}
	if _, err := st.PutImage(ctx, img); err != nil {
		return "", fmt.Errorf("recording the image: %w", err)
	}
	return stored, nil
}

// recordAsKey marks a manifest PUT whose image is recorded with another
// media type than distribution parsed it as (see ECRBackend.PutManifest).
type recordAsKey struct{}

func (m *recordedManifests) Delete(ctx context.Context, d digest.Digest) error {
	if err := m.ManifestService.Delete(ctx, d); err != nil {
		return err
	}
	err := m.repo.rec.store.DeleteImage(ctx, m.ri.RegistryID, m.repo.name(), d.String())
	if err != nil && !metadata.Is(err, metadata.NotFound) {
		return fmt.Errorf("forgetting the image: %w", err)
	}
	return nil
}

// checkTagMove refuses, before anything is stored, a push that would move an
// immutable tag to another image: TAG_INVALID with ECR's message.
func checkTagMove(ctx context.Context, st metadata.Store, registryID, repo, tag, dgst string) error {
	current, err := st.ResolveTag(ctx, registryID, repo, tag)
	if metadata.Is(err, metadata.NotFound) || (err == nil && current == dgst) {
		return nil // a new tag, or the same image pushed again
	}
	if err != nil {
		return err
	}
	r, err := st.GetRepository(ctx, registryID, repo)
	if err != nil {
		return err
	}
	if r.TagImmutable(tag) {
		return tagImmutableError(repo, tag)
	}
	return nil
}

func tagImmutableError(repo, tag string) error {
	return errcode.ErrorCodeTagInvalid.WithMessage(fmt.Sprintf(
		"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the tag is immutable.", tag, repo))
}

type recordedTags struct {
	distribution.TagService
	repo *recordedRepo
	ri   requestInfo
}

func (t *recordedTags) Tag(ctx context.Context, tag string, desc v1.Descriptor) error {
	if t.ri.RegistryID == "" {
		return errNoGate
	}
	// The store moves the tag first and atomically (immutability is
	// checked inside its transaction); storage follows.
	_, err := t.repo.rec.store.TagImage(ctx, t.ri.RegistryID, t.repo.name(), tag, desc.Digest.String())
	if metadata.Is(err, metadata.ImmutableTag) {
		return tagImmutableError(t.repo.name(), tag)
	}
	if err != nil {
		return fmt.Errorf("recording the tag: %w", err)
	}
	return t.TagService.Tag(ctx, tag, desc)
}

func (t *recordedTags) Untag(ctx context.Context, tag string) error {
	if t.ri.RegistryID == "" {
		return errNoGate
	}
	if err := t.TagService.Untag(ctx, tag); err != nil {
		return err
	}
	_, err := t.repo.rec.store.Untag(ctx, t.ri.RegistryID, t.repo.name(), tag)
	if err != nil && !metadata.Is(err, metadata.NotFound) {
		return fmt.Errorf("forgetting the tag: %w", err)
	}
	return nil
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

// imageRecord builds the metadata record of a stored manifest.
func imageRecord(ctx context.Context, st metadata.Store, registryID, repo string, d digest.Digest, mediaType string, payload []byte) (metadata.Image, error) {
	var doc manifestDoc
	if err := json.Unmarshal(payload, &doc); err != nil {
		return metadata.Image{}, fmt.Errorf("parsing the stored manifest: %w", err)
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
