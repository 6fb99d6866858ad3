package e2e_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestKeyringOnSeveralNodes: a node whose keyring is a copy of its own
// (not shared) while another node runs `berth keys rotate` on the same
// storage can no longer decrypt anything. It says so: /readyz answers 503
// with the reason, berth_keyring_ready is 0, failed reads are counted and
// logged. Once the rotated keyring reaches it, it is ready again without
// a restart.
func TestKeyringOnSeveralNodes(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	a := newAPI(t, b)
	data := randBytes(t, 64<<10)
	dg := a.pushBlob("e2e/keyring", data, 1)
	hc := clientFor(t, b.CACert)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := hc.Get(b.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	metric := func(name string) string {
		t.Helper()
		_, body := get("/metrics")
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		return m[1]
	}
	if code, body := get("/readyz"); code != 200 || metric("berth_keyring_ready") != "1" {
		t.Fatalf("before: /readyz %d %s", code, body)
	}

	// The other node: the same storage, its own copy of the keyring.
	own := filepath.Join(b.DataDir, "keys", "keyring.json")
	other := filepath.Join(t.TempDir(), "keyring.json")
	copyTo(t, own, other)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.BerthBinary(t), "keys", "rotate", "--config", b.Config)
	cmd.Env = append(os.Environ(), "BERTH_STORAGE_KEYRING="+other)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("berth keys rotate on the other node: %v\n%s", err, out)
	} else {
		t.Logf("other node: %s", strings.TrimSpace(string(out)))
	}

	code, body := get("/readyz")
	t.Logf("/readyz after the rotation: %d %s", code, body)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot decrypt") || !strings.Contains(body, own) {
		t.Errorf("/readyz after a rotation elsewhere: %d %s, want 503 naming the keyring", code, body)
	}
	// The read fails: as an error status, or (issue 10 item 10, the /v2
	// side's) cut after the headers.
	if r, err := a.try("GET", "/v2/e2e/keyring/blobs/"+dg, nil); err == nil && r.status == http.StatusOK {
		t.Errorf("a blob read without its key succeeded")
	} else {
		t.Logf("blob GET without the key: %v %v", r.status, err)
	}
	if v := metric("berth_keyring_ready"); v != "0" {
		t.Errorf("berth_keyring_ready %s after the rotation elsewhere", v)
	}
	if v := metric("berth_keyring_unknown_key_total"); v == "0" {
		t.Errorf("berth_keyring_unknown_key_total %s after a failed read", v)
	}
	if !strings.Contains(b.Log(), "keyring: not ready") {
		t.Errorf("no log line says the node is not ready")
	}

	// The rotated keyring reaches this node: ready again, no restart.
	copyTo(t, other, own)
	if code, body := get("/readyz"); code != 200 || metric("berth_keyring_ready") != "1" {
		t.Fatalf("with the rotated keyring: /readyz %d %s", code, body)
	}
	sameBytes(t, "blob with the rotated keyring", a.getBlob("e2e/keyring", dg), data)
}

func copyTo(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
