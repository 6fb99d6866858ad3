package metadata

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"
)

// Garbage collection, the store's half: blobs queued for review are
// claimed by one node at a time; inside one transaction a review decides,
// from the rows alone, which links and whether the blob itself have lost
// their last reference and marks them; the caller deletes them from
// storage and then forgets them (FinishCollection), or postpones the
// review when storage fails.

// Collection is what one review decided.
type Collection struct {
	Digest string
	Size   int64
	// Delete: nothing references the blob any more; its data goes.
	Delete bool
	// Unlink are the repository links nothing in their repository
	// references (all of them when Delete).
	Unlink []BlobLink
	// Aliases are the blob's other names (their links go with Unlink).
	Aliases []string
}

// Empty reports a review that found nothing to remove.
func (c Collection) Empty() bool { return !c.Delete && len(c.Unlink) == 0 }

// ClaimReviews claims, for owner until now+ttl, up to limit blob reviews
// due at now that no other node holds, oldest first, and returns their
// digests.
func (s *sqlStore) ClaimReviews(ctx context.Context, now time.Time, owner string, ttl time.Duration, limit int) ([]string, error) {
	const op = "ClaimReviews"
	var out []string
	err := s.write(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(`SELECT digest FROM gc_reviews WHERE review_after <= ? AND claimed_until < ?
			ORDER BY review_after LIMIT ?`+t.lock("UPDATE SKIP LOCKED"), micros(now), micros(now), limit)
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
			n, err := t.execN("UPDATE gc_reviews SET claimed_by = ?, claimed_until = ? WHERE digest = ? AND claimed_until < ?",
				owner, micros(now.Add(ttl)), d, micros(now))
			if err != nil {
				return err
			}
			if n == 1 {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, fail(op, "review", err)
}

// PlanCollection reviews a blob owner claimed, as of now: a review no
// longer due (a writer pushed it out) or no longer owner's is Kind
// Changed; one whose blob nothing links or references any more is
// decided and marked ("deleting", "unlinking") before the caller touches
// storage. A review that finds nothing to remove is done (the row goes).
func (s *sqlStore) PlanCollection(ctx context.Context, digest, owner string, now time.Time) (Collection, error) {
	const op = "PlanCollection"
	var c Collection
	err := s.write(ctx, func(t *tx) error {
		c = Collection{Digest: digest}
		var reviewAfter int64
		var claimedBy string
		err := t.row("SELECT review_after, claimed_by FROM gc_reviews WHERE digest = ?"+t.lock("UPDATE"), digest).Scan(&reviewAfter, &claimedBy)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, Changed, "review", "%s is no longer queued", digest)
		}
		if err != nil {
			return err
		}
		if claimedBy != owner || reviewAfter > micros(now) {
			return newErr(op, Changed, "review", "%s is no longer due or no longer ours", digest)
		}
		var state string
		if c, state, err = decide(t, digest, t.lock("UPDATE")); err != nil {
			return err
		}
		if c.Empty() {
			// Still referenced where it is linked (or not accounted at
			// all): the review is done.
			_, err = t.exec("DELETE FROM gc_reviews WHERE digest = ?", digest)
			return err
		}
		if c.Delete && state != stateDeleting {
			if _, err := t.exec("UPDATE blobs SET state = ? WHERE digest = ?", stateDeleting, digest); err != nil {
				return err
			}
		}
		for _, l := range c.Unlink {
			if _, err := t.exec("UPDATE repository_blobs SET state = ? WHERE registry_id = ? AND repo = ? AND digest = ? AND kind = ?",
				stateUnlinking, l.RegistryID, l.Repository, l.Digest, string(l.Kind)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Collection{}, fail(op, "review", err)
	}
	return c, nil
}

// decide works out, from the rows, what of digest has lost its last
// reference; lock is the row-locking clause ("" for a preview).
func decide(t *tx, digest, lock string) (Collection, string, error) {
	c := Collection{Digest: digest}
	var state string
	err := t.row("SELECT state, size FROM blobs WHERE digest = ?"+lock, digest).Scan(&state, &c.Size)
	blobKnown := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return c, "", err
	}
	referenced, err := referencingRepos(t, digest)
	if err != nil {
		return c, "", err
	}
	links, err := linksOf(t, digest, lock)
	if err != nil {
		return c, "", err
	}
	c.Delete = blobKnown && len(referenced) == 0
	for _, l := range links {
		if c.Delete || !referenced[repoKindKey{l.RegistryID, l.Repository, l.Kind}] {
			c.Unlink = append(c.Unlink, l)
		}
	}
	c.Aliases, err = aliasesOf(t, digest)
	return c, state, err
}

// PreviewCollections is what reviewing the reviews due at now would
// remove, at most limit of them, without claiming or marking anything (a
// dry run: writers may change the answer before a real review).
func (s *sqlStore) PreviewCollections(ctx context.Context, now time.Time, limit int) ([]Collection, error) {
	const op = "PreviewCollections"
	var out []Collection
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query("SELECT digest FROM gc_reviews WHERE review_after <= ? ORDER BY review_after LIMIT ?", micros(now), limit)
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
			c, _, err := decide(t, d, "")
			if err != nil {
				return err
			}
			if !c.Empty() {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, fail(op, "review", err)
}

type repoKindKey struct {
	registry, repo string
	kind           LinkKind
}

// referencingRepos is where digest is referenced: as a layer or config
// of an image (LinkLayer), or as an image's own bytes (LinkManifest).
func referencingRepos(t *tx, digest string) (map[repoKindKey]bool, error) {
	out := map[repoKindKey]bool{}
	for _, q := range []struct {
		kind  LinkKind
		query string
	}{
		{LinkLayer, "SELECT DISTINCT registry_id, repo FROM image_blobs WHERE blob = ?"},
		{LinkManifest, "SELECT DISTINCT registry_id, repo FROM images WHERE digest = ?"},
	} {
		rows, err := t.query(q.query, digest)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var k repoKindKey
			if err := rows.Scan(&k.registry, &k.repo); err != nil {
				rows.Close()
				return nil, err
			}
			k.kind = q.kind
			out[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func linksOf(t *tx, digest, lock string) ([]BlobLink, error) {
	rows, err := t.query("SELECT registry_id, repo, kind FROM repository_blobs WHERE digest = ? ORDER BY registry_id, repo, kind"+lock, digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BlobLink
	for rows.Next() {
		l := BlobLink{Digest: digest}
		var kind string
		if err := rows.Scan(&l.RegistryID, &l.Repository, &kind); err != nil {
			return nil, err
		}
		l.Kind = LinkKind(kind)
		out = append(out, l)
	}
	return out, rows.Err()
}

func aliasesOf(t *tx, digest string) ([]string, error) {
	rows, err := t.query("SELECT alias FROM blob_aliases WHERE digest = ? ORDER BY alias", digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// FinishCollection forgets what c removed from storage: its links, and
// with Delete the blob, its aliases and its review. Reclaimed bytes are
// counted in the store's totals.
func (s *sqlStore) FinishCollection(ctx context.Context, c Collection, owner string) error {
	const op = "FinishCollection"
	return fail(op, "review", s.write(ctx, func(t *tx) error {
		for _, l := range c.Unlink {
			if _, err := t.exec("DELETE FROM repository_blobs WHERE registry_id = ? AND repo = ? AND digest = ? AND kind = ? AND state = ?",
				l.RegistryID, l.Repository, l.Digest, string(l.Kind), stateUnlinking); err != nil {
				return err
			}
		}
		if c.Delete {
			for _, q := range []string{
				"DELETE FROM blob_aliases WHERE digest = ?",
				"DELETE FROM blobs WHERE digest = ? AND state = '" + stateDeleting + "'",
			} {
				if _, err := t.exec(q, c.Digest); err != nil {
					return err
				}
			}
			if err := addCounter(t, "gc.blobs_deleted", 1); err != nil {
				return err
			}
			if err := addCounter(t, "gc.bytes_reclaimed", c.Size); err != nil {
				return err
			}
		}
		if err := addCounter(t, "gc.links_removed", int64(len(c.Unlink))); err != nil {
			return err
		}
		_, err := t.exec("DELETE FROM gc_reviews WHERE digest = ? AND claimed_by = ?", c.Digest, owner)
		return err
	}))
}

// PostponeReview puts a failed review back (its marks stay: the next
// review finishes what this one started), recording why; after says when
// it is due again given how many times in a row it has now failed.
func (s *sqlStore) PostponeReview(ctx context.Context, digest, owner string, after func(failures int) time.Time, why string) error {
	const op = "PostponeReview"
	return fail(op, "review", s.write(ctx, func(t *tx) error {
		var n int
		err := t.row("SELECT review_count FROM gc_reviews WHERE digest = ? AND claimed_by = ?"+t.lock("UPDATE"), digest, owner).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // taken over or decided meanwhile
		}
		if err != nil {
			return err
		}
		_, err = t.exec(`UPDATE gc_reviews SET review_after = ?, review_count = review_count + 1, last_error = ?,
			claimed_by = '', claimed_until = 0 WHERE digest = ? AND claimed_by = ?`, micros(after(n+1)), why, digest, owner)
		if err != nil {
			return err
		}
		return addCounter(t, "gc.review_failures", 1)
	}))
}

// ReleaseReview gives a claimed review back without deciding it.
func (s *sqlStore) ReleaseReview(ctx context.Context, digest, owner string) error {
	const op = "ReleaseReview"
	return fail(op, "review", s.write(ctx, func(t *tx) error {
		_, err := t.exec("UPDATE gc_reviews SET claimed_by = '', claimed_until = 0 WHERE digest = ? AND claimed_by = ?", digest, owner)
		return err
	}))
}

// GCStatus is the collector's state across the registry.
type GCStatus struct {
	Queued      int64     // blobs queued for review
	Due         int64     // of which due now
	BytesQueued int64     // the sizes of the queued blobs known
	OldestDue   time.Time // the longest-waiting due review (zero: none)
	Failed      int64     // queued reviews that failed at least once
	LastError   string    // the latest failure's message
	// Totals since the store was created.
	BlobsDeleted, BytesReclaimed, LinksRemoved, ReviewFailures int64
	Adopted                                                    bool
	// IdleUploads are uploads idle longer than the purge age asked for.
	Uploads int64
}

// GCStatus reports the queue as of now.
func (s *sqlStore) GCStatus(ctx context.Context, now time.Time) (GCStatus, error) {
	const op = "GCStatus"
	var st GCStatus
	err := s.read(ctx, func(t *tx) error {
		st = GCStatus{}
		var oldest sql.NullInt64
		if err := t.row(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN review_after <= ? THEN 1 ELSE 0 END), 0),
			MIN(CASE WHEN review_after <= ? THEN review_after END),
			COALESCE(SUM(CASE WHEN review_count > 0 THEN 1 ELSE 0 END), 0) FROM gc_reviews`,
			micros(now), micros(now)).Scan(&st.Queued, &st.Due, &oldest, &st.Failed); err != nil {
			return err
		}
		if oldest.Valid {
			st.OldestDue = fromMicros(oldest.Int64)
		}
		if err := t.row("SELECT COALESCE(SUM(b.size), 0) FROM gc_reviews r JOIN blobs b ON b.digest = r.digest").Scan(&st.BytesQueued); err != nil {
			return err
		}
		err := t.row("SELECT last_error FROM gc_reviews WHERE last_error <> '' ORDER BY review_after DESC LIMIT 1").Scan(&st.LastError)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for name, p := range map[string]*int64{"gc.blobs_deleted": &st.BlobsDeleted, "gc.bytes_reclaimed": &st.BytesReclaimed,
			"gc.links_removed": &st.LinksRemoved, "gc.review_failures": &st.ReviewFailures} {
			if *p, err = counter(t, name); err != nil {
				return err
			}
		}
		if st.Adopted, err = flag(t, adoptedFlag); err != nil {
			return err
		}
		return t.row("SELECT COUNT(*) FROM uploads").Scan(&st.Uploads)
	})
	return st, fail(op, "review", err)
}

// Counters and flags in store_state.

func addCounter(t *tx, name string, n int64) error {
	if n == 0 {
		return nil
	}
	// One statement: concurrent collectors on PostgreSQL must not lose
	// each other's counts.
	_, err := t.exec(`INSERT INTO store_state (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(store_state.value AS BIGINT) + CAST(excluded.value AS BIGINT) AS TEXT)`,
		name, strconv.FormatInt(n, 10))
	return err
}

func counter(t *tx, name string) (int64, error) {
	var v string
	err := t.row("SELECT value FROM store_state WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

func flag(t *tx, name string) (bool, error) {
	v, err := counter(t, name)
	return v != 0, err
}
