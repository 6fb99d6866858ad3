package pullthrough

import (
	"context"
	"crypto/rand"
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

// EnsureManifest makes ref (a tag or a digest) of t's repository present
// and current in local: a digest already cached is served; a tag is
// compared with its upstream when its last check is older than the
// re-check interval, and re-imported when it moved. An unreachable
// upstream serves what is cached. allow is asked before anything is
// imported (ecr:BatchImportUpstreamImage); its error is returned as is.
func (im *Importer) EnsureManifest(ctx context.Context, t Target, ref string, local Local, allow func() error) error {
	isDigest := strings.Contains(ref, ":")
	have, cached, err := local.ManifestDigest(ctx, ref)
	if err != nil {
		return err
	}
	if isDigest && cached {
		im.count("hit", 1)
		return nil
	}
	if !isDigest && cached {
		at, ok, err := im.Checks.TagCheckedAt(ctx, t.RegistryID, t.Repo, ref)
		if err != nil {
			return err
		}
		if ok && im.now().Sub(at) < im.recheck() {
			im.count("hit", 1)
			return nil
		}
	}
	if err := allow(); err != nil {
		if cached {
			return nil // cached content is served to whoever may pull it
		}
		return err
	}
	u, err := im.Upstreams.For(ctx, t.Rule)
	if err != nil {
		if cached {
			return nil
		}
		return err
	}
	if !isDigest && cached {
		up, err := u.HeadManifest(ctx, t.Upstream, ref)
		switch {
		case err != nil:
			// The upstream is down or refuses: the cache is served, and
			// the tag is checked again on a later pull.
			im.log().Warn("pull-through: tag re-check failed; serving the cache", "repository", t.Repo, "tag", ref, "error", err)
			return nil
		case up == have:
			im.count("hit", 1)
			return im.Checks.MarkTagChecked(ctx, t.RegistryID, t.Repo, ref, im.now())
		}
		im.log().Info("pull-through: tag moved upstream", "repository", t.Repo, "tag", ref, "from", have, "to", up)
	}
	im.count("miss", 1)
	err = im.once(ctx, t, "manifest", ref, func() (bool, error) {
		// Another puller may have imported it meanwhile.
		d, ok, err := local.ManifestDigest(ctx, ref)
		if isDigest || !cached {
			return ok, err
		}
		return ok && d != have, err // the moved tag, re-imported
	}, func() error { return im.importManifest(ctx, t, u, ref, local, 0) })
	if err != nil {
		if cached {
			im.log().Warn("pull-through: re-import failed; serving the cache", "repository", t.Repo, "ref", ref, "error", err)
			return nil
		}
		if NotFoundUpstream(err) {
			return ErrImageNotFound
		}
		return err
	}
	if !isDigest {
		return im.Checks.MarkTagChecked(ctx, t.RegistryID, t.Repo, ref, im.now())
	}
	return nil
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

// importManifest fetches ref's manifest, everything it references, and
// stores the manifest last (content first, so a failure leaves no image
// that cannot be pulled).
func (im *Importer) importManifest(ctx context.Context, t Target, u *Upstream, ref string, local Local, depth int) error {
	if depth > 1 {
		return fmt.Errorf("pull-through: index nested too deep")
	}
	body, mt, err := u.GetManifest(ctx, t.Upstream, ref)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	dgst := "sha256:" + hex.EncodeToString(sum[:])
	if strings.Contains(ref, ":") && ref != dgst {
		return &UpstreamError{Status: 502, Err: fmt.Errorf("upstream manifest %s has digest %s", ref, dgst)}
	}
	var m manifestShape
	if err := json.Unmarshal(body, &m); err != nil {
		return &UpstreamError{Status: 502, Err: fmt.Errorf("upstream manifest: %w", err)}
	}
	if m.MediaType != "" {
		mt = m.MediaType
	}
	for _, c := range m.Manifests {
		if _, ok, err := local.ManifestDigest(ctx, c.Digest); err != nil {
			return err
		} else if ok {
			continue
		}
		if err := im.importManifest(ctx, t, u, c.Digest, local, depth+1); err != nil {
			return err
		}
	}
	var blobs []string
	if m.Config != nil && m.Config.Digest != "" {
		blobs = append(blobs, m.Config.Digest)
	}
	for _, l := range m.Layers {
		if len(l.URLs) > 0 {
			continue // foreign layers stay where they are
		}
		blobs = append(blobs, l.Digest)
	}
	for _, d := range blobs {
		if err := im.importBlob(ctx, t, u, d, local); err != nil {
			return err
		}
	}
	return local.PutManifest(ctx, ref, mt, body)
}

func (im *Importer) importBlob(ctx context.Context, t Target, u *Upstream, dgst string, local Local) error {
	have := func() (bool, error) { return local.HasBlob(ctx, dgst) }
	if ok, err := have(); err != nil || ok {
		return err
	}
	return im.once(ctx, t, "blob", dgst, have, func() error {
		rc, size, err := u.GetBlob(ctx, t.Upstream, dgst)
		if err != nil {
			return err
		}
		defer rc.Close()
		return local.PutBlob(ctx, dgst, size, &countingReader{r: rc, add: func(n int) { im.count("bytes", int64(n)) }})
	})
}

// leaseTTL bounds how long a node that died mid-fetch blocks the others;
// a live fetch renews its lease.
const leaseTTL = 30 * time.Second

// once runs fetch for (repository, kind, ref) on one node at a time across
// the cluster: the others wait for the lease and then find the content
// there (done), or fetch it themselves when the holder failed.
func (im *Importer) once(ctx context.Context, t Target, kind, ref string, done func() (bool, error), fetch func() error) error {
	if im.Leases == nil {
		return fetch()
	}
	name := "pull-through/" + kind + "/" + t.RegistryID + "/" + t.Repo + "@" + ref
	owner := ownerID()
	for {
		got, err := im.Leases.AcquireLease(ctx, name, owner, leaseTTL)
		if err != nil {
			return err
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer func() { _ = im.Leases.ReleaseLease(context.WithoutCancel(ctx), name, owner) }()
	if ok, err := done(); err != nil || ok {
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tk := time.NewTicker(leaseTTL / 3)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				_, _ = im.Leases.RenewLease(context.WithoutCancel(ctx), name, owner, leaseTTL)
			}
		}
	}()
	return fetch()
}

// ownerID names one fetch (a lease owner).
func ownerID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "fetch/" + hex.EncodeToString(b[:])
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
