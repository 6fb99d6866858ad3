package metadata

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// tx is one transaction of a store method; its helpers rebind '?'
// placeholders for the engine so queries are written once.
type tx struct {
	ctx context.Context
	s   *sqlStore
	tx  *sql.Tx
	// bumped: the transaction moved the authorization version.
	bumped bool
}

func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(t.ctx, t.s.rebind(q), args...)
}

// execN runs q and returns the number of rows it affected.
func (t *tx) execN(q string, args ...any) (int64, error) {
	res, err := t.exec(q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) row(q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(t.ctx, t.s.rebind(q), args...)
}

// lock returns a row-locking clause (" FOR UPDATE", ...) on PostgreSQL. On
// SQLite write transactions are BEGIN IMMEDIATE on the single write
// connection, so they are serialized already.
func (t *tx) lock(mode string) string {
	if t.s.engine == "postgres" {
		return " FOR " + mode
	}
	return ""
}

// exists runs a query that selects at most one row and reports whether it
// found one.
func (t *tx) exists(q string, args ...any) (bool, error) {
	var one int
	err := t.row(q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// userError carries an error returned by a caller's callback through the
// transaction helpers unchanged.
type userError struct{ err error }

func (u userError) Error() string { return u.err.Error() }

// maxAttempts bounds retries of PostgreSQL transactions that lost a
// deadlock or serialization conflict; the engine aborted them as a whole,
// so running them again is safe.
const maxAttempts = 4

// write runs fn in a write transaction (the write connection on SQLite).
func (s *sqlStore) write(ctx context.Context, fn func(*tx) error) error {
	var err error
	for range maxAttempts {
		err = s.run(ctx, s.db, nil, fn)
		if !retryable(err) {
			break
		}
	}
	return err
}

// read runs fn in a read-only transaction (the read pool on SQLite).
func (s *sqlStore) read(ctx context.Context, fn func(*tx) error) error {
	return s.run(ctx, s.rdb, &sql.TxOptions{ReadOnly: s.engine == "postgres"}, fn)
}

func (s *sqlStore) run(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*tx) error) error {
	sqlTx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	t := &tx{ctx: ctx, s: s, tx: sqlTx}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return err
	}
	if t.bumped {
		s.authzWrites.Add(1)
	}
	return nil
}

// retryable reports a PostgreSQL deadlock or serialization failure.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// fail turns err into the method's *Error: metadata errors and callback
// errors pass unchanged, unique violations become AlreadyExists, anything
// else is KindOther.
func fail(op, entity string, err error) error {
	if err == nil {
		return nil
	}
	var u userError
	if errors.As(err, &u) {
		return u.err
	}
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	k := KindOther
	if isUnique(err) {
		k = AlreadyExists
	}
	return &Error{Op: op, Kind: k, Entity: entity, Err: err}
}

// isUnique reports a unique or primary-key violation on either engine.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isBusy reports SQLite's "database is locked" (any extended code).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isForeignKey reports a foreign-key violation on either engine.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// rebind turns '?' placeholders into PostgreSQL's $1, $2, ...; queries in
// this package never contain '?' inside string literals.
func (s *sqlStore) rebind(q string) string {
	if s.engine != "postgres" || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// Times are stored as unix microseconds so both engines store and compare
// them identically; 0 is the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// stamp is t as the store keeps it (UTC, microseconds), or now when zero.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return fromMicros(micros(t))
}

// encJSON encodes lists and maps kept as JSON text; empty is "".
func encJSON[T any](v []T) string {
	if len(v) == 0 {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func encMap(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func decJSON[T any](s string) ([]T, error) {
	if s == "" {
		return nil, nil
	}
	var v []T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func decMap(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// limit is the page size p asks for (<= 0 means 100).
func limit(p Page) int {
	if p.Limit <= 0 {
		return 100
	}
	return p.Limit
}
