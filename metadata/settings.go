package metadata

import (
	"context"
	"database/sql"
	"errors"
)

func (s *sqlStore) GetSetting(ctx context.Context, registryID, name string) (string, bool, error) {
	const op = "GetSetting"
	var (
		value string
		ok    bool
	)
	err := s.read(ctx, func(t *tx) error {
		err := t.row("SELECT value FROM settings WHERE registry_id = ? AND name = ?", registryID, name).Scan(&value)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return "", false, fail(op, "setting", err)
	}
	return value, ok, nil
}

func (s *sqlStore) PutSetting(ctx context.Context, registryID, name, value string) error {
	const op = "PutSetting"
	if name == "" {
		return newErr(op, Invalid, "setting", "empty name")
	}
	err := s.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO settings (registry_id, name, value) VALUES (?, ?, ?)
			ON CONFLICT (registry_id, name) DO UPDATE SET value = excluded.value`, registryID, name, value)
		if err != nil {
			return err
		}
		// REGISTRY_POLICY_SCOPE decides how the registry policy applies.
		return bumpAuthz(t)
	})
	return fail(op, "setting", err)
}
