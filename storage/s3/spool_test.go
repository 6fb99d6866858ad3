package s3

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSweepSpool: the part files a crashed process left (unwritten for
// longer than spoolMaxIdle) go; a part being filled stays.
func TestSweepSpool(t *testing.T) {
	dir := t.TempDir()
	// New contacts no server: the sweep needs none.
	b, err := New(context.Background(), Config{Endpoint: "127.0.0.1:1", Bucket: "spool-test", SpoolDir: dir,
		AccessKey: "k", SecretKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	left, live := filepath.Join(dir, "part-left"), filepath.Join(dir, "part-live")
	other := filepath.Join(dir, "not-a-part")
	for _, f := range []string{left, live, other} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-spoolMaxIdle - time.Minute)
	for _, f := range []string{left, other} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.SweepSpool(); n != 1 {
		t.Fatalf("swept %d files, want 1", n)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("the crashed upload's part file is still there: %v", err)
	}
	for _, f := range []string{live, other} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
	}
}
