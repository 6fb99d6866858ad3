package metadata

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

// Secret is a Secrets Manager secret of an account; Value is sealed by
// the caller (the store never sees it in the clear).
type Secret struct {
	Account     string
	Name        string
	ARN         string
	Description string
	Value       []byte
	VersionID   string
	Tags        []ResourceTag
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const secretCols = `account, name, arn, description, value, version_id, tags, created_at, updated_at`

func scanSecret(sc scanner) (Secret, error) {
	var (
		s                Secret
		value, tags      string
		created, updated int64
	)
	err := sc.Scan(&s.Account, &s.Name, &s.ARN, &s.Description, &value, &s.VersionID, &tags, &created, &updated)
	if err != nil {
		return s, err
	}
	s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
	if s.Value, err = base64.StdEncoding.DecodeString(value); err != nil {
		return s, err
	}
	s.Tags, err = decJSON[ResourceTag](tags)
	return s, err
}

func secretArgs(s Secret) []any {
	return []any{s.Account, s.Name, s.ARN, s.Description, base64.StdEncoding.EncodeToString(s.Value), s.VersionID,
		encJSON(s.Tags), micros(s.CreatedAt), micros(s.UpdatedAt)}
}

// getSecret finds a secret of account by name or ARN.
func getSecret(t *tx, op, account, id, lock string) (Secret, error) {
	q := "SELECT " + secretCols + " FROM secrets WHERE account = ? AND (name = ? OR arn = ?)"
	if lock != "" {
		q += t.lock(lock)
	}
	s, err := scanSecret(t.row(q, account, id, id))
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
		_, err := t.exec("INSERT INTO secrets ("+secretCols+") VALUES ("+placeholders(9)+")", secretArgs(sec)...)
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

// ListSecrets pages account's secrets by name.
func (s *sqlStore) ListSecrets(ctx context.Context, account string, p Page) ([]Secret, string, error) {
	const op = "ListSecrets"
	n := limit(p)
	var out []Secret
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query("SELECT "+secretCols+" FROM secrets WHERE account = ? AND name > ? ORDER BY name LIMIT ?", account, p.After, n+1)
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
		_, err = t.exec(`UPDATE secrets SET description = ?, value = ?, version_id = ?, tags = ?, updated_at = ?
			WHERE account = ? AND name = ?`, a[3], a[4], a[5], a[6], a[8], sec.Account, sec.Name)
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
		_, err = t.exec("DELETE FROM secrets WHERE account = ? AND name = ?", sec.Account, sec.Name)
		return err
	})
	if err != nil {
		return Secret{}, fail(op, "secret", err)
	}
	return sec, nil
}
