package metadata

import (
	"context"
	"database/sql"
	"errors"
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

// TagImage moves a tag in one transaction with the immutability check:
// on SQLite the immediate transaction serializes it with every other
// write; on PostgreSQL the insert races through ON CONFLICT and the
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
		previous, err = moveTag(t, op, r, tag, digest)
		return err
	})
	if err != nil {
		return "", fail(op, "tag", err)
	}
	return previous, nil
}

// Untag removes tag; with digest set, only while the tag still points at
// it (a tag moved meanwhile names another image and stays: Kind Changed).
func (s *sqlStore) Untag(ctx context.Context, registryID, repo, tag, digest string) (string, error) {
	const op = "Untag"
	var current string
	err := s.write(ctx, func(t *tx) error {
		err := t.row("SELECT digest FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?"+t.lock("UPDATE"),
			registryID, repo, tag).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "tag", "%s", tag)
		}
		if err != nil {
			return err
		}
		if digest != "" && current != digest {
			return newErr(op, Changed, "tag", "%s now points at %s", tag, current)
		}
		_, err = t.exec("DELETE FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?", registryID, repo, tag)
		return err
	})
	if err != nil {
		return "", fail(op, "tag", err)
	}
	return current, nil
}
