package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// PullThroughRule is a pull-through cache rule of a registry: repositories
// named Prefix/… are cached from UpstreamURL.
type PullThroughRule struct {
	RegistryID       string
	Prefix           string // ecrRepositoryPrefix without its trailing "/", or "ROOT"
	UpstreamURL      string // upstreamRegistryUrl as given (host[:port][/path])
	UpstreamRegistry string // ecr, docker-hub, ... ("" when not given)
	UpstreamPrefix   string // upstreamRepositoryPrefix ("ROOT" when absent)
	CredentialArn    string
	CustomRoleArn    string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// PullThrough is the store's part for pull-through cache rules and the
// cached tags' upstream checks.
type PullThrough interface {
	// CreatePullThroughRule stores r after check accepts the number of
	// rules the registry already has (check's error is returned as is);
	// Kind AlreadyExists when the prefix has a rule.
	CreatePullThroughRule(ctx context.Context, r PullThroughRule, check func(existing int) error) (PullThroughRule, error)
	// GetPullThroughRule: Kind NotFound if absent.
	GetPullThroughRule(ctx context.Context, registryID, prefix string) (PullThroughRule, error)
	// ListPullThroughRules pages a registry's rules by prefix.
	ListPullThroughRules(ctx context.Context, registryID string, p Page) ([]PullThroughRule, string, error)
	// UpdatePullThroughRule applies fn (whose error is returned as is) to
	// the stored rule; prefix, upstream and CreatedAt cannot change.
	UpdatePullThroughRule(ctx context.Context, registryID, prefix string, fn func(*PullThroughRule) error) (PullThroughRule, error)
	// DeletePullThroughRule removes the rule and returns it.
	DeletePullThroughRule(ctx context.Context, registryID, prefix string) (PullThroughRule, error)

	// TagCheckedAt is when a cached tag was last compared with its
	// upstream (ok=false: never).
	TagCheckedAt(ctx context.Context, registryID, repo, tag string) (at time.Time, ok bool, err error)
	// MarkTagChecked records such a comparison at at.
	MarkTagChecked(ctx context.Context, registryID, repo, tag string, at time.Time) error

	// Secrets Manager secrets (upstream credentials), by account; id is a
	// name or an ARN (secrets.go).
	CreateSecret(ctx context.Context, s Secret) (Secret, error)
	GetSecret(ctx context.Context, account, id string) (Secret, error)
	ListSecrets(ctx context.Context, account string, withScheduled bool, p Page) ([]Secret, string, error)
	UpdateSecret(ctx context.Context, account, id string, fn func(*Secret) error) (Secret, error)
	DeleteSecret(ctx context.Context, account, id string) (Secret, error)
}

const ptcCols = `registry_id, prefix, upstream_url, upstream_registry, upstream_prefix, credential_arn,
	custom_role_arn, created_at, updated_at`

func scanPTC(sc scanner) (PullThroughRule, error) {
	var (
		r                PullThroughRule
		created, updated int64
	)
	err := sc.Scan(&r.RegistryID, &r.Prefix, &r.UpstreamURL, &r.UpstreamRegistry, &r.UpstreamPrefix,
		&r.CredentialArn, &r.CustomRoleArn, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, err
}

func getPTC(t *tx, op, registryID, prefix, lock string) (PullThroughRule, error) {
	q := "SELECT " + ptcCols + " FROM pull_through_rules WHERE registry_id = ? AND prefix = ?"
	if lock != "" {
		q += t.lock(lock)
	}
	r, err := scanPTC(t.row(q, registryID, prefix))
	if errors.Is(err, sql.ErrNoRows) {
		return r, newErr(op, NotFound, "pull through cache rule", "%s", prefix)
	}
	return r, err
}

func (s *sqlStore) CreatePullThroughRule(ctx context.Context, r PullThroughRule, check func(existing int) error) (PullThroughRule, error) {
	const op = "CreatePullThroughRule"
	if r.RegistryID == "" || r.Prefix == "" || r.UpstreamURL == "" {
		return PullThroughRule{}, newErr(op, Invalid, "pull through cache rule", "registry id, prefix and upstream are required")
	}
	r.CreatedAt = stamp(r.CreatedAt)
	r.UpdatedAt = r.CreatedAt
	err := s.write(ctx, func(t *tx) error {
		if err := ensureRegistry(t, r.RegistryID); err != nil {
			return err
		}
		// The registry's row orders concurrent creates (PostgreSQL; a
		// SQLite write transaction is exclusive anyway), so the limit
		// holds.
		var one int
		if err := t.row("SELECT 1 FROM registries WHERE id = ?"+t.lock("UPDATE"), r.RegistryID).Scan(&one); err != nil {
			return err
		}
		if ok, err := t.exists("SELECT 1 FROM pull_through_rules WHERE registry_id = ? AND prefix = ?", r.RegistryID, r.Prefix); err != nil {
			return err
		} else if ok {
			return newErr(op, AlreadyExists, "pull through cache rule", "%s", r.Prefix)
		}
		var n int
		if err := t.row("SELECT COUNT(*) FROM pull_through_rules WHERE registry_id = ?", r.RegistryID).Scan(&n); err != nil {
			return err
		}
		if check != nil {
			if err := check(n); err != nil {
				return userError{err}
			}
		}
		_, err := t.exec("INSERT INTO pull_through_rules ("+ptcCols+") VALUES ("+placeholders(9)+")",
			r.RegistryID, r.Prefix, r.UpstreamURL, r.UpstreamRegistry, r.UpstreamPrefix, r.CredentialArn,
			r.CustomRoleArn, micros(r.CreatedAt), micros(r.UpdatedAt))
		return err
	})
	if err != nil {
		return PullThroughRule{}, fail(op, "pull through cache rule", err)
	}
	return r, nil
}

func (s *sqlStore) GetPullThroughRule(ctx context.Context, registryID, prefix string) (PullThroughRule, error) {
	const op = "GetPullThroughRule"
	var r PullThroughRule
	err := s.read(ctx, func(t *tx) (err error) {
		r, err = getPTC(t, op, registryID, prefix, "")
		return err
	})
	if err != nil {
		return PullThroughRule{}, fail(op, "pull through cache rule", err)
	}
	return r, nil
}

func (s *sqlStore) ListPullThroughRules(ctx context.Context, registryID string, p Page) ([]PullThroughRule, string, error) {
	const op = "ListPullThroughRules"
	n := limit(p)
	var out []PullThroughRule
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query("SELECT "+ptcCols+" FROM pull_through_rules WHERE registry_id = ? AND prefix > ? ORDER BY prefix LIMIT ?",
			registryID, p.After, n+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanPTC(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fail(op, "pull through cache rule", err)
	}
	out, next := cut(out, n, func(r PullThroughRule) string { return r.Prefix })
	return out, next, nil
}

func (s *sqlStore) UpdatePullThroughRule(ctx context.Context, registryID, prefix string, fn func(*PullThroughRule) error) (PullThroughRule, error) {
	const op = "UpdatePullThroughRule"
	var out PullThroughRule
	err := s.write(ctx, func(t *tx) error {
		cur, err := getPTC(t, op, registryID, prefix, "UPDATE")
		if err != nil {
			return err
		}
		r := cur
		if err := fn(&r); err != nil {
			return userError{err}
		}
		r.RegistryID, r.Prefix, r.UpstreamURL, r.UpstreamRegistry, r.UpstreamPrefix, r.CreatedAt =
			cur.RegistryID, cur.Prefix, cur.UpstreamURL, cur.UpstreamRegistry, cur.UpstreamPrefix, cur.CreatedAt
		r.UpdatedAt = stamp(time.Time{})
		_, err = t.exec(`UPDATE pull_through_rules SET credential_arn = ?, custom_role_arn = ?, updated_at = ?
			WHERE registry_id = ? AND prefix = ?`, r.CredentialArn, r.CustomRoleArn, micros(r.UpdatedAt), registryID, prefix)
		out = r
		return err
	})
	if err != nil {
		return PullThroughRule{}, fail(op, "pull through cache rule", err)
	}
	return out, nil
}

func (s *sqlStore) DeletePullThroughRule(ctx context.Context, registryID, prefix string) (PullThroughRule, error) {
	const op = "DeletePullThroughRule"
	var r PullThroughRule
	err := s.write(ctx, func(t *tx) (err error) {
		if r, err = getPTC(t, op, registryID, prefix, "UPDATE"); err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM pull_through_rules WHERE registry_id = ? AND prefix = ?", registryID, prefix)
		return err
	})
	if err != nil {
		return PullThroughRule{}, fail(op, "pull through cache rule", err)
	}
	return r, nil
}

func (s *sqlStore) TagCheckedAt(ctx context.Context, registryID, repo, tag string) (time.Time, bool, error) {
	const op = "TagCheckedAt"
	var at int64
	err := s.read(ctx, func(t *tx) error {
		return t.row("SELECT checked_at FROM pull_through_tag_checks WHERE registry_id = ? AND repo = ? AND tag = ?",
			registryID, repo, tag).Scan(&at)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fail(op, "tag check", err)
	}
	return fromMicros(at), true, nil
}

func (s *sqlStore) MarkTagChecked(ctx context.Context, registryID, repo, tag string, at time.Time) error {
	const op = "MarkTagChecked"
	return fail(op, "tag check", s.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO pull_through_tag_checks (registry_id, repo, tag, checked_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (registry_id, repo, tag) DO UPDATE SET checked_at = excluded.checked_at`,
			registryID, repo, tag, micros(at))
		return err
	}))
}
