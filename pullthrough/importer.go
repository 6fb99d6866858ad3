package pullthrough

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// DefaultRecheck is how long a cached tag is served before it is compared
// with its upstream again ("up to once per 24 hours … based off the last
// pull of the cached image").
const DefaultRecheck = 24 * time.Hour

// Local is the registry's own content of one repository, as the importer
// reads and writes it: through berth's normal push path (encrypted
// storage, blob accounting and the metadata store's image and tag rows).
type Local interface {
	// ManifestDigest is the digest ref (tag or digest) names locally
	// (ok=false: none).
	ManifestDigest(ctx context.Context, ref string) (digest string, ok bool, err error)
	HasBlob(ctx context.Context, digest string) (bool, error)
	// PutBlob stores a blob read from body, committed only when its bytes
	// match digest.
	PutBlob(ctx context.Context, digest string, size int64, body io.Reader) error
	// PutManifest stores manifest bytes under ref (a tag, or its digest).
	PutManifest(ctx context.Context, ref, mediaType string, body []byte) error
}

// CheckStore records when cached tags were compared with their upstream.
type CheckStore interface {
	TagCheckedAt(ctx context.Context, registryID, repo, tag string) (time.Time, bool, error)
	MarkTagChecked(ctx context.Context, registryID, repo, tag string, at time.Time) error
}

// Leases are the store's named, expiring claims (metadata/leases.go): one
// node at a time fetches a given (repository, digest) across the cluster.
type Leases interface {
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Importer fetches images from upstreams into cache repositories.
type Importer struct {
	Rules     *Rules
	Upstreams *Upstreams
	Checks    CheckStore
	// Leases make each fetch happen once across nodes (nil: no
	// coordination, one node).
	Leases Leases
	// Recheck is the tag re-check interval (DefaultRecheck when zero).
	Recheck time.Duration
	Log     *slog.Logger
	Now     func() time.Time
	// Count, when set, counts "hit", "miss" and fetched blob bytes
	// ("bytes", n).
	Count func(what string, n int64)
	// Grace is how long a background import leaves an image's blobs to
	// the pullers' own blob GETs, which stream them, before it fetches
	// the rest itself (DefaultGrace when zero).
	Grace time.Duration
	// WaitBound is how long a blob GET waits for another fetch of the
	// same blob (another puller, the background import, another node)
	// before it streams from the upstream without storing
	// (DefaultWaitBound when zero).
	WaitBound time.Duration
	// StallTimeout ends an upstream fetch that sends nothing for so long
	// (DefaultStallTimeout when zero).
	StallTimeout time.Duration

	bg     background
	flight flights
}

func (im *Importer) count(what string, n int64) {
	if im.Count != nil {
		im.Count(what, n)
	}
}

// Target is one pull of a cache repository.
type Target struct {
	RegistryID string
	Repo       string // the cache repository (rule prefix + upstream path)
	Rule       metadata.PullThroughRule
	Upstream   string // the upstream repository
}

// Match is the pull-through target of repo (ok=false: no rule covers it).
func (im *Importer) Match(ctx context.Context, registryID, repo string) (Target, bool, error) {
	r, up, ok, err := im.Rules.Match(ctx, registryID, repo)
	if err != nil || !ok {
		return Target{}, false, err
	}
	return Target{RegistryID: registryID, Repo: repo, Rule: r, Upstream: up}, true, nil
}

func (im *Importer) now() time.Time {
	if im.Now != nil {
		return im.Now()
	}
	return time.Now()
}

func (im *Importer) recheck() time.Duration {
	if im.Recheck > 0 {
		return im.Recheck
	}
	return DefaultRecheck
}

// ErrImageNotFound: neither the cache nor the upstream has the image.
var ErrImageNotFound = errors.New("requested image not found")

// Manifest is a manifest as the upstream answered it: the exact bytes a
// client gets while the image is imported in the background.
type Manifest struct {
	Body      []byte
	MediaType string
	Digest    string
}

// EnsureManifest decides how a manifest GET or HEAD of ref (a tag or a
// digest) of t's repository is answered. nil: from the cache (a digest
// cached, a tag cached and checked within the re-check interval or still
// the upstream's, or an unreachable upstream while something is cached).
// Otherwise the upstream's manifest, which the caller sends as is, while
// the image is imported in the background (blobs first, the manifest
// last, once across nodes). allow is asked before the upstream is
// (ecr:BatchImportUpstreamImage); its error is returned as is.
func (im *Importer) EnsureManifest(ctx context.Context, t Target, ref string, local Local, allow func() error) (*Manifest, error) {
	isDigest := strings.Contains(ref, ":")
	have, cached, err := local.ManifestDigest(ctx, ref)
	if err != nil {
		return nil, err
	}
	if isDigest && cached {
		im.count("hit", 1)
		return nil, nil
	}
	if !isDigest && cached {
		at, ok, err := im.Checks.TagCheckedAt(ctx, t.RegistryID, t.Repo, ref)
		if err != nil {
			return nil, err
		}
		if ok && im.now().Sub(at) < im.recheck() {
			im.count("hit", 1)
			return nil, nil
		}
	}
	if err := allow(); err != nil {
		if cached {
			return nil, nil // cached content is served to whoever may pull it
		}
		return nil, err
	}
	if m := im.flight.memo(t, ref); m != nil && !cached {
		im.count("hit", 1) // being imported: the bytes fetched for it
		return m, nil
	}
	u, err := im.Upstreams.Reused(ctx, t.Rule)
	if err != nil {
		if cached {
			return nil, nil
		}
		return nil, err
	}
	checked := im.now()
	if !isDigest && cached {
		up, err := u.HeadManifest(ctx, t.Upstream, ref)
		switch {
		case err != nil:
			// The upstream is down or refuses: the cache is served, and
			// the tag is checked again on a later pull.
			im.log().Warn("pull-through: tag re-check failed; serving the cache", "repository", t.Repo, "tag", ref, "error", err)
			return nil, nil
		case up == have:
			im.count("hit", 1)
			return nil, im.Checks.MarkTagChecked(ctx, t.RegistryID, t.Repo, ref, checked)
		}
		im.log().Info("pull-through: tag moved upstream", "repository", t.Repo, "tag", ref, "from", have, "to", up)
	}
	m, err := fetchManifest(ctx, u, t.Upstream, ref)
	if err != nil {
		if cached {
			im.log().Warn("pull-through: re-import failed; serving the cache", "repository", t.Repo, "ref", ref, "error", err)
			return nil, nil
		}
		if NotFoundUpstream(err) {
			return nil, ErrImageNotFound
		}
		return nil, err
	}
	if im.start(ctx, t, u, ref, m, local, checked) {
		im.count("miss", 1)
	} else {
		im.count("hit", 1)
	}
	return m, nil
}

// fetchManifest reads ref's manifest from u and checks that it is one
// (and, for a digest, that its bytes are that digest).
func fetchManifest(ctx context.Context, u *Upstream, repo, ref string) (*Manifest, error) {
	body, mt, err := u.GetManifest(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	dgst := "sha256:" + hex.EncodeToString(sum[:])
	if strings.Contains(ref, ":") && ref != dgst {
		return nil, &UpstreamError{Status: 502, Err: fmt.Errorf("upstream manifest %s has digest %s", ref, dgst)}
	}
	var shape manifestShape
	if err := json.Unmarshal(body, &shape); err != nil {
		return nil, &UpstreamError{Status: 502, Err: fmt.Errorf("upstream manifest: %w", err)}
	}
	if shape.MediaType != "" {
		mt = shape.MediaType
	}
	return &Manifest{Body: body, MediaType: mt, Digest: dgst}, nil
}

func (im *Importer) log() *slog.Logger {
	if im.Log != nil {
		return im.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// manifestShape is what the importer reads of a manifest or an index.
type manifestShape struct {
	MediaType string `json:"mediaType"`
	Config    *struct {
		Digest string `json:"digest"`
		Size   int64  `json:"size"`
	} `json:"config"`
	Layers []struct {
		Digest    string   `json:"digest"`
		Size      int64    `json:"size"`
		MediaType string   `json:"mediaType"`
		URLs      []string `json:"urls"`
	} `json:"layers"`
	Manifests []struct {
		Digest    string `json:"digest"`
		MediaType string `json:"mediaType"`
	} `json:"manifests"`
}

// importManifest stores m (read from the upstream as ref) under ref,
// after everything it references: an index's manifests (fetched, or
// taken from f's memo) and its blobs. Content first, so a failure leaves
// no image that cannot be pulled.
func (im *Importer) importManifest(ctx context.Context, t Target, u *Upstream, ref string, m *Manifest, local Local, f *flight, depth int) error {
	if depth > 1 {
		return fmt.Errorf("pull-through: index nested too deep")
	}
	var shape manifestShape
	if err := json.Unmarshal(m.Body, &shape); err != nil {
		return &UpstreamError{Status: 502, Err: fmt.Errorf("upstream manifest: %w", err)}
	}
	for _, c := range shape.Manifests {
		done := func() (bool, error) {
			_, ok, err := local.ManifestDigest(ctx, c.Digest)
			return ok, err
		}
		if ok, err := done(); err != nil {
			return err
		} else if ok {
			continue
		}
		err := im.once(ctx, t, "manifest", c.Digest, done, func() error {
			cm, err := fetchManifest(ctx, u, t.Upstream, c.Digest)
			if err != nil {
				return err
			}
			f.remember(cm)
			return im.importManifest(ctx, t, u, c.Digest, cm, local, f, depth+1)
		})
		if err != nil {
			return err
		}
	}
	var blobs []string
	if shape.Config != nil && shape.Config.Digest != "" {
		blobs = append(blobs, shape.Config.Digest)
	}
	for _, l := range shape.Layers {
		if len(l.URLs) > 0 {
			continue // foreign layers stay where they are
		}
		blobs = append(blobs, l.Digest)
	}
	if err := im.importBlobs(ctx, t, u, blobs, local); err != nil {
		return err
	}
	return local.PutManifest(ctx, ref, m.MediaType, m.Body)
}

// importBlobs stores blobs: first those no other fetch is bringing in
// (a puller's GET streams the others while storing them), then it waits
// for the rest and fetches whatever is still missing.
func (im *Importer) importBlobs(ctx context.Context, t Target, u *Upstream, blobs []string, local Local) error {
	var later []string
	for _, d := range blobs {
		if ok, err := local.HasBlob(ctx, d); err != nil {
			return err
		} else if ok {
			continue
		}
		release, err := im.take(ctx, leaseName(t, "blob", d), false)
		if err != nil {
			return err
		}
		if release == nil {
			later = append(later, d)
			continue
		}
		err = im.fetchBlob(ctx, t, u, d, local)
		release()
		if err != nil {
			return err
		}
	}
	for _, d := range later {
		have := func() (bool, error) { return local.HasBlob(ctx, d) }
		if err := im.once(ctx, t, "blob", d, have, func() error { return im.fetchBlob(ctx, t, u, d, local) }); err != nil {
			return err
		}
	}
	return nil
}

// fetchBlob copies blob dgst from the upstream into local (the caller
// holds its lease and found it missing).
func (im *Importer) fetchBlob(ctx context.Context, t Target, u *Upstream, dgst string, local Local) error {
	if ok, err := local.HasBlob(ctx, dgst); err != nil || ok {
		return err
	}
	fetch, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, size, err := u.GetBlob(fetch, t.Upstream, dgst)
	if err != nil {
		return err
	}
	defer rc.Close()
	return local.PutBlob(ctx, dgst, size, &countingReader{r: im.stalling(rc, cancel), add: func(n int) { im.count("bytes", int64(n)) }})
}

// countingReader reports the bytes read through it.
type countingReader struct {
	r   io.Reader
	add func(int)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.add(n)
	}
	return n, err
}
