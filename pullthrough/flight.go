package pullthrough

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultGrace is Importer.Grace's default: docker asks for an image's
// blobs within moments of its manifest.
const DefaultGrace = 2 * time.Second

// background is the node-lifetime context imports run on once their
// manifest has been answered: not the request's, which ends with it.
type background struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex // closed and wg.Add, so no import starts during Close's Wait
	closed bool
}

// goRun runs fn in the background unless the importer is closed.
func (b *background) goRun(fn func()) bool {
	b.init()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
	return true
}

func (b *background) init() {
	b.once.Do(func() { b.ctx, b.cancel = context.WithCancel(context.Background()) })
}

// detach is a context with ctx's values (the request id and the puller,
// for the audit log and blob accounting) that ends when the importer is
// closed rather than when ctx does.
func (im *Importer) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	im.bg.init()
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(im.bg.ctx, cancel)
	return c, func() { stop(); cancel() }
}

// Close cancels the background imports and waits for them to end (a
// cancelled import leaves nothing half-stored).
func (im *Importer) Close() {
	im.bg.init()
	im.bg.mu.Lock()
	im.bg.closed = true
	im.bg.mu.Unlock()
	im.bg.cancel()
	im.bg.wg.Wait()
}

func (im *Importer) grace() time.Duration {
	if im.Grace > 0 {
		return im.Grace
	}
	return DefaultGrace
}

// flight is one background import on this node: the upstream manifest
// (and an index's manifests as they are fetched), kept to answer the
// pulls that come while it runs, and the tags to point at it.
type flight struct {
	fs       *flights
	repo     string // registry/repository
	top      *Manifest
	children map[string]*Manifest
	tags     []string
}

// flights are this node's imports under way, by manifest digest and by
// tag.
type flights struct {
	mu       sync.Mutex
	byDigest map[string]*flight // registry/repo@digest
	byTag    map[string]*flight // registry/repo:tag
}

func repoKey(t Target) string { return t.RegistryID + "/" + t.Repo }

// memo is the upstream manifest ref names in an import under way (nil:
// none).
func (fs *flights) memo(t Target, ref string) *Manifest {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	rk := repoKey(t)
	if !strings.Contains(ref, ":") {
		if f := fs.byTag[rk+":"+ref]; f != nil {
			return f.top
		}
		return nil
	}
	if f := fs.byDigest[rk+"@"+ref]; f != nil {
		return f.top
	}
	for _, f := range fs.byDigest {
		if m := f.children[ref]; m != nil && f.repo == rk {
			return m
		}
	}
	return nil
}

// remember keeps an index's manifest m for the pulls of it during the
// import.
func (f *flight) remember(m *Manifest) {
	f.fs.mu.Lock()
	f.children[m.Digest] = m
	f.fs.mu.Unlock()
}

// start imports m (ref's manifest) in the background unless an import
// of it runs on this node already, which then also points tag ref at
// it. It reports whether it started one.
func (im *Importer) start(ctx context.Context, t Target, u *Upstream, ref string, m *Manifest, local Local, checked time.Time) bool {
	fs := &im.flight
	rk := repoKey(t)
	fs.mu.Lock()
	if fs.byDigest == nil {
		fs.byDigest, fs.byTag = map[string]*flight{}, map[string]*flight{}
	}
	f, joined := fs.byDigest[rk+"@"+m.Digest]
	if !joined {
		f = &flight{fs: fs, repo: rk, top: m, children: map[string]*Manifest{}}
		fs.byDigest[rk+"@"+m.Digest] = f
	}
	if !strings.Contains(ref, ":") && !slices.Contains(f.tags, ref) {
		f.tags = append(f.tags, ref)
		fs.byTag[rk+":"+ref] = f
	}
	fs.mu.Unlock()
	if joined {
		return false
	}
	bg, cancel := im.detach(ctx)
	started := im.bg.goRun(func() {
		defer cancel()
		if err := im.run(bg, t, u, f, local, checked); err != nil {
			im.log().Warn("pull-through: background import failed", "repository", t.Repo, "ref", ref, "digest", m.Digest, "error", err)
		}
	})
	if !started { // closing: the next pull imports it
		cancel()
		fs.mu.Lock()
		fs.forget(f)
		fs.mu.Unlock()
	}
	return true
}

// run is one background import: after the grace, the image's content
// once across nodes, its manifest by digest, then each tag that asked
// for it (re-check time: when the upstream was asked).
func (im *Importer) run(ctx context.Context, t Target, u *Upstream, f *flight, local Local, checked time.Time) error {
	fs := f.fs
	stored := 0
	defer func() {
		fs.mu.Lock()
		fs.forget(f)
		fs.mu.Unlock()
	}()
	select {
	case <-time.After(im.grace()):
	case <-ctx.Done():
		return ctx.Err()
	}
	m := f.top
	done := func() (bool, error) {
		_, ok, err := local.ManifestDigest(ctx, m.Digest)
		return ok, err
	}
	if err := im.once(ctx, t, "manifest", m.Digest, done, func() error {
		return im.importManifest(ctx, t, u, m.Digest, m, local, f, 0)
	}); err != nil {
		return err
	}
	for {
		fs.mu.Lock()
		tags := slices.Clone(f.tags[stored:])
		if len(tags) == 0 {
			fs.forget(f) // under the lock: no tag joins unseen
			fs.mu.Unlock()
			return nil
		}
		fs.mu.Unlock()
		for _, tag := range tags {
			if d, ok, err := local.ManifestDigest(ctx, tag); err != nil {
				return err
			} else if !ok || d != m.Digest {
				if err := local.PutManifest(ctx, tag, m.MediaType, m.Body); err != nil {
					return err
				}
			}
			if err := im.Checks.MarkTagChecked(ctx, t.RegistryID, t.Repo, tag, checked); err != nil {
				return err
			}
		}
		stored += len(tags)
	}
}

// forget drops f from the imports under way (fs.mu held).
func (fs *flights) forget(f *flight) {
	if fs.byDigest[f.repo+"@"+f.top.Digest] == f {
		delete(fs.byDigest, f.repo+"@"+f.top.Digest)
	}
	for _, tag := range f.tags {
		if fs.byTag[f.repo+":"+tag] == f {
			delete(fs.byTag, f.repo+":"+tag)
		}
	}
}
