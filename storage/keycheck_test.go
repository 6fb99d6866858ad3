package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// TestCheckKeys: two nodes on one storage, each with its own copy of the
// keyring. After a rotation on one, the other's key check names the
// missing key (a *crypt.UnknownKeyError) and so does a read; once it has
// the rotated keyring file, the check passes again without a restart.
func TestCheckKeys(t *testing.T) {
	ctx := context.Background()
	root, dir := t.TempDir(), t.TempDir()
	pathA, pathB := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	krA, err := crypt.LoadOrCreateKeyring(pathA)
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, pathA, pathB)
	krB, err := crypt.LoadKeyring(pathB)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newDriver(t, root, krA), newDriver(t, root, krB)
	var unknown []string
	b.Inner().OnUnknownKey = func(e *crypt.UnknownKeyError) { unknown = append(unknown, e.KEKID) }

	if err := a.PutContent(ctx, "/docker/blob", []byte("content")); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]*storage.Driver{"a": a, "b": b} {
		if err := d.CheckKeys(ctx); err != nil { // the first writes the check object
			t.Fatalf("%s before the rotation: %v", name, err)
		}
	}

	id, err := krA.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.Rewrap(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckKeys(ctx); err != nil {
		t.Fatalf("the rotating node: %v", err)
	}
	var uk *crypt.UnknownKeyError
	if err := b.CheckKeys(ctx); !errors.As(err, &uk) || uk.KEKID != id || uk.Keyring != pathB {
		t.Fatalf("the other node after the rotation: %v, want the unknown key %s of %s", err, id, pathB)
	}
	if _, err := b.GetContent(ctx, "/docker/blob"); err == nil || len(unknown) == 0 || unknown[0] != id {
		t.Fatalf("a read on the other node: %v, reported %v", err, unknown)
	}

	copyFile(t, pathA, pathB) // the rotated keyring reaches the other node
	if err := b.CheckKeys(ctx); err != nil {
		t.Fatalf("the other node with the rotated keyring: %v", err)
	}
	if got, err := b.GetContent(ctx, "/docker/blob"); err != nil || string(got) != "content" {
		t.Fatalf("a read with the rotated keyring: %q %v", got, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
