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

// DefaultInterval is how often Run sweeps when Interval is zero. ECR
// promises action "within 24 hours"; an hourly sweep keeps well inside.
const DefaultInterval = time.Hour

// Runner applies the stored lifecycle policies of registries.
type Runner struct {
	Store metadata.Store
	// Expire deletes an image from storage and metadata. An image already
	// gone (metadata Kind NotFound) is not an error.
	Expire func(ctx context.Context, registryID, repo, digest string) error
	// RegistryIDs are the registries Run sweeps.
	RegistryIDs []string
	Interval    time.Duration
	Log         *slog.Logger
	Now         func() time.Time
}

// Run sweeps every registry at once and then every Interval until ctx is
// done. Failures are logged; the next sweep retries.
func (r *Runner) Run(ctx context.Context) {
	every := r.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, id := range r.RegistryIDs {
			n, err := r.RunOnce(ctx, id)
			if err != nil && ctx.Err() == nil {
				r.log().Error("lifecycle sweep failed", "registry", id, "expired", n, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce evaluates the policy of every repository of registryID that has
// one and expires what it selects. It carries on past failures of single
// repositories or images and returns them joined, with the number of
// images expired.
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
			n, err := r.runRepository(ctx, registryID, repo.Name)
			total += n
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

func (r *Runner) runRepository(ctx context.Context, registryID, repo string) (int, error) {
	pol, err := r.Store.GetPolicy(ctx, metadata.PolicyLifecycle, registryID, repo)
	if metadata.Is(err, metadata.NotFound) {
		return 0, nil
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
	now := r.now()
	n, skipped := 0, 0
	var errs []error
	for _, res := range Evaluate(p, imgs, now) {
		if res.Action != Expire {
			skipped++ // berth has no archive storage class
			continue
		}
		err := r.Expire(ctx, registryID, repo, res.Digest)
		switch {
		case err == nil:
			n++
			r.log().Info("lifecycle expired image", "registry", registryID, "repository", repo,
				"digest", res.Digest, "tags", res.Tags, "rule", res.RulePriority)
		case metadata.Is(err, metadata.NotFound):
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
	if err := r.Store.PutSetting(ctx, registryID, LastEvaluatedSetting(repo), now.UTC().Format(time.RFC3339Nano)); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
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
