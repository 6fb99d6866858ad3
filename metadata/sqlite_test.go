package metadata_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metadata/storetest"
)

func openSQLite(t testing.TB, opts ...metadata.Option) metadata.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "berth.db")
	s, err := metadata.Open(context.Background(), "sqlite", path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts ...metadata.Option) metadata.Store { return openSQLite(t, opts...) })
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

// TestSQLiteSharedFile opens one new file from several stores at once (as
// processes sharing a data dir would): migrations run once, and writers
// of different stores wait for each other instead of failing with
// SQLITE_BUSY.
func TestSQLiteSharedFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "berth.db")
	stores := make([]metadata.Store, 3)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = metadata.Open(ctx, "sqlite", path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	for i, s := range stores {
		wg.Go(func() {
			for j := range 20 {
				name := fmt.Sprintf("repo-%d-%d", i, j)
				if _, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: "123456789012", Name: name}); err != nil {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
	}
	list, _, err := stores[0].ListRepositories(ctx, "123456789012", metadata.Page{Limit: 1000})
	if err != nil || len(list) != 60 {
		t.Fatalf("ListRepositories = %d, %v; want 60", len(list), err)
	}
}
