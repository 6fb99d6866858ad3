package metadata_test

import (
	"context"
	"sync"
	"testing"

	"github.com/berth-registry/berth/internal/testenv"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metadata/storetest"
)

func openPostgres(t testing.TB, dsn string, opts ...metadata.Option) metadata.Store {
	t.Helper()
	s, err := metadata.Open(context.Background(), "postgres", dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgres(t *testing.T) {
	// This test's own database keeps the shared server up for the
	// subtests; each case gets a database of its own.
	testenv.StartPostgres(t)
	storetest.Run(t, func(t *testing.T, opts ...metadata.Option) metadata.Store {
		return openPostgres(t, testenv.StartPostgres(t), opts...)
	})
}

// TestPostgresConcurrentOpen starts several "nodes" on one empty database
// at once: the advisory lock lets exactly one migrate.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := testenv.StartPostgres(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			s, err := metadata.Open(context.Background(), "postgres", dsn)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	s := openPostgres(t, dsn)
	if _, err := s.CreateRepository(context.Background(), metadata.Repository{RegistryID: "123456789012", Name: "app"}); err != nil {
		t.Fatal(err)
	}
}
