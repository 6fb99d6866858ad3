package metadata_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metadata/storetest"
)

func openSQLite(t testing.TB) metadata.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := metadata.Open(context.Background(), "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) metadata.Store { return openSQLite(t) })
}

func TestSQLiteFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := metadata.Open(ctx, "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: "123456789012", Name: "app"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode = %v, want 0600", fi.Mode().Perm())
	}
	// Reopening keeps the data and does not migrate again.
	s, err = metadata.Open(ctx, "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetRepository(ctx, "123456789012", "app"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ engine, dsn string }{
		{"mysql", "x"},
		{"sqlite", ""},
		{"sqlite", filepath.Join(t.TempDir(), "missing-dir", "berth.db")},
	} {
		if s, err := metadata.Open(ctx, c.engine, c.dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q, %q) succeeded", c.engine, c.dsn)
		} else if _, ok := err.(*metadata.Error); !ok {
			t.Errorf("Open(%q, %q) error %T, want *metadata.Error", c.engine, c.dsn, err)
		}
	}
}
