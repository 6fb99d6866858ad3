// Package gc is berth's online garbage collector. It runs on every node,
// with no read-only window: what may have lost its last reference (an
// image deleted or expired, a repository deleted, an upload or mount never
// used) is queued in the metadata store for review after a delay; a node
// claims due reviews, and for each the store decides, in one transaction
// and from its rows alone, which repository links and whether the blob
// itself are unreferenced, and marks them. The collector then deletes
// them from storage and the store forgets them. Writers see the marks (and
// the collector sees writers' pushed-out reviews), so nothing referenced
// is ever deleted. Abandoned uploads are aborted the same way, from the
// store's record of uploads in progress.
package gc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sync"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metrics"
)

// Store is what the collector needs of the metadata store.
type Store interface {
	ClaimReviews(ctx context.Context, now time.Time, owner string, ttl time.Duration, limit int) ([]string, error)
	PlanCollection(ctx context.Context, digest, owner string, now time.Time) (metadata.Collection, error)
	FinishCollection(ctx context.Context, c metadata.Collection, owner string) error
	PostponeReview(ctx context.Context, digest, owner string, after func(failures int) time.Time, why string) error
	ReleaseReview(ctx context.Context, digest, owner string) error
	GCStatus(ctx context.Context, now time.Time) (metadata.GCStatus, error)
	Adopted(ctx context.Context) (bool, error)
	AdoptImages(ctx context.Context, resolve metadata.BlobResolver, limit int) (bool, error)
	ClaimIdleUploads(ctx context.Context, idleSince, now time.Time, owner string, ttl time.Duration, limit int) ([]metadata.Upload, error)
	ForgetIdleUpload(ctx context.Context, id string, idleSince time.Time) (bool, error)
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// Spool is a backend's local scratch space for uploads.
type Spool interface {
	SweepSpool() int
}

// Defaults of the gc.* configuration keys.
const (
	DefaultInterval = time.Minute
	// claimTTL bounds how long a node that died mid-review holds it (a
	// batch is claimed at once and reviewed well within it; a review
	// whose claim lapsed is found taken over and skipped).
	claimTTL = 30 * time.Second
	// storageTimeout bounds one storage call of a review.
	storageTimeout = time.Minute
	batch          = 50
	// parallel is how many reviews of a batch run at once.
	parallel = 2
	// A failed review (storage unreachable, a store error) waits
	// retryDelay, doubling with each failure in a row up to maxRetryDelay:
	// a short outage's backlog clears soon after, a long one is not
	// hammered with every pending review every few minutes.
	retryDelay    = 2 * time.Minute
	maxRetryDelay = time.Hour
)

// Collector reviews what is due and purges abandoned uploads.
type Collector struct {
	Store  Store
	Driver storagedriver.StorageDriver
	// Interval is how often Run looks for due work.
	Interval time.Duration
	// PurgeAge is how long an upload may sit idle before it is aborted.
	PurgeAge time.Duration
	// Node names this process in claims; it must differ between nodes.
	Node string
	// Spool, when the storage backend has local part files (S3), sweeps
	// the ones crashed processes left; nil: none.
	Spool   Spool
	Log     *slog.Logger
	Metrics *metrics.GC // nil: none
	Now     func() time.Time
}

// Report is what one pass did.
type Report struct {
	Reviewed, BlobsDeleted, LinksRemoved, Failures, UploadsPurged int
	BytesReclaimed                                                int64
	// Collections are the decisions (also the dry run's answer).
	Collections []metadata.Collection
}

func (r Report) String() string {
	return fmt.Sprintf("reviewed %d blobs: deleted %d (%d bytes), unlinked %d, %d failed; purged %d uploads",
		r.Reviewed, r.BlobsDeleted, r.BytesReclaimed, r.LinksRemoved, r.Failures, r.UploadsPurged)
}

// Run collects until ctx ends: first adopts what was stored before blob
// accounting (nothing is reviewed until that is done), then every
// Interval reviews what is due and purges abandoned uploads.
func (c *Collector) Run(ctx context.Context) {
	every := c.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.RunOnce(ctx); err != nil && ctx.Err() == nil {
			c.log().Error("gc: pass failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce is one pass: adoption if needed, every due review, idle uploads.
func (c *Collector) RunOnce(ctx context.Context) (Report, error) {
	var rep Report
	adopted, err := c.Adopt(ctx)
	if err != nil || !adopted {
		return rep, err
	}
	if err := c.CollectDue(ctx, &rep); err != nil {
		return rep, err
	}
	n, err := c.PurgeUploads(ctx)
	rep.UploadsPurged = n
	if c.Spool != nil {
		if swept := c.Spool.SweepSpool(); swept > 0 {
			c.log().Info("gc: removed spool files crashed uploads left", "files", swept, "node", c.Node)
		}
	}
	if rep.Reviewed > 0 || rep.UploadsPurged > 0 {
		c.log().Info("gc: "+rep.String(), "node", c.Node)
	}
	c.observe(ctx)
	return rep, err
}

// CollectDue reviews every due review this node can claim, a batch at a
// time, adding to rep. A batch's reviews run a few at once: each is
// mostly waiting on storage deletes and store transactions of its own.
func (c *Collector) CollectDue(ctx context.Context, rep *Report) error {
	var mu sync.Mutex
	for {
		claimed, err := c.Store.ClaimReviews(ctx, c.now(), c.owner(), claimTTL, batch)
		if err != nil {
			return err
		}
		start := time.Now()
		var g errgroup.Group
		g.SetLimit(parallel)
		for _, d := range claimed {
			if err := ctx.Err(); err != nil {
				_ = g.Wait()
				c.release(claimed, d)
				return err
			}
			g.Go(func() error {
				r := c.review(ctx, d)
				mu.Lock()
				rep.add(r)
				mu.Unlock()
				return nil
			})
		}
		_ = g.Wait()
		if len(claimed) < batch {
			return nil
		}
		// Rest as long as the batch took: a backlog drains at half speed
		// rather than taking the CPU and the store from clients.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Since(start)):
		}
	}
}

// release gives back the claims not reviewed (from from on).
func (c *Collector) release(claimed []string, from string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	started := false
	for _, d := range claimed {
		started = started || d == from
		if started {
			_ = c.Store.ReleaseReview(ctx, d, c.owner())
		}
	}
}

// review decides one blob and carries the decision out.
func (c *Collector) review(ctx context.Context, d string) (rep Report) {
	rep.Reviewed++
	plan, err := c.Store.PlanCollection(ctx, d, c.owner(), c.now())
	switch {
	case metadata.Is(err, metadata.Changed):
		return rep // referenced again (its review pushed out) or taken over
	case err != nil:
		c.postpone(ctx, d, err, &rep)
		return rep
	case plan.Empty():
		return rep
	}
	c.log().Debug("gc: collecting", "digest", plan.Digest, "delete", plan.Delete, "unlink", fmt.Sprint(plan.Unlink))
	if err := c.remove(ctx, &plan); err != nil {
		c.postpone(ctx, d, err, &rep)
		return rep
	}
	if err := c.Store.FinishCollection(ctx, plan, c.owner()); err != nil {
		c.postpone(ctx, d, err, &rep)
		return rep
	}
	rep.Collections = append(rep.Collections, plan)
	rep.LinksRemoved += len(plan.Unlink)
	if plan.Delete {
		rep.BlobsDeleted++
		rep.BytesReclaimed += plan.Size
	}
	if m := c.Metrics; m != nil {
		m.LinksRemoved.Add(float64(len(plan.Unlink)))
		if plan.Delete {
			m.BlobsDeleted.Inc()
			m.BytesReclaimed.Add(float64(plan.Size))
		}
	}
	return rep
}

// add adds o's counts and decisions to r.
func (r *Report) add(o Report) {
	r.Reviewed += o.Reviewed
	r.BlobsDeleted += o.BlobsDeleted
	r.LinksRemoved += o.LinksRemoved
	r.Failures += o.Failures
	r.UploadsPurged += o.UploadsPurged
	r.BytesReclaimed += o.BytesReclaimed
	r.Collections = append(r.Collections, o.Collections...)
}

// retryAfter is when a review that failed failures times in a row is due
// again.
func (c *Collector) retryAfter(failures int) time.Time {
	d := retryDelay
	for i := 1; i < failures && d < maxRetryDelay; i++ {
		d *= 2
	}
	return c.now().Add(min(d, maxRetryDelay))
}

// postpone puts a failed review back, backing off per blob.
func (c *Collector) postpone(ctx context.Context, d string, cause error, rep *Report) {
	rep.Failures++
	if c.Metrics != nil {
		c.Metrics.ReviewFailures.Inc()
	}
	c.log().Warn("gc: review failed; postponed", "digest", d, "error", cause)
	if err := c.Store.PostponeReview(context.WithoutCancel(ctx), d, c.owner(), c.retryAfter, cause.Error()); err != nil {
		c.log().Warn("gc: postponing a review", "digest", d, "error", err)
	}
}

// remove deletes what plan marked from storage: the repositories' links
// (and the links of the blob's other names), then the blob's data. Each
// deletion is idempotent: a review a crash interrupted repeats them.
func (c *Collector) remove(ctx context.Context, plan *metadata.Collection) error {
	d, err := digest.Parse(plan.Digest)
	if err != nil {
		return fmt.Errorf("reviewing %q: %w", plan.Digest, err)
	}
	for _, l := range plan.Unlink {
		paths := []string{linkPath(l.Repository, l.Kind, d)}
		for _, a := range plan.Aliases {
			if ad, err := digest.Parse(a); err == nil {
				paths = append(paths, linkPath(l.Repository, l.Kind, ad))
			}
		}
		for _, p := range paths {
			if err := c.delete(ctx, p); err != nil {
				return err
			}
		}
	}
	if !plan.Delete {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, storageTimeout)
	fi, err := c.Driver.Stat(sctx, path.Join(blobDir(d), "data"))
	cancel()
	if err == nil {
		plan.Size = fi.Size()
	}
	return c.delete(ctx, blobDir(d))
}

func (c *Collector) delete(ctx context.Context, p string) error {
	sctx, cancel := context.WithTimeout(ctx, storageTimeout)
	defer cancel()
	err := c.Driver.Delete(sctx, p)
	var pnf storagedriver.PathNotFoundError
	if err != nil && !errors.As(err, &pnf) {
		return fmt.Errorf("deleting %s: %w", p, err)
	}
	return nil
}

// observe updates the queue gauges from the store.
func (c *Collector) observe(ctx context.Context) {
	m := c.Metrics
	if m == nil {
		return
	}
	st, err := c.Store.GCStatus(ctx, c.now())
	if err != nil {
		return
	}
	m.QueueDepth.Set(float64(st.Queued))
	m.QueueDue.Set(float64(st.Due))
	m.BytesAwaiting.Set(float64(st.BytesQueued))
	if st.OldestDue.IsZero() {
		m.OldestDue.Set(0)
	} else {
		m.OldestDue.Set(c.now().Sub(st.OldestDue).Seconds())
	}
}

func (c *Collector) owner() string {
	if c.Node == "" {
		return "berth"
	}
	return c.Node
}

func (c *Collector) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Collector) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
