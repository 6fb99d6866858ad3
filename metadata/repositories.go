package metadata

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"
)

const repoCols = `registry_id, name, created_at, tag_mutability, mutability_exclusions,
	scan_on_push, encryption_type, kms_key, resource_tags, image_count`

type scanner interface{ Scan(dest ...any) error }

func scanRepo(sc scanner) (Repository, error) {
	var (
		r               Repository
		created         int64
		excl, tags      string
		scan            int
		registry, name  string
		mut, enc, kmsID string
	)
	if err := sc.Scan(&registry, &name, &created, &mut, &excl, &scan, &enc, &kmsID, &tags, &r.ImageCount); err != nil {
		return r, err
	}
	r.RegistryID, r.Name, r.CreatedAt = registry, name, fromMicros(created)
	r.TagMutability, r.ScanOnPush, r.EncryptionType, r.KMSKey = mut, scan != 0, enc, kmsID
	var err error
	if r.MutabilityExclusions, err = decJSON[string](excl); err != nil {
		return r, err
	}
	r.Tags, err = decJSON[ResourceTag](tags)
	return r, err
}

// validMutability reports whether m is a tag mutability mode ("" = MUTABLE).
func validMutability(m string) bool {
	switch m {
	case "", Mutable, Immutable, ImmutableWithExclusion, MutableWithExclusion:
		return true
	}
	return false
}

func (s *sqlStore) EnsureRegistry(ctx context.Context, registryID string) error {
	const op = "EnsureRegistry"
	if registryID == "" {
		return newErr(op, Invalid, "registry", "empty registry id")
	}
	return fail(op, "registry", s.write(ctx, func(t *tx) error {
		return ensureRegistry(t, registryID)
	}))
}

func ensureRegistry(t *tx, registryID string) error {
	_, err := t.exec("INSERT INTO registries (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
		registryID, micros(time.Now()))
	return err
}

func (s *sqlStore) CreateRepository(ctx context.Context, r Repository) (Repository, error) {
	const op = "CreateRepository"
	if r.RegistryID == "" || r.Name == "" {
		return Repository{}, newErr(op, Invalid, "repository", "registry id and name are required")
	}
	if !validMutability(r.TagMutability) {
		return Repository{}, newErr(op, Invalid, "repository", "unknown tag mutability %q", r.TagMutability)
	}
	r.CreatedAt = stamp(r.CreatedAt)
	r.ImageCount = 0
	err := s.write(ctx, func(t *tx) error {
		if err := ensureRegistry(t, r.RegistryID); err != nil {
			return err
		}
		_, err := t.exec(`INSERT INTO repositories (`+repoCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
			r.RegistryID, r.Name, micros(r.CreatedAt), r.TagMutability, encJSON(r.MutabilityExclusions),
			boolInt(r.ScanOnPush), r.EncryptionType, r.KMSKey, encJSON(r.Tags))
		if err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	if err != nil {
		return Repository{}, fail(op, "repository", err)
	}
	return r, nil
}

// getRepo reads a repository inside t (Kind NotFound when absent), with
// lock as the row-locking mode on PostgreSQL ("" for none).
func getRepo(t *tx, op, registryID, name, lock string) (Repository, error) {
	q := "SELECT " + repoCols + " FROM repositories WHERE registry_id = ? AND name = ?"
	if lock != "" {
		q += t.lock(lock)
	}
	r, err := scanRepo(t.row(q, registryID, name))
	if errors.Is(err, sql.ErrNoRows) {
		return r, newErr(op, NotFound, "repository", "%s", name)
	}
	return r, err
}

// repoExists checks a repository inside t (Kind NotFound when absent).
func repoExists(t *tx, op, registryID, name string) error {
	ok, err := t.exists("SELECT 1 FROM repositories WHERE registry_id = ? AND name = ?", registryID, name)
	if err == nil && !ok {
		err = newErr(op, NotFound, "repository", "%s", name)
	}
	return err
}

func (s *sqlStore) GetRepository(ctx context.Context, registryID, name string) (Repository, error) {
	const op = "GetRepository"
	var r Repository
	err := s.read(ctx, func(t *tx) (err error) {
		r, err = getRepo(t, op, registryID, name, "")
		return err
	})
	return r, fail(op, "repository", err)
}

func (s *sqlStore) ListRepositories(ctx context.Context, registryID string, p Page) ([]Repository, string, error) {
	const op = "ListRepositories"
	n := limit(p)
	var out []Repository
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query("SELECT "+repoCols+" FROM repositories WHERE registry_id = ? AND name > ? ORDER BY name LIMIT ?",
			registryID, p.After, n+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRepo(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fail(op, "repository", err)
	}
	out, next := cut(out, n, func(r Repository) string { return r.Name })
	return out, next, nil
}

// cut trims a page fetched with limit n+1 to n and returns the cursor of
// its last entry when more follow.
func cut[T any](rows []T, n int, key func(T) string) ([]T, string) {
	if len(rows) <= n {
		return rows, ""
	}
	rows = rows[:n]
	return rows, key(rows[n-1])
}

func (s *sqlStore) UpdateRepository(ctx context.Context, registryID, name string, fn func(*Repository) error) (Repository, error) {
	const op = "UpdateRepository"
	var out Repository
	err := s.write(ctx, func(t *tx) error {
		cur, err := getRepo(t, op, registryID, name, "UPDATE")
		if err != nil {
			return err
		}
		r := cur
		r.MutabilityExclusions = append([]string(nil), cur.MutabilityExclusions...)
		r.Tags = append([]ResourceTag(nil), cur.Tags...)
		if err := fn(&r); err != nil {
			return userError{err}
		}
		if !validMutability(r.TagMutability) {
			return newErr(op, Invalid, "repository", "unknown tag mutability %q", r.TagMutability)
		}
		// Identity, creation time and the image count are the store's.
		r.RegistryID, r.Name, r.CreatedAt, r.ImageCount = cur.RegistryID, cur.Name, cur.CreatedAt, cur.ImageCount
		_, err = t.exec(`UPDATE repositories SET tag_mutability = ?, mutability_exclusions = ?, scan_on_push = ?,
			encryption_type = ?, kms_key = ?, resource_tags = ? WHERE registry_id = ? AND name = ?`,
			r.TagMutability, encJSON(r.MutabilityExclusions), boolInt(r.ScanOnPush),
			r.EncryptionType, r.KMSKey, encJSON(r.Tags), registryID, name)
		out = r
		if err != nil || slices.Equal(r.Tags, cur.Tags) {
			return err
		}
		// Resource tags are condition keys (ecr:ResourceTag/…).
		return bumpAuthz(t)
	})
	if err != nil {
		return Repository{}, fail(op, "repository", err)
	}
	return out, nil
}

func (s *sqlStore) DeleteRepository(ctx context.Context, registryID, name string, force bool) (Repository, []string, error) {
	const op = "DeleteRepository"
	var (
		r       Repository
		digests []string
	)
	err := s.write(ctx, func(t *tx) (err error) {
		digests = nil
		// Locking the repository first (as PutImage and DeleteImage do)
		// keeps the lock order repository → images on PostgreSQL.
		if r, err = getRepo(t, op, registryID, name, "UPDATE"); err != nil {
			return err
		}
		rows, err := t.query("SELECT digest FROM images WHERE registry_id = ? AND repo = ? ORDER BY digest", registryID, name)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				return err
			}
			digests = append(digests, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(digests) > 0 && !force {
			return newErr(op, NotEmpty, "repository", "%s holds %d images", name, len(digests))
		}
		if err := s.queueRepositoryBlobs(t, registryID, name); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM tags WHERE registry_id = ? AND repo = ?",
			"DELETE FROM image_children WHERE registry_id = ? AND repo = ?",
			"DELETE FROM image_aliases WHERE registry_id = ? AND repo = ?",
			"DELETE FROM images WHERE registry_id = ? AND repo = ?",
			"DELETE FROM lifecycle_previews WHERE registry_id = ? AND repo = ?",
			"DELETE FROM lifecycle_runs WHERE registry_id = ? AND repo = ?",
			"DELETE FROM policies WHERE registry_id = ? AND repo = ?",
			"DELETE FROM repositories WHERE registry_id = ? AND name = ?",
		} {
			if _, err := t.exec(q, registryID, name); err != nil {
				return err
			}
		}
		return bumpAuthz(t)
	})
	if err != nil {
		return Repository{}, nil, fail(op, "repository", err)
	}
	return r, digests, nil
}
