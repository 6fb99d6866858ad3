package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadConfigExitsTwoWithOneLine runs the real binary: a bad config must
// be one line on stderr naming the field, and exit status 2.
func TestBadConfigExitsTwoWithOneLine(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "berth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(cfg, []byte("http:\n  addr: 127.0.0.1:0\n  tls: yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		env   string
		field string
	}{
		{[]string{"serve", "--config", cfg}, "", "http.tls"},
		{[]string{"serve"}, "BERTH_STORAGE_BACKEND=tape", "storage.backend"},
		{[]string{"serve", "--bogus"}, "", "bogus"},
		{[]string{"frobnicate"}, "", "frobnicate"},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Dir = t.TempDir()
		cmd.Env = os.Environ()
		if c.env != "" {
			cmd.Env = append(cmd.Env, c.env)
		}
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 {
			t.Fatalf("%v: exit %v, want 2\n%s", c.args, err, out)
		}
		first := strings.SplitN(string(out), "\n", 2)[0]
		if !strings.Contains(first, c.field) {
			t.Fatalf("%v: first line %q does not name %q", c.args, first, c.field)
		}
	}
}

// TestIAMWithoutAStore: berth iam takes --data-dir like serve, and without
// a metadata store there says so in one line (no "metadata: metadata:"),
// making neither a store nor a keyring.
func TestIAMWithoutAStore(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "berth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "iam", "list", "--data-dir", dir)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1\n%s", err, out)
	}
	want := "berth: metadata.dsn: no metadata store at " + filepath.Join(dir, "metadata.db") +
		" (berth serve makes it at its first start): give the server's --config or --data-dir\n"
	if string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("berth iam made %v in the data dir", left)
	}
}

// TestPprofMux: the profiles debug.pprof_addr serves, a CPU profile
// among them.
func TestPprofMux(t *testing.T) {
	ts := httptest.NewServer(pprofMux())
	defer ts.Close()
	for _, c := range []struct {
		path string
		want []byte
	}{
		{"/debug/pprof/", []byte("goroutine")},
		{"/debug/pprof/heap?debug=1", []byte("heap profile")},
		{"/debug/pprof/profile?seconds=1", []byte{0x1f, 0x8b}}, // gzipped protobuf
	} {
		resp, err := http.Get(ts.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Contains(b, c.want) {
			t.Errorf("GET %s: %d, %d bytes without %q", c.path, resp.StatusCode, len(b), c.want)
		}
	}
}
