package metadata_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth/internal/testenv"
	"github.com/berth-registry/berth/metadata"
)

// The listing benchmarks read pages of 100 from a repository of 10,000
// images (half of them tagged) at cursors deep in the listing: with keyset
// pagination a page costs the same wherever it starts.

const (
	benchImages = 10000
	benchPage   = 100
	benchRepo   = "bench/app"
	benchReg    = "123456789012"
)

// benchStores opens a seeded store per available engine. PostgreSQL is
// left out when its binaries are missing, unless CI=true.
func benchStores(b *testing.B) map[string]metadata.Store {
	ctx := context.Background()
	stores := map[string]metadata.Store{}
	s, err := metadata.Open(ctx, "sqlite", filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	stores["sqlite"] = s
	if testenv.PostgresAvailable() == nil || os.Getenv("CI") == "true" {
		s, err := metadata.Open(ctx, "postgres", testenv.StartPostgres(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		stores["postgres"] = s
	}
	for name, s := range stores {
		if err := metadata.SeedImages(ctx, s, benchReg, benchRepo, benchImages); err != nil {
			b.Fatalf("%s: seed: %v", name, err)
		}
	}
	return stores
}

// deepCursors walks a listing and returns the cursors of the pages in its
// second half.
func deepCursors(b *testing.B, list func(metadata.Page) (int, string)) []string {
	var cursors []string
	p := metadata.Page{Limit: benchPage}
	for {
		_, next := list(p)
		if next == "" {
			break
		}
		cursors = append(cursors, next)
		p.After = next
	}
	if len(cursors) < 2 {
		b.Fatal("listing too short")
	}
	return cursors[len(cursors)/2:]
}

func BenchmarkListImages(b *testing.B) {
	ctx := context.Background()
	stores := benchStores(b)
	for _, engine := range []string{"sqlite", "postgres"} {
		s, ok := stores[engine]
		if !ok {
			continue
		}
		for _, status := range []metadata.TagStatus{metadata.TagAny, metadata.TagTagged} {
			list := func(p metadata.Page) (int, string) {
				imgs, next, err := s.ListImages(ctx, benchReg, benchRepo, status, p)
				if err != nil {
					b.Fatal(err)
				}
				return len(imgs), next
			}
			cursors := deepCursors(b, list)
			b.Run(engine+"/"+string(status), func(b *testing.B) {
				i := 0
				for b.Loop() {
					if n, _ := list(metadata.Page{Limit: benchPage, After: cursors[i%len(cursors)]}); n == 0 {
						b.Fatal("empty page")
					}
					i++
				}
			})
		}
	}
}

func BenchmarkListImageIDs(b *testing.B) {
	ctx := context.Background()
	stores := benchStores(b)
	for _, engine := range []string{"sqlite", "postgres"} {
		s, ok := stores[engine]
		if !ok {
			continue
		}
		for _, status := range []metadata.TagStatus{metadata.TagAny, metadata.TagTagged, metadata.TagUntagged} {
			list := func(p metadata.Page) (int, string) {
				ids, next, err := s.ListImageIDs(ctx, benchReg, benchRepo, status, p)
				if err != nil {
					b.Fatal(err)
				}
				return len(ids), next
			}
			cursors := deepCursors(b, list)
			b.Run(engine+"/"+string(status), func(b *testing.B) {
				i := 0
				for b.Loop() {
					if n, _ := list(metadata.Page{Limit: benchPage, After: cursors[i%len(cursors)]}); n == 0 {
						b.Fatal("empty page")
					}
					i++
				}
			})
		}
	}
}
