package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// DefaultInterval is how often each repository's policy is applied when
// Interval is zero. ECR promises action "within 24 hours"; an hourly sweep
// keeps well inside.
const DefaultInterval = time.Hour

// leaseTTL is how long a node's claim on one repository's sweep lasts
// without renewal: a node that dies mid-sweep holds it this long at most.
const leaseTTL = 2 * time.Minute

// Store is what the runner needs of the metadata store.
type Store interface {
	ListRepositories(ctx context.Context, registryID string, p metadata.Page) ([]metadata.Repository, string, error)
	ListImages(ctx context.Context, registryID, repo string, status metadata.TagStatus, p metadata.Page) ([]metadata.Image, string, error)
	GetPolicy(ctx context.Context, kind metadata.PolicyKind, registryID, repo string) (metadata.Policy, error)
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
	DueLifecycleRuns(ctx context.Context, now time.Time, limit int) ([]metadata.RepoKey, error)
	LifecycleRunDue(ctx context.Context, registryID, repo string, now time.Time) (bool, error)
	FinishLifecycleRun(ctx context.Context, registryID, repo string, evaluated, next time.Time, leaseName, owner string) error
	LifecycleLastEvaluated(ctx context.Context, registryID, repo string) (time.Time, error)
}

// Runner applies stored lifecycle policies. Any number of nodes sharing
// one store may run it: each repository's sweep is claimed by one node
// through a lease, and a finished sweep is not due again for Interval.
type Runner struct {
	Store Store
	// Expire deletes an image from the store (then storage) only while it
	// still carries exactly tags, the tags it was evaluated with (sorted;
	// nil for none). An image gone or changed meanwhile (metadata Kinds
	// NotFound, Changed, Referenced) is skipped, not an error.
	Expire   func(ctx context.Context, registryID, repo, digest string, tags []string) error
	Interval time.Duration
	// Node names this process in leases; it must differ between nodes.
	Node string
	Log  *slog.Logger
	Now  func() time.Time
}

// Run applies every registry's due policies now and then as they come due,
// until ctx is done. Failures are logged; the next run retries.
func (r *Runner) Run(ctx context.Context) {
	poll := min(max(r.interval()/4, time.Second), time.Minute)
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			r.log().Error("lifecycle: sweep failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunDue sweeps the repositories whose run is due and that no other node
// is sweeping, and returns the number of images expired.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	total := 0
	var errs []error
	for {
		due, err := r.Store.DueLifecycleRuns(ctx, r.now(), 100)
		if err != nil {
			return total, errors.Join(append(errs, err)...)
		}
		swept := 0
		for _, k := range due {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n, ran, err := r.claimAndRun(ctx, k.RegistryID, k.Repository)
			total += n
			if ran {
				swept++
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("registry %s repository %s: %w", k.RegistryID, k.Repository, err))
			}
		}
		// Fewer than a page, or all of it claimed elsewhere: done for now.
		if len(due) < 100 || swept == 0 {
			return total, errors.Join(errs...)
		}
	}
}

// claimAndRun sweeps one repository if this node gets its lease and the
// run is still due once it holds it (another node may have just run it).
func (r *Runner) claimAndRun(ctx context.Context, registryID, repo string) (int, bool, error) {
	lease := "lifecycle/" + registryID + "/" + repo
	owner := r.Node
	if owner == "" {
		owner = "berth"
	}
	got, err := r.Store.AcquireLease(ctx, lease, owner, leaseTTL)
	if err != nil || !got {
		return 0, false, err
	}
	now := r.now()
	due, err := r.Store.LifecycleRunDue(ctx, registryID, repo, now)
	if err != nil || !due {
		return 0, false, errors.Join(err, r.Store.ReleaseLease(ctx, lease, owner))
	}
	sweepCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go r.keepLease(sweepCtx, cancel, lease, owner)
	n, err := r.runRepository(sweepCtx, registryID, repo, now)
	if ferr := r.Store.FinishLifecycleRun(ctx, registryID, repo, now, now.Add(r.interval()), lease, owner); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return n, true, err
}

// keepLease renews the lease while a sweep runs; losing it (the store
// unreachable for longer than the lease) stops the sweep.
func (r *Runner) keepLease(ctx context.Context, stop context.CancelFunc, lease, owner string) {
	t := time.NewTicker(leaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			held, err := r.Store.RenewLease(ctx, lease, owner, leaseTTL)
			if ctx.Err() != nil {
				return
			}
			if err != nil || !held {
				r.log().Warn("lifecycle: lost the lease on a sweep; stopping it", "lease", lease, "error", err)
				stop()
				return
			}
		}
	}
}

// RunOnce applies the policy of every repository of registryID that has
// one, now, whether due or not (tests, and operators through the API). It
// carries on past failures of single repositories or images and returns
// them joined, with the number of images expired.
func (r *Runner) RunOnce(ctx context.Context, registryID string) (int, error) {
	total := 0
	var errs []error
	after := ""
	for {
		repos, next, err := r.Store.ListRepositories(ctx, registryID, metadata.Page{Limit: 100, After: after})
		if err != nil {
			return total, errors.Join(append(errs, err)...)
		}
		for _, repo := range repos {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			now := r.now()
			n, err := r.runRepository(ctx, registryID, repo.Name, now)
			total += n
			if !errors.Is(err, errNoPolicy) {
				err = errors.Join(err, r.Store.FinishLifecycleRun(ctx, registryID, repo.Name, now, now.Add(r.interval()), "", ""))
			} else {
				err = nil
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("repository %s: %w", repo.Name, err))
			}
		}
		if next == "" {
			return total, errors.Join(errs...)
		}
		after = next
	}
}

var errNoPolicy = errors.New("no lifecycle policy")

func (r *Runner) runRepository(ctx context.Context, registryID, repo string, now time.Time) (int, error) {
	pol, err := r.Store.GetPolicy(ctx, metadata.PolicyLifecycle, registryID, repo)
	if metadata.Is(err, metadata.NotFound) {
		return 0, errNoPolicy
	}
	if err != nil {
		return 0, err
	}
	p, err := Parse(pol.Text)
	if err != nil {
		return 0, fmt.Errorf("stored lifecycle policy no longer valid: %w", err)
	}
	imgs, err := Images(ctx, r.Store, registryID, repo)
	if err != nil {
		return 0, err
	}
	n, skipped := 0, 0
	var errs []error
	for _, res := range Evaluate(p, imgs, now) {
		if res.Action != Expire {
			skipped++ // berth has no archive storage class
			continue
		}
		err := r.Expire(ctx, registryID, repo, res.Digest, res.Tags)
		switch {
		case err == nil:
			n++
			r.log().Info("lifecycle expired image", "registry", registryID, "repository", repo,
				"digest", res.Digest, "tags", res.Tags, "rule", res.RulePriority)
		case metadata.Is(err, metadata.NotFound), metadata.Is(err, metadata.Changed), metadata.Is(err, metadata.Referenced):
			// Gone, retagged or listed by an index since the evaluation:
			// the next run decides again on what is then true.
		case ctx.Err() != nil:
			return n, ctx.Err()
		default:
			errs = append(errs, fmt.Errorf("expiring %s: %w", res.Digest, err))
		}
	}
	if skipped > 0 {
		r.log().Warn("lifecycle transition rules not applied: berth has no archive storage class",
			"registry", registryID, "repository", repo, "images", skipped)
	}
	return n, errors.Join(errs...)
}

func (r *Runner) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultInterval
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
