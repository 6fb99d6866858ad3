package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

func (s *sqlStore) ResolveTag(ctx context.Context, registryID, repo, tag string) (string, error) {
	const op = "ResolveTag"
	var digest string
	err := s.read(ctx, func(t *tx) error {
		err := t.row("SELECT digest FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?", registryID, repo, tag).Scan(&digest)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "tag", "%s", tag)
		}
		return err
	})
	if err != nil {
		return "", fail(op, "tag", err)
	}
	return digest, nil
}

// TagImage reads the tag and the repository's mutability and writes in one
// transaction. On SQLite the immediate transaction serializes it with every
// other write; on PostgreSQL the insert races through ON CONFLICT and the
// existing tag row is locked before it is checked and moved, so of two
// writers moving one immutable tag exactly one wins.
func (s *sqlStore) TagImage(ctx context.Context, registryID, repo, tag, digest string) (string, error) {
	const op = "TagImage"
	if tag == "" || digest == "" {
		return "", newErr(op, Invalid, "tag", "tag and digest are required")
	}
	var previous string
	err := s.write(ctx, func(t *tx) error {
		previous = ""
		r, err := getRepo(t, op, registryID, repo, "")
		if err != nil {
			return err
		}
		// FOR SHARE: a concurrent DeleteImage (FOR UPDATE) either
		// finishes first (NotFound here) or waits for this tag.
		ok, err := t.exists("SELECT 1 FROM images WHERE registry_id = ? AND repo = ? AND digest = ?"+t.lock("SHARE"),
			registryID, repo, digest)
		if err != nil {
			return err
		}
		if !ok {
			return newErr(op, NotFound, "image", "%s", digest)
		}
		now := micros(time.Now())
		// Insert, or lock the tag that exists; an Untag committing in
		// between sends us round again.
		for attempt := 1; ; attempt++ {
			n, err := t.execN(`INSERT INTO tags (registry_id, repo, tag, digest, pushed_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (registry_id, repo, tag) DO NOTHING`, registryID, repo, tag, digest, now)
			if err != nil || n == 1 {
				return err
			}
			err = t.row("SELECT digest FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?"+t.lock("UPDATE"),
				registryID, repo, tag).Scan(&previous)
			if err == nil {
				break
			}
			if !errors.Is(err, sql.ErrNoRows) || attempt == maxAttempts {
				return err
			}
		}
		if previous == digest {
			return nil
		}
		if r.TagImmutable(tag) {
			return newErr(op, ImmutableTag, "tag", "tag %s in %s is immutable and points at %s", tag, repo, previous)
		}
		_, err = t.exec("UPDATE tags SET digest = ?, pushed_at = ? WHERE registry_id = ? AND repo = ? AND tag = ?",
			digest, now, registryID, repo, tag)
		return err
	})
	if err != nil {
		return "", fail(op, "tag", err)
	}
	return previous, nil
}

func (s *sqlStore) Untag(ctx context.Context, registryID, repo, tag string) (string, error) {
	const op = "Untag"
	var digest string
	err := s.write(ctx, func(t *tx) error {
		err := t.row("SELECT digest FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?"+t.lock("UPDATE"),
			registryID, repo, tag).Scan(&digest)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "tag", "%s", tag)
		}
		if err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?", registryID, repo, tag)
		return err
	})
	if err != nil {
		return "", fail(op, "tag", err)
	}
	return digest, nil
}
