package metadata

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// migrateLockKey is the PostgreSQL advisory lock that serializes the
// migrations of berth nodes starting at once ("berth" in ASCII).
const migrateLockKey int64 = 0x6265727468

// migrate brings the schema to the newest version: each missing migration
// runs in its own transaction and is recorded in schema_migrations.
func (s *sqlStore) migrate(ctx context.Context) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.engine == "postgres" {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
			return fmt.Errorf("advisory lock: %w", err)
		}
		defer func() {
			// Unlock even when ctx is done; the session keeps the lock
			// otherwise.
			_, uerr := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey)
			if err == nil && uerr != nil {
				err = fmt.Errorf("advisory unlock: %w", uerr)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return err
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return err
	}
	all := migrations()
	newest := all[len(all)-1].version
	for v := range applied {
		if v > newest {
			return fmt.Errorf("database schema version %d is newer than this berth knows (%d)", v, newest)
		}
	}
	for _, m := range all {
		if applied[m.version] {
			continue
		}
		if err := s.apply(ctx, conn, m); err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

func appliedVersions(ctx context.Context, conn *sql.Conn) (map[int]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}

func (s *sqlStore) apply(ctx context.Context, conn *sql.Conn, m migration) error {
	keyType := "TEXT"
	if s.engine == "postgres" {
		keyType = `TEXT COLLATE "C"`
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// Another process may have applied it since we looked: on SQLite the
	// immediate transaction is the lock that orders us after it.
	var one int
	err = tx.QueryRowContext(ctx, s.rebind("SELECT 1 FROM schema_migrations WHERE version = ?"), m.version).Scan(&one)
	if err == nil {
		return tx.Commit()
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, stmt := range m.stmts {
		if _, err := tx.ExecContext(ctx, strings.ReplaceAll(stmt, "{key}", keyType)); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}
