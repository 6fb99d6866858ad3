package metadata

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

// Secret is a Secrets Manager secret of an account; Value and
// PreviousValue are sealed by the caller (the store never sees them in
// the clear).
type Secret struct {
	Account     string
	Name        string
	ARN         string
	Description string
	Value       []byte // the AWSCURRENT version
	VersionID   string
	// PreviousValue is the AWSPREVIOUS version (empty VersionID: none).
	PreviousValue     []byte
	PreviousVersionID string
	Tags              []ResourceTag
	// DeletionDate, when set, is when a scheduled deletion removes the
	// secret; past it the store answers NotFound and the name is free.
	DeletionDate time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

const secretCols = `account, name, arn, description, value, version_id, tags, created_at, updated_at,
	previous_value, previous_version_id, deletion_date`

func scanSecret(sc scanner) (Secret, error) {
	var (
		s                          Secret
		value, prev, tags          string
		created, updated, deletion int64
	)
	err := sc.Scan(&s.Account, &s.Name, &s.ARN, &s.Description, &value, &s.VersionID, &tags, &created, &updated,
		&prev, &s.PreviousVersionID, &deletion)
	if err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt, s.DeletionDate = fromMicros(created), fromMicros(updated), fromMicros(deletion)
	if s.Value, err = base64.StdEncoding.DecodeString(value); err != nil {
		return s, err
	}
	if s.PreviousValue, err = base64.StdEncoding.DecodeString(prev); err != nil {
		return s, err
	}
	s.Tags, err = decJSON[ResourceTag](tags)
	return s, err
}

func secretArgs(s Secret) []any {
	return []any{s.Account, s.Name, s.ARN, s.Description, base64.StdEncoding.EncodeToString(s.Value), s.VersionID,
		encJSON(s.Tags), micros(s.CreatedAt), micros(s.UpdatedAt),
		base64.StdEncoding.EncodeToString(s.PreviousValue), s.PreviousVersionID, micros(s.DeletionDate)}
}

// liveSecret is the condition that hides secrets past their deletion
// date (its one argument: now).
const liveSecret = " AND (deletion_date = 0 OR deletion_date > ?)"

// purgeSecrets removes the secrets whose deletion date has passed.
func purgeSecrets(t *tx) error {
	_, err := t.exec("DELETE FROM secrets WHERE deletion_date <> 0 AND deletion_date <= ?", micros(time.Now()))
	return err
}

// getSecret finds a live secret of account by name or ARN.
func getSecret(t *tx, op, account, id, lock string) (Secret, error) {
	q := "SELECT " + secretCols + " FROM secrets WHERE account = ? AND (name = ? OR arn = ?)" + liveSecret
	if lock != "" {
		q += t.lock(lock)
	}
	s, err := scanSecret(t.row(q, account, id, id, micros(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return s, newErr(op, NotFound, "secret", "%s", id)
	}
	return s, err
}

// CreateSecret stores a secret; Kind AlreadyExists for a taken name.
func (s *sqlStore) CreateSecret(ctx context.Context, sec Secret) (Secret, error) {
	const op = "CreateSecret"
	sec.CreatedAt = stamp(sec.CreatedAt)
	sec.UpdatedAt = sec.CreatedAt
	err := s.write(ctx, func(t *tx) error {
		if err := purgeSecrets(t); err != nil {
			return err
		}
		_, err := t.exec("INSERT INTO secrets ("+secretCols+") VALUES ("+placeholders(12)+")", secretArgs(sec)...)
		return err
	})
	if err != nil {
		return Secret{}, fail(op, "secret", err)
	}
	return sec, nil
}

// GetSecret is account's secret by name or ARN; Kind NotFound.
func (s *sqlStore) GetSecret(ctx context.Context, account, id string) (Secret, error) {
	const op = "GetSecret"
	var sec Secret
	err := s.read(ctx, func(t *tx) (err error) {
		sec, err = getSecret(t, op, account, id, "")
		return err
	})
	if err != nil {
		return Secret{}, fail(op, "secret", err)
	}
	return sec, nil
}

// ListSecrets pages account's live secrets by name; those scheduled for
// deletion only when withScheduled.
func (s *sqlStore) ListSecrets(ctx context.Context, account string, withScheduled bool, p Page) ([]Secret, string, error) {
	const op = "ListSecrets"
	n := limit(p)
	var out []Secret
	q, args := "SELECT "+secretCols+" FROM secrets WHERE account = ? AND name > ?", []any{account, p.After}
	if withScheduled {
		q, args = q+liveSecret, append(args, micros(time.Now()))
	} else {
		q += " AND deletion_date = 0"
	}
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(q+" ORDER BY name LIMIT ?", append(args, n+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sec, err := scanSecret(rows)
			if err != nil {
				return err
			}
			out = append(out, sec)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fail(op, "secret", err)
	}
	out, next := cut(out, n, func(s Secret) string { return s.Name })
	return out, next, nil
}

// UpdateSecret applies fn to account's secret (by name or ARN); name,
// ARN and creation time cannot change.
func (s *sqlStore) UpdateSecret(ctx context.Context, account, id string, fn func(*Secret) error) (Secret, error) {
	const op = "UpdateSecret"
	var out Secret
	err := s.write(ctx, func(t *tx) error {
		cur, err := getSecret(t, op, account, id, "UPDATE")
		if err != nil {
			return err
		}
		sec := cur
		if err := fn(&sec); err != nil {
			return userError{err}
		}
		sec.Account, sec.Name, sec.ARN, sec.CreatedAt = cur.Account, cur.Name, cur.ARN, cur.CreatedAt
		sec.UpdatedAt = stamp(time.Time{})
		a := secretArgs(sec)
		_, err = t.exec(`UPDATE secrets SET description = ?, value = ?, version_id = ?, tags = ?, updated_at = ?,
			previous_value = ?, previous_version_id = ?, deletion_date = ?
			WHERE account = ? AND name = ?`, a[3], a[4], a[5], a[6], a[8], a[9], a[10], a[11], sec.Account, sec.Name)
		out = sec
		return err
	})
	if err != nil {
		return Secret{}, fail(op, "secret", err)
	}
	return out, nil
}

// DeleteSecret removes account's secret (by name or ARN) and returns it.
func (s *sqlStore) DeleteSecret(ctx context.Context, account, id string) (Secret, error) {
	const op = "DeleteSecret"
	var sec Secret
	err := s.write(ctx, func(t *tx) (err error) {
		if sec, err = getSecret(t, op, account, id, "UPDATE"); err != nil {
			return err
		}
		if _, err = t.exec("DELETE FROM secrets WHERE account = ? AND name = ?", sec.Account, sec.Name); err != nil {
			return err
		}
		return purgeSecrets(t)
	})
	if err != nil {
		return Secret{}, fail(op, "secret", err)
	}
	return sec, nil
}
