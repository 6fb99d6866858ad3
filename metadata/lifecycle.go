package metadata

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// RepoKey names a repository.
type RepoKey struct{ RegistryID, Repository string }

// lastEvaluatedSetting is where runs were recorded before lifecycle_runs
// existed: read as a fallback, removed when the repository's next run is
// recorded.
const lastEvaluatedSetting = "lifecycle.lastEvaluatedAt/"

// DueLifecycleRuns lists, across every registry, repositories with a
// lifecycle policy whose next run is due at now (never run, or next run
// at or before now), oldest due first, at most limit.
func (s *sqlStore) DueLifecycleRuns(ctx context.Context, now time.Time, limit int) ([]RepoKey, error) {
	const op = "DueLifecycleRuns"
	var out []RepoKey
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(`SELECT p.registry_id, p.repo FROM policies p
			LEFT JOIN lifecycle_runs r ON r.registry_id = p.registry_id AND r.repo = p.repo
			WHERE p.kind = ? AND (r.repo IS NULL OR r.next_run_at <= ?)
			ORDER BY COALESCE(r.next_run_at, 0), p.registry_id, p.repo LIMIT ?`,
			string(PolicyLifecycle), micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k RepoKey
			if err := rows.Scan(&k.RegistryID, &k.Repository); err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fail(op, "lifecycle run", err)
	}
	return out, nil
}

// LifecycleRunDue reports whether repo's lifecycle run is due at now
// (read again after taking its lease: another node may have just run it).
func (s *sqlStore) LifecycleRunDue(ctx context.Context, registryID, repo string, now time.Time) (bool, error) {
	const op = "LifecycleRunDue"
	var due bool
	err := s.read(ctx, func(t *tx) error {
		var next int64
		err := t.row("SELECT next_run_at FROM lifecycle_runs WHERE registry_id = ? AND repo = ?", registryID, repo).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			due = true
			return nil
		}
		due = err == nil && next <= micros(now)
		return err
	})
	return due, fail(op, "lifecycle run", err)
}

// FinishLifecycleRun records that repo's policy was evaluated at
// evaluated and is next due at next, and releases the lease leaseName
// held by owner, in one transaction. It is bookkeeping: the authorization
// version does not move.
func (s *sqlStore) FinishLifecycleRun(ctx context.Context, registryID, repo string, evaluated, next time.Time, leaseName, owner string) error {
	const op = "FinishLifecycleRun"
	err := s.write(ctx, func(t *tx) error {
		// Gone meanwhile (DeleteRepository): nothing to record.
		ok, err := t.exists("SELECT 1 FROM repositories WHERE registry_id = ? AND name = ?", registryID, repo)
		if err != nil {
			return err
		}
		if ok {
			if _, err := t.exec(`INSERT INTO lifecycle_runs (registry_id, repo, last_evaluated_at, next_run_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (registry_id, repo) DO UPDATE SET last_evaluated_at = excluded.last_evaluated_at, next_run_at = excluded.next_run_at`,
				registryID, repo, micros(evaluated), micros(next)); err != nil {
				return err
			}
			if _, err := t.exec("DELETE FROM settings WHERE registry_id = ? AND name = ?", registryID, lastEvaluatedSetting+repo); err != nil {
				return err
			}
		}
		if leaseName != "" {
			_, err = t.exec("DELETE FROM leases WHERE name = ? AND owner = ?", leaseName, owner)
		}
		return err
	})
	return fail(op, "lifecycle run", err)
}

// LifecycleLastEvaluated returns when repo's lifecycle policy was last
// evaluated (zero when never).
func (s *sqlStore) LifecycleLastEvaluated(ctx context.Context, registryID, repo string) (time.Time, error) {
	const op = "LifecycleLastEvaluated"
	var at time.Time
	err := s.read(ctx, func(t *tx) error {
		var v int64
		err := t.row("SELECT last_evaluated_at FROM lifecycle_runs WHERE registry_id = ? AND repo = ?", registryID, repo).Scan(&v)
		if err == nil {
			at = fromMicros(v)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var text string
		err = t.row("SELECT value FROM settings WHERE registry_id = ? AND name = ?", registryID, lastEvaluatedSetting+repo).Scan(&text)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if parsed, perr := time.Parse(time.RFC3339Nano, strings.TrimSpace(text)); perr == nil {
			at = parsed.UTC()
		}
		return nil
	})
	return at, fail(op, "lifecycle run", err)
}
