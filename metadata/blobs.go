package metadata

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// Blob accounting: every blob in storage has a row (by its canonical
// digest, its storage name), every repository link to it a row, every
// image the blobs it references. A writer records its intent — rows, and
// a review pushed out by the review delay — before it touches content; a
// collector marks what it removes ("deleting", "unlinking") before it
// touches storage. Either sees the other's mark, so a blob referenced
// again while it is reviewed is never deleted, and nothing is referenced
// that a collector is deleting.

// LinkKind is what a repository's storage link to a blob is.
type LinkKind string

const (
	LinkLayer    LinkKind = "layer"    // an uploaded or mounted blob
	LinkManifest LinkKind = "manifest" // a manifest's own bytes
)

// BlobLink is a repository's link to a blob (Digest canonical).
type BlobLink struct {
	RegistryID, Repository, Digest string
	Kind                           LinkKind
}

const (
	stateDeleting  = "deleting"
	stateUnlinking = "unlinking"
)

// Review events: why a blob was queued.
const (
	EventUpload            = "upload"
	EventMount             = "mount"
	EventManifest          = "manifest"
	EventReference         = "reference"
	EventImageDeleted      = "image deleted"
	EventRepositoryDeleted = "repository deleted"
	EventAdopted           = "adopted"
)

// RecordBlob records, before the content work that makes it true, that
// l.Repository links blob l.Digest (of size bytes, 0 when not known yet)
// under aliases too, and queues the blob's review a review delay from
// now (or keeps a later one). Kind Changed when a collector is removing
// the blob or the link: the caller answers "retry" (503).
func (s *sqlStore) RecordBlob(ctx context.Context, l BlobLink, size int64, aliases []string, event string) error {
	const op = "RecordBlob"
	if l.Digest == "" || l.RegistryID == "" || l.Repository == "" || (l.Kind != LinkLayer && l.Kind != LinkManifest) {
		return newErr(op, Invalid, "blob", "digest, registry, repository and link kind are required")
	}
	return fail(op, "blob", s.write(ctx, func(t *tx) error {
		now := time.Now()
		if err := ensureBlobRow(t, op, l.Digest, size, now); err != nil {
			return err
		}
		if err := ensureLinkRow(t, op, l); err != nil {
			return err
		}
		for _, a := range aliases {
			if a == l.Digest {
				continue
			}
			if _, err := t.exec(`INSERT INTO blob_aliases (alias, digest) VALUES (?, ?)
				ON CONFLICT (alias) DO UPDATE SET digest = excluded.digest`, a, l.Digest); err != nil {
				return err
			}
		}
		return queueReview(t, l.Digest, now.Add(s.reviewDelay), event)
	}))
}

// ensureBlobRow inserts blob digest or, when known, checks a collector is
// not deleting it (Kind Changed) and fills in an unknown size. It locks the
// row for the rest of t.
func ensureBlobRow(t *tx, op, digest string, size int64, now time.Time) error {
	if _, err := t.exec(`INSERT INTO blobs (digest, size, state, created_at) VALUES (?, ?, '', ?)
		ON CONFLICT (digest) DO NOTHING`, digest, size, micros(now)); err != nil {
		return err
	}
	var state string
	var stored int64
	if err := t.row("SELECT state, size FROM blobs WHERE digest = ?"+t.lock("UPDATE"), digest).Scan(&state, &stored); err != nil {
		return err
	}
	if state == stateDeleting {
		return newErr(op, Changed, "blob", "%s is being garbage collected", digest)
	}
	if stored == 0 && size > 0 {
		_, err := t.exec("UPDATE blobs SET size = ? WHERE digest = ?", size, digest)
		return err
	}
	return nil
}

// ensureLinkRow inserts link l or checks a collector is not removing it.
func ensureLinkRow(t *tx, op string, l BlobLink) error {
	if _, err := t.exec(`INSERT INTO repository_blobs (registry_id, repo, digest, kind, state) VALUES (?, ?, ?, ?, '')
		ON CONFLICT (registry_id, repo, digest, kind) DO NOTHING`, l.RegistryID, l.Repository, l.Digest, string(l.Kind)); err != nil {
		return err
	}
	var state string
	if err := t.row("SELECT state FROM repository_blobs WHERE registry_id = ? AND repo = ? AND digest = ? AND kind = ?"+t.lock("UPDATE"),
		l.RegistryID, l.Repository, l.Digest, string(l.Kind)).Scan(&state); err != nil {
		return err
	}
	if state == stateUnlinking {
		return newErr(op, Changed, "blob", "the link of %s in %s is being garbage collected", l.Digest, l.Repository)
	}
	return nil
}

// queueReview queues digest's review at at, or keeps a later one.
func queueReview(t *tx, digest string, at time.Time, event string) error {
	_, err := t.exec(`INSERT INTO gc_reviews (digest, review_after, review_count, event, claimed_by, claimed_until, last_error)
		VALUES (?, ?, 0, ?, '', 0, '')
		ON CONFLICT (digest) DO UPDATE SET event = excluded.event,
			review_after = CASE WHEN gc_reviews.review_after < excluded.review_after THEN excluded.review_after ELSE gc_reviews.review_after END`,
		digest, micros(at), event)
	return err
}

// ResolveBlob returns the canonical digest behind ref (an alias such as a
// sha512 name, or ref itself).
func (s *sqlStore) ResolveBlob(ctx context.Context, ref string) (string, error) {
	const op = "ResolveBlob"
	canonical := ref
	err := s.read(ctx, func(t *tx) error {
		var d string
		err := t.row("SELECT digest FROM blob_aliases WHERE alias = ?", ref).Scan(&d)
		if err == nil {
			canonical = d
			return nil
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	return canonical, fail(op, "blob", err)
}

// TouchBlob is a client asking about blob ref in repo (HEAD, GET, a
// layer-availability check): a review due within the review delay is
// pushed out by it, so a blob a client just saw is not collected before
// the client's manifest names it. Kind Changed when a collector is
// removing the blob or the repository's link (the client must upload
// again); Kind NotFound when the store has no row for it (a blob stored
// before accounting began: the caller adopts it once storage has it).
func (s *sqlStore) TouchBlob(ctx context.Context, registryID, repo, ref string) (string, error) {
	const op = "TouchBlob"
	now := time.Now()
	soon := now.Add(s.reviewDelay)
	var (
		canonical = ref
		pending   bool
	)
	err := s.read(ctx, func(t *tx) error {
		var d string
		switch err := t.row("SELECT digest FROM blob_aliases WHERE alias = ?", ref).Scan(&d); {
		case err == nil:
			canonical = d
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var state string
		var review sql.NullInt64
		err := t.row(`SELECT b.state, r.review_after FROM blobs b LEFT JOIN gc_reviews r ON r.digest = b.digest WHERE b.digest = ?`,
			canonical).Scan(&state, &review)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "blob", "%s", canonical)
		}
		if err != nil {
			return err
		}
		if state == stateDeleting {
			return newErr(op, Changed, "blob", "%s is being garbage collected", canonical)
		}
		var link string
		err = t.row("SELECT state FROM repository_blobs WHERE registry_id = ? AND repo = ? AND digest = ? AND kind = ?",
			registryID, repo, canonical, string(LinkLayer)).Scan(&link)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if link == stateUnlinking {
			return newErr(op, Changed, "blob", "the link of %s in %s is being garbage collected", canonical, repo)
		}
		pending = review.Valid && review.Int64 < micros(soon)
		return nil
	})
	if err != nil || !pending {
		return canonical, fail(op, "blob", err)
	}
	// A review is near: push it out, unless a collector got there first.
	err = s.write(ctx, func(t *tx) error {
		var state string
		if err := t.row("SELECT state FROM blobs WHERE digest = ?"+t.lock("UPDATE"), canonical).Scan(&state); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return newErr(op, NotFound, "blob", "%s", canonical)
			}
			return err
		}
		if state == stateDeleting {
			return newErr(op, Changed, "blob", "%s is being garbage collected", canonical)
		}
		_, err := t.exec("UPDATE gc_reviews SET review_after = ? WHERE digest = ? AND review_after < ?", micros(soon), canonical, micros(soon))
		return err
	})
	return canonical, fail(op, "blob", err)
}

// EnsureBlobLinks is a manifest push's intent, recorded before its content
// is checked and stored: each link (the manifest's own bytes, its config
// and layers; canonical digests) and its blob get a row if they have none,
// and their reviews are pushed out. Kind Changed when a collector is
// removing one (the client must upload it again).
func (s *sqlStore) EnsureBlobLinks(ctx context.Context, links []BlobLink) error {
	const op = "EnsureBlobLinks"
	if len(links) == 0 {
		return nil
	}
	links = slices.Clone(links)
	// One order for every writer: no deadlocks between pushes on
	// PostgreSQL.
	slices.SortFunc(links, func(a, b BlobLink) int {
		return strings.Compare(a.Digest+"\x00"+string(a.Kind)+a.RegistryID+a.Repository, b.Digest+"\x00"+string(b.Kind)+b.RegistryID+b.Repository)
	})
	links = slices.Compact(links)
	return fail(op, "blob", s.write(ctx, func(t *tx) error {
		now := time.Now()
		for _, l := range links {
			if err := ensureBlobRow(t, op, l.Digest, 0, now); err != nil {
				return err
			}
			if err := ensureLinkRow(t, op, l); err != nil {
				return err
			}
			if err := queueReview(t, l.Digest, now.Add(s.reviewDelay), EventReference); err != nil {
				return err
			}
		}
		return nil
	}))
}

// referenceBlobs records inside t that image img references blobs
// (canonical digests): each blob and its link must be present and not
// being collected (Kind NotFound, entity "blob", otherwise), and the rows
// are locked so no collector can start on them before t commits.
func referenceBlobs(t *tx, op string, img Image, blobs []string) error {
	if _, err := t.exec("DELETE FROM image_blobs WHERE registry_id = ? AND repo = ? AND image = ?",
		img.RegistryID, img.Repository, img.Digest); err != nil {
		return err
	}
	for _, d := range uniqueSorted(blobs) {
		var state string
		err := t.row("SELECT state FROM blobs WHERE digest = ?"+t.lock("SHARE"), d).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) || state == stateDeleting {
			return newErr(op, NotFound, "blob", "%s", d)
		}
		if err != nil {
			return err
		}
		err = t.row("SELECT state FROM repository_blobs WHERE registry_id = ? AND repo = ? AND digest = ? AND kind = ?"+t.lock("SHARE"),
			img.RegistryID, img.Repository, d, string(LinkLayer)).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) || state == stateUnlinking {
			return newErr(op, NotFound, "blob", "%s", d)
		}
		if err != nil {
			return err
		}
		if _, err := t.exec("INSERT INTO image_blobs (registry_id, repo, image, blob) VALUES (?, ?, ?, ?)",
			img.RegistryID, img.Repository, img.Digest, d); err != nil {
			return err
		}
	}
	return nil
}

// queueImageBlobs queues the review of what an image being deleted inside
// t references (its blobs and its own bytes).
func (s *sqlStore) queueImageBlobs(t *tx, registryID, repo, digest, event string) error {
	at := time.Now().Add(s.reviewDelay)
	rows, err := t.query("SELECT blob FROM image_blobs WHERE registry_id = ? AND repo = ? AND image = ?", registryID, repo, digest)
	if err != nil {
		return err
	}
	ds := []string{digest}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return err
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range ds {
		if err := queueReview(t, d, at, event); err != nil {
			return err
		}
	}
	_, err = t.exec("DELETE FROM image_blobs WHERE registry_id = ? AND repo = ? AND image = ?", registryID, repo, digest)
	return err
}

// queueRepositoryBlobs queues the review of every blob a repository being
// deleted inside t links.
func (s *sqlStore) queueRepositoryBlobs(t *tx, registryID, repo string) error {
	at := time.Now().Add(s.reviewDelay)
	rows, err := t.query("SELECT DISTINCT digest FROM repository_blobs WHERE registry_id = ? AND repo = ?", registryID, repo)
	if err != nil {
		return err
	}
	var ds []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return err
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range ds {
		if err := queueReview(t, d, at, EventRepositoryDeleted); err != nil {
			return err
		}
	}
	_, err = t.exec("DELETE FROM image_blobs WHERE registry_id = ? AND repo = ?", registryID, repo)
	return err
}

func uniqueSorted(ds []string) []string {
	out := slices.Clone(ds)
	slices.Sort(out)
	return slices.Compact(out)
}
