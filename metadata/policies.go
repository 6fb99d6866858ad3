package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// checkPolicyScope validates kind against repo: registry policies have no
// repository, the others need one.
func checkPolicyScope(op string, kind PolicyKind, repo string) error {
	switch kind {
	case PolicyRegistry:
		if repo != "" {
			return newErr(op, Invalid, "policy", "registry policy with repository %q", repo)
		}
	case PolicyRepository, PolicyLifecycle:
		if repo == "" {
			return newErr(op, Invalid, "policy", "%s policy without repository", kind)
		}
	default:
		return newErr(op, Invalid, "policy", "unknown policy kind %q", kind)
	}
	return nil
}

// getPolicy reads a policy inside t: Kind NotFound for a missing
// repository (entity "repository") or policy (entity "policy").
func getPolicy(t *tx, op string, kind PolicyKind, registryID, repo string) (Policy, error) {
	if kind != PolicyRegistry {
		if err := repoExists(t, op, registryID, repo); err != nil {
			return Policy{}, err
		}
	}
	p := Policy{Kind: kind, RegistryID: registryID, Repository: repo}
	var updated int64
	err := t.row("SELECT body, updated_at FROM policies WHERE registry_id = ? AND repo = ? AND kind = ?",
		registryID, repo, string(kind)).Scan(&p.Text, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, newErr(op, NotFound, "policy", "no %s policy", kind)
	}
	p.UpdatedAt = fromMicros(updated)
	return p, err
}

func (s *sqlStore) GetPolicy(ctx context.Context, kind PolicyKind, registryID, repo string) (Policy, error) {
	const op = "GetPolicy"
	if err := checkPolicyScope(op, kind, repo); err != nil {
		return Policy{}, err
	}
	var p Policy
	err := s.read(ctx, func(t *tx) (err error) {
		p, err = getPolicy(t, op, kind, registryID, repo)
		return err
	})
	if err != nil {
		return Policy{}, fail(op, "policy", err)
	}
	return p, nil
}

func (s *sqlStore) PutPolicy(ctx context.Context, kind PolicyKind, registryID, repo, text string) (Policy, error) {
	const op = "PutPolicy"
	if err := checkPolicyScope(op, kind, repo); err != nil {
		return Policy{}, err
	}
	p := Policy{Kind: kind, RegistryID: registryID, Repository: repo, Text: text, UpdatedAt: stamp(time.Time{})}
	err := s.write(ctx, func(t *tx) error {
		if kind != PolicyRegistry {
			// Locked so a concurrent DeleteRepository cannot leave the
			// policy behind.
			if _, err := getRepo(t, op, registryID, repo, "KEY SHARE"); err != nil {
				return err
			}
		}
		_, err := t.exec(`INSERT INTO policies (kind, registry_id, repo, body, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (registry_id, repo, kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
			string(kind), registryID, repo, text, micros(p.UpdatedAt))
		if err != nil || kind == PolicyLifecycle {
			return err
		}
		return bumpAuthz(t)
	})
	if err != nil {
		return Policy{}, fail(op, "policy", err)
	}
	return p, nil
}

func (s *sqlStore) DeletePolicy(ctx context.Context, kind PolicyKind, registryID, repo string) (Policy, error) {
	const op = "DeletePolicy"
	if err := checkPolicyScope(op, kind, repo); err != nil {
		return Policy{}, err
	}
	var p Policy
	err := s.write(ctx, func(t *tx) (err error) {
		if p, err = getPolicy(t, op, kind, registryID, repo); err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM policies WHERE registry_id = ? AND repo = ? AND kind = ?", registryID, repo, string(kind))
		if err != nil || kind == PolicyLifecycle {
			return err
		}
		return bumpAuthz(t)
	})
	if err != nil {
		return Policy{}, fail(op, "policy", err)
	}
	return p, nil
}

func (s *sqlStore) PutLifecyclePreview(ctx context.Context, pv LifecyclePreview) error {
	const op = "PutLifecyclePreview"
	pv.StartedAt = stamp(pv.StartedAt)
	err := s.write(ctx, func(t *tx) error {
		if err := repoExists(t, op, pv.RegistryID, pv.Repository); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO lifecycle_previews (registry_id, repo, policy_text, status, started_at, results)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (registry_id, repo) DO UPDATE SET policy_text = excluded.policy_text,
			status = excluded.status, started_at = excluded.started_at, results = excluded.results`,
			pv.RegistryID, pv.Repository, pv.PolicyText, pv.Status, micros(pv.StartedAt), pv.Results)
		if isForeignKey(err) {
			return newErr(op, NotFound, "repository", "%s", pv.Repository)
		}
		return err
	})
	return fail(op, "lifecycle preview", err)
}

func (s *sqlStore) GetLifecyclePreview(ctx context.Context, registryID, repo string) (LifecyclePreview, error) {
	const op = "GetLifecyclePreview"
	pv := LifecyclePreview{RegistryID: registryID, Repository: repo}
	err := s.read(ctx, func(t *tx) error {
		if err := repoExists(t, op, registryID, repo); err != nil {
			return err
		}
		var started int64
		err := t.row("SELECT policy_text, status, started_at, results FROM lifecycle_previews WHERE registry_id = ? AND repo = ?",
			registryID, repo).Scan(&pv.PolicyText, &pv.Status, &started, &pv.Results)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "lifecycle preview", "%s", repo)
		}
		pv.StartedAt = fromMicros(started)
		return err
	})
	if err != nil {
		return LifecyclePreview{}, fail(op, "lifecycle preview", err)
	}
	return pv, nil
}
