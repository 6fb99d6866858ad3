package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL for tests: one throwaway server per test process (initdb in a
// temp dir, loopback TCP on a free port, fsync off), started by the first
// StartPostgres and stopped and removed when the last test using it has
// finished; every call gets a fresh database. The binaries are Debian's
// (/usr/lib/postgresql/<version>/bin, scripts/install-tools.sh apt).

// pg is the server shared by the tests of this process. refs counts the
// tests using it, so a test that holds it (a parent test) keeps it up for
// its subtests instead of each subtest paying for initdb.
var pg struct {
	mu   sync.Mutex
	srv  *pgServer
	refs int
	seq  int
}

// StartPostgres returns the DSN of a new, empty database on the shared
// test server. Without PostgreSQL binaries it skips the test, or fails it
// when CI=true; BERTH_SKIP_POSTGRES=1 skips it on purpose (make test-unit).
func StartPostgres(t testing.TB) string {
	t.Helper()
	if os.Getenv("BERTH_SKIP_POSTGRES") == "1" {
		t.Skip("BERTH_SKIP_POSTGRES=1: skipping test that needs a PostgreSQL server")
	}
	bin, err := postgresBin()
	if err != nil {
		msg := fmt.Sprintf("testenv: %v; run scripts/install-tools.sh apt", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.srv == nil {
		srv, err := startPostgres(bin)
		if err != nil {
			t.Fatalf("testenv: starting PostgreSQL: %v", err)
		}
		pg.srv = srv
	}
	pg.refs++
	t.Cleanup(releasePostgres)
	pg.seq++
	name := fmt.Sprintf("berth_test_%d", pg.seq)
	if err := pg.srv.createDatabase(name); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return pg.srv.dsn(name)
}

func releasePostgres() {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.refs--; pg.refs == 0 && pg.srv != nil {
		pg.srv.stop()
		pg.srv = nil
	}
}

// postgresBin is the newest /usr/lib/postgresql/<version>/bin holding
// initdb and postgres ($BERTH_PG_BIN overrides).
func postgresBin() (string, error) {
	if dir := os.Getenv("BERTH_PG_BIN"); dir != "" {
		return dir, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", errors.New("PostgreSQL binaries not found in /usr/lib/postgresql/*/bin")
	}
	version := func(p string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p))))
		return v
	}
	slices.SortFunc(matches, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(matches[len(matches)-1]), nil
}

type pgServer struct {
	dir    string // temp dir: data, socket, log
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
}

func (s *pgServer) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// startPostgres runs initdb and starts the server. PostgreSQL refuses to
// run as root, so as root both run as the postgres system user.
func startPostgres(bin string) (*pgServer, error) {
	dir, err := os.MkdirTemp("", "berth-pg-")
	if err != nil {
		return nil, err
	}
	s := &pgServer{dir: dir}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres system user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// A port free when chosen may be taken before the server binds it.
	for range 3 {
		s.port = FreePort()
		if err = s.start(bin, cred); err == nil {
			return s, nil
		}
		s.halt()
	}
	s.removeAll()
	return nil, err
}

func (s *pgServer) start(bin string, cred *syscall.Credential) error {
	logPath := filepath.Join(s.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port), "-h", "127.0.0.1", "-k", s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group (a Ctrl-C of go test reaches cleanup first), and
	// SIGQUIT (immediate shutdown) if the test process dies without it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("postgres exited before it was ready:\n%s", tail(logPath))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("postgres not ready on port %d after %s:\n%s", s.port, readyTimeout, tail(logPath))
}

func (s *pgServer) createDatabase(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// stop shuts the server down and removes its directory.
func (s *pgServer) stop() {
	s.halt()
	s.removeAll()
}

// halt stops the server process: fast shutdown, immediate after 10 s (a
// SIGKILLed postmaster would leave its backends behind).
func (s *pgServer) halt() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	p := s.cmd.Process
	_ = p.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = p.Signal(syscall.SIGQUIT)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = p.Kill()
			<-s.exited
		}
	}
	s.cmd = nil
}

func (s *pgServer) removeAll() { _ = os.RemoveAll(s.dir) }

// tail is the end of a log file, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(bytes.TrimSpace(b))
}

// PostgresAvailable reports why StartPostgres would skip (nil when the
// binaries are there), for callers that choose between engines.
func PostgresAvailable() error {
	_, err := postgresBin()
	return err
}
