// Package testenv starts real servers for tests: a MinIO process on a free
// loopback port with its own data directory, stopped in t.Cleanup.
//
// The binaries come from scripts/install-tools.sh, which installs them into
// $BERTH_TOOLS/bin (default ~/.cache/berth/tools/bin). A missing binary fails
// the test rather than skipping it, so a CI machine without the tools cannot
// pass silently; set BERTH_SKIP_MINIO=1 to skip on purpose.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// ToolPath is the path of an installed tool: $BERTH_TOOLS/bin/<name>, with
// BERTH_TOOLS defaulting to ~/.cache/berth/tools (scripts/install-tools.sh).
func ToolPath(name string) string {
	dir := os.Getenv("BERTH_TOOLS")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".cache", "berth", "tools")
	}
	return filepath.Join(dir, "bin", name)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another
// process may still take it before the caller binds it; StartMinIO retries.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("testenv: no free port: %v", err))
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// MinIO is a running MinIO server. Stop and Start restart the same server
// (same port, same data), for tests of what happens while storage is down.
type MinIO struct {
	Endpoint  string // host:port, plain HTTP
	AccessKey string
	SecretKey string
	DataDir   string

	t        testing.TB
	bin      string
	console  string
	certsDir string
	logPath  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd exits
}

// readyTimeout bounds one start; MinIO is usually ready in 1–4 s.
const readyTimeout = 45 * time.Second

// StartMinIO starts a MinIO server for the test and stops it in t.Cleanup.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	if os.Getenv("BERTH_SKIP_MINIO") == "1" {
		t.Skip("BERTH_SKIP_MINIO=1: skipping test that needs a MinIO server")
	}
	bin := ToolPath("minio")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("testenv: MinIO binary not found at %s (%v); run scripts/install-tools.sh "+
			"(about 10 minutes the first time), or set BERTH_SKIP_MINIO=1 to skip", bin, err)
	}
	base := t.TempDir()
	m := &MinIO{
		AccessKey: "berthtest",
		SecretKey: "berthtest-secret-key",
		DataDir:   filepath.Join(base, "data"),
		t:         t,
		bin:       bin,
		// Our own certs dir keeps MinIO from creating ~/.minio/certs.
		certsDir: filepath.Join(base, "certs"),
		logPath:  filepath.Join(base, "minio.log"),
	}
	for _, d := range []string{m.DataDir, m.certsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	t.Cleanup(m.Stop)

	// A port that was free when chosen may be taken by the time MinIO binds
	// it (other tests run in parallel): try a few fresh ports.
	var err error
	for range 3 {
		m.Endpoint = "127.0.0.1:" + strconv.Itoa(FreePort())
		m.console = "127.0.0.1:" + strconv.Itoa(FreePort())
		if err = m.start(); err == nil {
			return m
		}
		m.Stop()
	}
	t.Fatalf("testenv: starting MinIO: %v\n%s", err, m.logTail())
	return nil
}

// Start restarts a stopped server on the same port and data directory and
// waits until it is ready. It is a no-op while the server runs.
func (m *MinIO) Start() {
	m.t.Helper()
	if err := m.start(); err != nil {
		m.t.Fatalf("testenv: restarting MinIO: %v\n%s", err, m.logTail())
	}
}

func (m *MinIO) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return nil
	}
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(m.bin, "server", m.DataDir,
		"--address", m.Endpoint, "--console-address", m.console,
		"--certs-dir", m.certsDir, "--quiet")
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+m.AccessKey,
		"MINIO_ROOT_PASSWORD="+m.SecretKey,
		"MINIO_UPDATE=off",
		"MINIO_BROWSER=off",
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: a Ctrl-C of `go test` must not reach MinIO before
	// the test's cleanup does, and Stop signals only this process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(done)
	}()
	m.cmd, m.done = cmd, done
	return waitReady(m.Endpoint, done)
}

// waitReady polls MinIO's readiness endpoint until it answers 200, the
// process exits, or readyTimeout passes.
func waitReady(endpoint string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + endpoint + "/minio/health/ready"
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("minio exited before it was ready")
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("minio not ready at %s after %s", endpoint, readyTimeout)
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to
// exit. The data directory is kept for Start. Stopping twice is fine.
func (m *MinIO) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return
	}
	stopProcess(m.cmd.Process, m.done, 5*time.Second)
	m.cmd, m.done = nil, nil
}

// Client returns a minio-go client for the server, for test setup.
func (m *MinIO) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(m.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""),
		Region: "us-east-1",
	})
	if err != nil {
		t.Fatalf("testenv: minio client: %v", err)
	}
	return c
}

// MakeBucket creates a bucket.
func (m *MinIO) MakeBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Client(t).MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		t.Fatalf("testenv: make bucket %s: %v", name, err)
	}
}

// logTail is the end of the server's log, for failure messages.
func (m *MinIO) logTail() string {
	b, _ := os.ReadFile(m.logPath)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(bytes.TrimSpace(b))
}
