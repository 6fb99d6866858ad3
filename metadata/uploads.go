package metadata

import (
	"context"
	"time"
)

// Upload is an upload in progress.
type Upload struct {
	ID, RegistryID, Repository string
	StartedAt, LastActivity    time.Time
}

// RecordUpload notes an upload started (or written to) now.
func (s *sqlStore) RecordUpload(ctx context.Context, u Upload) error {
	const op = "RecordUpload"
	now := micros(time.Now())
	return fail(op, "upload", s.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO uploads (id, registry_id, repo, started_at, last_activity, claimed_by, claimed_until)
			VALUES (?, ?, ?, ?, ?, '', 0) ON CONFLICT (id) DO UPDATE SET last_activity = excluded.last_activity`,
			u.ID, u.RegistryID, u.Repository, now, now)
		return err
	}))
}

// ForgetUpload removes an upload that completed or was cancelled.
func (s *sqlStore) ForgetUpload(ctx context.Context, id string) error {
	const op = "ForgetUpload"
	return fail(op, "upload", s.write(ctx, func(t *tx) error {
		_, err := t.exec("DELETE FROM uploads WHERE id = ?", id)
		return err
	}))
}

// ClaimIdleUploads claims, for owner until now+ttl, up to limit uploads
// idle since before idleSince that no other node holds.
func (s *sqlStore) ClaimIdleUploads(ctx context.Context, idleSince, now time.Time, owner string, ttl time.Duration, limit int) ([]Upload, error) {
	const op = "ClaimIdleUploads"
	var out []Upload
	err := s.write(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(`SELECT id, registry_id, repo, started_at, last_activity FROM uploads
			WHERE last_activity < ? AND claimed_until < ? ORDER BY last_activity LIMIT ?`+t.lock("UPDATE SKIP LOCKED"),
			micros(idleSince), micros(now), limit)
		if err != nil {
			return err
		}
		var us []Upload
		for rows.Next() {
			var u Upload
			var started, last int64
			if err := rows.Scan(&u.ID, &u.RegistryID, &u.Repository, &started, &last); err != nil {
				rows.Close()
				return err
			}
			u.StartedAt, u.LastActivity = fromMicros(started), fromMicros(last)
			us = append(us, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, u := range us {
			n, err := t.execN("UPDATE uploads SET claimed_by = ?, claimed_until = ? WHERE id = ? AND claimed_until < ?",
				owner, micros(now.Add(ttl)), u.ID, micros(now))
			if err != nil {
				return err
			}
			if n == 1 {
				out = append(out, u)
			}
		}
		return nil
	})
	return out, fail(op, "upload", err)
}

// ForgetIdleUpload removes upload id if it is still idle since before
// idleSince, and reports whether it did (a write meanwhile keeps it).
func (s *sqlStore) ForgetIdleUpload(ctx context.Context, id string, idleSince time.Time) (bool, error) {
	const op = "ForgetIdleUpload"
	var gone bool
	err := s.write(ctx, func(t *tx) error {
		n, err := t.execN("DELETE FROM uploads WHERE id = ? AND last_activity < ?", id, micros(idleSince))
		gone = n == 1
		return err
	})
	return gone, fail(op, "upload", err)
}
