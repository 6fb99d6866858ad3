package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/berth-registry/berth/metadata"
)

// testConcurrentImmutableTag races two writers pointing one new tag of an
// IMMUTABLE repository at different images: exactly one wins, the other is
// Kind ImmutableTag, and the tag names the winner's image.
func testConcurrentImmutableTag(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	_, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: reg, Name: "app", TagMutability: metadata.Immutable})
	must(t, err)
	imgs := [2]metadata.Image{putImage(t, s, "app", "one"), putImage(t, s, "app", "two")}
	for round := range 20 {
		tg := fmt.Sprintf("v%d", round)
		var (
			start sync.WaitGroup
			done  sync.WaitGroup
			errs  [2]error
		)
		start.Add(1)
		for i := range 2 {
			done.Go(func() {
				start.Wait()
				_, errs[i] = s.TagImage(ctx, reg, "app", tg, imgs[i].Digest)
			})
		}
		start.Done()
		done.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: both writers moved the immutable tag", round)
				}
				winner = i
			case !metadata.Is(err, metadata.ImmutableTag):
				t.Fatalf("round %d: writer %d: %v", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won", round)
		}
		if d, err := s.ResolveTag(ctx, reg, "app", tg); err != nil || d != imgs[winner].Digest {
			t.Fatalf("round %d: tag = %q, %v; want the winner's %q", round, d, err, imgs[winner].Digest)
		}
	}
}

// testConcurrentWriters runs writers and readers side by side: no write
// may fail for contention (SQLITE_BUSY, deadlocks), and the image counts
// add up.
func testConcurrentWriters(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	const writers, perWriter = 4, 15
	mustRepo(t, s, reg, "shared")
	putImage(t, s, "shared", "base")
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				d := digest(fmt.Sprintf("w%d-%d", w, i))
				img := metadata.Image{RegistryID: reg, Repository: "shared", Digest: d, Children: []string{digest("base")}}
				if _, err := s.PutImage(ctx, img); err != nil {
					errs <- fmt.Errorf("PutImage: %w", err)
					continue
				}
				if _, err := s.TagImage(ctx, reg, "shared", fmt.Sprintf("w%d", w), d); err != nil {
					errs <- fmt.Errorf("TagImage: %w", err)
				}
				if err := s.RecordPulls(ctx, []metadata.Pull{{RegistryID: reg, Repository: "shared", Digest: d}}); err != nil {
					errs <- fmt.Errorf("RecordPulls: %w", err)
				}
				if i%5 == 4 {
					if err := s.DeleteImage(ctx, reg, "shared", digest(fmt.Sprintf("w%d-%d", w, i-4))); err != nil {
						errs <- fmt.Errorf("DeleteImage: %w", err)
					}
				}
			}
		})
		wg.Go(func() {
			for range perWriter {
				if _, _, err := s.ListImageIDs(ctx, reg, "shared", metadata.TagAny, metadata.Page{}); err != nil {
					errs <- fmt.Errorf("ListImageIDs: %w", err)
				}
				if _, err := s.GetRepository(ctx, reg, "shared"); err != nil {
					errs <- fmt.Errorf("GetRepository: %w", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each writer deleted its images 0, 5 and 10 (untagged by then);
	// base stays.
	want := int64(writers*(perWriter-perWriter/5)) + 1
	r, err := s.GetRepository(ctx, reg, "shared")
	must(t, err)
	if r.ImageCount != want {
		t.Fatalf("ImageCount = %d, want %d", r.ImageCount, want)
	}
	ids, _, err := s.ListImageIDs(ctx, reg, "shared", metadata.TagAny, metadata.Page{Limit: 1000})
	must(t, err)
	if int64(len(ids)) != want {
		t.Fatalf("%d image ids, want %d", len(ids), want)
	}
}
