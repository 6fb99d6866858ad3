package metadata

import (
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers "sqlite"
)

// sqlStore implements Store on database/sql for both engines.
type sqlStore struct {
	engine string
	// db takes the writes. On SQLite it is one connection (writes are
	// serialized in process, never SQLITE_BUSY among themselves) whose
	// transactions BEGIN IMMEDIATE (safe against other processes too).
	db *sql.DB
	// rdb takes the reads: a pool of read-only connections on SQLite (WAL
	// lets them run beside the writer); db itself on PostgreSQL.
	rdb *sql.DB
	// authzWrites counts this process's committed writes that bumped the
	// authorization version (see LocalAuthzChanges).
	authzWrites atomic.Uint64
	// reviewDelay is how long after a blob may have lost its last
	// reference the garbage collector looks at it.
	reviewDelay time.Duration
	// tagRule decides whether a tag may move (nil: every tag may).
	tagRule TagRule
}

// TagRule reports whether tag, once set in repository r, may not be moved
// to another image. ECR's rule (ecrmodel.TagImmutable) is wired by the
// node: the store applies it inside the transaction that moves a tag.
type TagRule func(r Repository, tag string) bool

// WithTagRule makes the store refuse tag moves rule forbids.
func WithTagRule(rule TagRule) Option {
	return func(s *sqlStore) { s.tagRule = rule }
}

// Option configures a store.
type Option func(*sqlStore)

// DefaultReviewDelay is gc.review_delay's default: a client between its
// blob uploads and its manifest PUT is safe for a day.
const DefaultReviewDelay = 24 * time.Hour

// WithReviewDelay sets how long a blob that may have lost its last
// reference waits before the garbage collector reviews it.
func WithReviewDelay(d time.Duration) Option {
	return func(s *sqlStore) {
		if d >= 0 {
			s.reviewDelay = d
		}
	}
}

// Open opens (creating and migrating as needed) the store: engine "sqlite"
// with dsn the database file's path, or "postgres" with dsn a PostgreSQL
// URL or keyword/value DSN.
func Open(ctx context.Context, engine, dsn string, opts ...Option) (Store, error) {
	var (
		s   *sqlStore
		err error
	)
	switch engine {
	case "sqlite":
		return openSQLiteRetrying(ctx, dsn, opts)
	case "postgres":
		s, err = openPostgres(dsn)
	default:
		return nil, newErr("Open", Invalid, "engine", "unknown engine %q (want sqlite or postgres)", engine)
	}
	if err != nil {
		return nil, fail("Open", "database", err)
	}
	return s.start(ctx, opts)
}

// openSQLiteRetrying opens a SQLite store, trying again while another
// process opening the same new file holds it: switching a new file to WAL
// and the first migrations can answer SQLITE_BUSY at once, without the
// busy timeout (SQLite skips the busy handler where waiting could
// deadlock), when several processes start on one data dir together.
func openSQLiteRetrying(ctx context.Context, path string, opts []Option) (Store, error) {
	deadline := time.Now().Add(sqliteBusyMillis * time.Millisecond)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		s, err := openSQLite(path)
		var st Store
		if err == nil {
			st, err = s.start(ctx, opts)
		} else {
			err = fail("Open", "database", err)
		}
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return st, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// start applies opts, checks the connections and migrates the schema.
func (s *sqlStore) start(ctx context.Context, opts []Option) (Store, error) {
	s.reviewDelay = DefaultReviewDelay
	for _, o := range opts {
		o(s)
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fail("Open", "schema", err)
	}
	return s, nil
}

// sqliteBusyMillis is how long a connection waits for a lock held by
// another process (or a checkpoint) before SQLITE_BUSY.
const sqliteBusyMillis = 10000

func openSQLite(path string) (*sqlStore, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("invalid sqlite path %q", path)
	}
	// Create the file ourselves so it is 0600; SQLite gives the -wal and
	// -shm files the main file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	f.Close()
	base := path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", sqliteBusyMillis)
	w, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	// The writer sets WAL (persistent in the file) before any reader opens.
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return &sqlStore{engine: "sqlite", db: w, rdb: r}, nil
}

func openPostgres(dsn string) (*sqlStore, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(10)
	return &sqlStore{engine: "postgres", db: db, rdb: db}, nil
}

func (s *sqlStore) Engine() string { return s.engine }

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fail("Ping", "database", err)
	}
	if s.rdb != s.db {
		if err := s.rdb.PingContext(ctx); err != nil {
			return fail("Ping", "database", err)
		}
	}
	return nil
}

func (s *sqlStore) Close() error {
	err := s.db.Close()
	if s.rdb != s.db {
		err = errors.Join(err, s.rdb.Close())
	}
	return err
}
