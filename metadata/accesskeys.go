package metadata

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
)

const keyCols = "id, secret, principal, account, status, created_at"

func scanKey(sc scanner) (AccessKey, error) {
	var (
		k       AccessKey
		secret  string
		created int64
	)
	if err := sc.Scan(&k.ID, &secret, &k.Principal, &k.Account, &k.Status, &created); err != nil {
		return k, err
	}
	k.CreatedAt = fromMicros(created)
	var err error
	k.Secret, err = base64.StdEncoding.DecodeString(secret)
	return k, err
}

func validKeyStatus(s string) bool { return s == KeyActive || s == KeyInactive }

func (s *sqlStore) CreateAccessKey(ctx context.Context, k AccessKey) error {
	const op = "CreateAccessKey"
	if k.ID == "" {
		return newErr(op, Invalid, "access key", "empty id")
	}
	if k.Status == "" {
		k.Status = KeyActive
	}
	if !validKeyStatus(k.Status) {
		return newErr(op, Invalid, "access key", "unknown status %q", k.Status)
	}
	err := s.write(ctx, func(t *tx) error {
		_, err := t.exec("INSERT INTO access_keys ("+keyCols+") VALUES (?, ?, ?, ?, ?, ?)",
			k.ID, base64.StdEncoding.EncodeToString(k.Secret), k.Principal, k.Account, k.Status, micros(stamp(k.CreatedAt)))
		return err
	})
	return fail(op, "access key", err)
}

func (s *sqlStore) GetAccessKey(ctx context.Context, id string) (AccessKey, error) {
	const op = "GetAccessKey"
	var k AccessKey
	err := s.read(ctx, func(t *tx) (err error) {
		k, err = scanKey(t.row("SELECT "+keyCols+" FROM access_keys WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			// The id is not secret, but keep it out of errors anyway:
			// they end up in logs next to signatures.
			return newErr(op, NotFound, "access key", "")
		}
		return err
	})
	if err != nil {
		return AccessKey{}, fail(op, "access key", err)
	}
	return k, nil
}

func (s *sqlStore) ListAccessKeys(ctx context.Context, principal string) ([]AccessKey, error) {
	const op = "ListAccessKeys"
	q, args := "SELECT "+keyCols+" FROM access_keys ORDER BY id", []any{}
	if principal != "" {
		q, args = "SELECT "+keyCols+" FROM access_keys WHERE principal = ? ORDER BY id", []any{principal}
	}
	var out []AccessKey
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				return err
			}
			out = append(out, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fail(op, "access key", err)
	}
	return out, nil
}

func (s *sqlStore) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	const op = "SetAccessKeyStatus"
	if !validKeyStatus(status) {
		return newErr(op, Invalid, "access key", "unknown status %q", status)
	}
	err := s.write(ctx, func(t *tx) error {
		n, err := t.execN("UPDATE access_keys SET status = ? WHERE id = ?", status, id)
		if err == nil && n == 0 {
			err = newErr(op, NotFound, "access key", "")
		}
		return err
	})
	return fail(op, "access key", err)
}

func (s *sqlStore) DeleteAccessKey(ctx context.Context, id string) error {
	const op = "DeleteAccessKey"
	err := s.write(ctx, func(t *tx) error {
		return deleteRow(t, op, "access key", "DELETE FROM access_keys WHERE id = ?", id)
	})
	return fail(op, "access key", err)
}
