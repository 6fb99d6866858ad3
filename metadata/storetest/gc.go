package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// pushWithBlobs records an image of repo referencing blobs the way a push
// does: the layer links first, then the manifest.
func pushWithBlobs(t *testing.T, s metadata.Store, repo, name string, blobs ...string) metadata.Image {
	t.Helper()
	ctx := ctxFor(t)
	for _, b := range blobs {
		must(t, s.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: repo, Digest: b, Kind: metadata.LinkLayer}, 100, nil, metadata.EventUpload))
	}
	img := metadata.Image{RegistryID: reg, Repository: repo, Digest: digest(name), MediaType: "application/vnd.oci.image.manifest.v1+json",
		ManifestSize: 300, Blobs: blobs}
	_, err := s.PutManifest(ctx, metadata.ManifestWrite{Image: img, Blobs: blobs})
	must(t, err)
	return img
}

// review claims every due review and plans it.
func review(t *testing.T, s metadata.Store, owner string) map[string]metadata.Collection {
	t.Helper()
	ctx := ctxFor(t)
	now := time.Now()
	claimed, err := s.ClaimReviews(ctx, now, owner, time.Minute, 100)
	must(t, err)
	out := map[string]metadata.Collection{}
	for _, d := range claimed {
		c, err := s.PlanCollection(ctx, d, owner, now)
		must(t, err)
		out[d] = c
	}
	return out
}

// testCollection: two images share a layer; deleting one leaves the
// shared layer (and its links) alone and marks the rest for collection;
// after the collection the rows are gone and the totals count it.
func testCollection(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	mustRepo(t, s, reg, "other")
	shared, onlyA, onlyB := digest("shared"), digest("only-a"), digest("only-b")
	a := pushWithBlobs(t, s, "app", "a", shared, onlyA)
	pushWithBlobs(t, s, "app", "b", shared, onlyB)
	// Another repository uploaded the shared layer and never used it.
	must(t, s.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: "other", Digest: shared, Kind: metadata.LinkLayer}, 100, nil, metadata.EventUpload))

	// Uploads queue reviews; while referenced, a review removes nothing
	// but the unused link.
	plans := review(t, s, "n1")
	if c := plans[shared]; c.Delete || !reflect.DeepEqual(c.Unlink, []metadata.BlobLink{{RegistryID: reg, Repository: "other", Digest: shared, Kind: metadata.LinkLayer}}) {
		t.Fatalf("shared layer plan = %+v", c)
	}
	for _, d := range []string{onlyA, onlyB} {
		if c := plans[d]; !c.Empty() {
			t.Fatalf("referenced %s planned for collection: %+v", d, c)
		}
	}
	must(t, s.FinishCollection(ctx, plans[shared], "n1"))

	must(t, s.DeleteImage(ctx, reg, "app", a.Digest))
	plans = review(t, s, "n1")
	want := map[string]bool{onlyA: true, a.Digest: true}
	if len(plans) != 3 {
		t.Fatalf("after the delete, reviews of %v", keys(plans))
	}
	for d, c := range plans {
		if c.Delete != want[d] {
			t.Errorf("%s: Delete = %v, want %v (%+v)", d, c.Delete, want[d], c)
		}
		if want[d] && len(c.Unlink) != 1 {
			t.Errorf("%s: unlinks %v, want its one link", d, c.Unlink)
		}
		must(t, s.FinishCollection(ctx, c, "n1"))
	}
	st, err := s.GCStatus(ctx, time.Now())
	must(t, err)
	if st.Queued != 0 || st.BlobsDeleted != 2 || st.BytesReclaimed != 100+300 || st.LinksRemoved != 3 {
		t.Fatalf("status after the collection = %+v", st)
	}
	// What is left still resolves as referenced: nothing due.
	if plans := review(t, s, "n1"); len(plans) != 0 {
		t.Fatalf("reviews after the collection: %v", keys(plans))
	}

	// A deleted repository's blobs are reviewed; what other repositories
	// use stays.
	mustRepo(t, s, reg, "doomed")
	pushWithBlobs(t, s, "doomed", "d", shared, digest("only-d"))
	review(t, s, "n1") // the uploads' reviews: all referenced
	_, _, err = s.DeleteRepository(ctx, reg, "doomed", true)
	must(t, err)
	plans = review(t, s, "n1")
	if !plans[digest("only-d")].Delete || !plans[digest("d")].Delete || plans[shared].Delete {
		t.Fatalf("after deleting a repository: %+v", plans)
	}
	if c := plans[shared]; len(c.Unlink) != 1 || c.Unlink[0].Repository != "doomed" {
		t.Fatalf("shared layer after deleting a repository: %+v", c)
	}
}

// testCollectionGuards: a blob being collected can be neither recorded,
// touched nor referenced; a touch pushes a due review out.
func testCollectionGuards(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	layer, touched := digest("layer"), digest("touched")
	a := pushWithBlobs(t, s, "app", "a", layer, touched)
	review(t, s, "n1") // the uploads' reviews
	must(t, s.DeleteImage(ctx, reg, "app", a.Digest))

	// A client asks about one of the blobs before the collector looks.
	if c, err := s.TouchBlob(ctx, reg, "app", touched); err != nil || c != touched {
		t.Fatalf("TouchBlob = %q, %v", c, err)
	}
	// Nothing is due for it now (the store's delay is 0, so the push-out
	// is to now: claim a moment later than the touch, review at once).
	now := time.Now()
	claimed, err := s.ClaimReviews(ctx, now, "n1", time.Minute, 100)
	must(t, err)
	var c metadata.Collection
	for _, d := range claimed {
		got, err := s.PlanCollection(ctx, d, "n1", now)
		must(t, err)
		if d == layer {
			c = got
		}
	}
	if !c.Delete {
		t.Fatalf("the deleted image's layer is not collected: %+v", c)
	}
	// Marked: no writer may take it now.
	err = s.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: "app", Digest: layer, Kind: metadata.LinkLayer}, 100, nil, metadata.EventUpload)
	wantKind(t, err, metadata.Changed, "blob")
	_, err = s.TouchBlob(ctx, reg, "app", layer)
	wantKind(t, err, metadata.Changed, "blob")
	wantKind(t, s.EnsureBlobLinks(ctx, []metadata.BlobLink{{RegistryID: reg, Repository: "app", Digest: layer, Kind: metadata.LinkLayer}}), metadata.Changed, "blob")
	_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: metadata.Image{RegistryID: reg, Repository: "app", Digest: digest("late"),
		MediaType: "application/vnd.oci.image.manifest.v1+json"}, Blobs: []string{layer}})
	wantKind(t, err, metadata.NotFound, "blob")
	if _, err := s.GetImage(ctx, reg, "app", digest("late")); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("a push referencing a blob being collected was recorded: %v", err)
	}
	must(t, s.FinishCollection(ctx, c, "n1"))
	// Gone: a new upload starts afresh.
	must(t, s.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: "app", Digest: layer, Kind: metadata.LinkLayer}, 100, nil, metadata.EventUpload))
	pushWithBlobs(t, s, "app", "again", layer)

	// A review a writer pushed out is no longer due: the plan says so.
	later := time.Now().Add(-time.Second)
	_, err = s.PlanCollection(ctx, digest("again"), "n1", later)
	wantKind(t, err, metadata.Changed, "review")
}

// testCollectionClaims: reviews are claimed by one node at a time; a
// postponed review comes back after its time; aliases resolve.
func testCollectionClaims(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	var ds []string
	for i := range 30 {
		d := digest(fmt.Sprint("b", i))
		ds = append(ds, d)
		must(t, s.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: "app", Digest: d, Kind: metadata.LinkLayer}, 10, nil, metadata.EventUpload))
	}
	now := time.Now()
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	for n := range 3 {
		wg.Go(func() {
			owner := fmt.Sprint("n", n)
			for {
				claimed, err := s.ClaimReviews(ctx, now, owner, time.Minute, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(claimed) == 0 {
					return
				}
				mu.Lock()
				for _, d := range claimed {
					if prev, ok := got[d]; ok {
						t.Errorf("%s claimed by %s and %s", d, prev, owner)
					}
					got[d] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != len(ds) {
		t.Fatalf("%d of %d reviews claimed", len(got), len(ds))
	}
	must(t, s.PostponeReview(ctx, ds[0], got[ds[0]], func(failures int) time.Time { return now.Add(time.Duration(failures) * time.Hour) }, "storage down"))
	st, err := s.GCStatus(ctx, now)
	must(t, err)
	if st.Queued != 30 || st.Failed != 1 || st.LastError != "storage down" || st.ReviewFailures != 1 || st.BytesQueued != 300 {
		t.Fatalf("status = %+v", st)
	}
	if claimed, err := s.ClaimReviews(ctx, now.Add(2*time.Minute), "n9", time.Minute, 100); err != nil || len(claimed) != 29 {
		// The others' claims lapsed; the postponed one is not due.
		t.Fatalf("after the claims lapsed: %d, %v", len(claimed), err)
	}
	// A second failure in a row is told so (the collector backs off on it).
	later := now.Add(61 * time.Minute)
	if claimed, err := s.ClaimReviews(ctx, later, "n8", time.Minute, 100); err != nil || !slices.Contains(claimed, ds[0]) {
		t.Fatalf("the postponed review, due: %v, %v", claimed, err)
	}
	var failures int
	must(t, s.PostponeReview(ctx, ds[0], "n8", func(n int) time.Time { failures = n; return later.Add(time.Hour) }, "still down"))
	if failures != 2 {
		t.Fatalf("second postponement told %d failures, want 2", failures)
	}

	alias := "sha512:" + fmt.Sprintf("%0128x", 1)
	must(t, s.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: "app", Digest: ds[1], Kind: metadata.LinkLayer}, 10, []string{alias}, metadata.EventUpload))
	if c, err := s.ResolveBlob(ctx, alias); err != nil || c != ds[1] {
		t.Fatalf("ResolveBlob(alias) = %q, %v", c, err)
	}
	if c, err := s.ResolveBlob(ctx, ds[2]); err != nil || c != ds[2] {
		t.Fatalf("ResolveBlob(canonical) = %q, %v", c, err)
	}
	_, err = s.TouchBlob(ctx, reg, "app", digest("unknown"))
	wantKind(t, err, metadata.NotFound, "blob")
}

// testUploads: idle uploads are claimed once, and one written to since
// the claim is not forgotten.
func testUploads(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	for _, id := range []string{"u1", "u2"} {
		must(t, s.RecordUpload(ctx, metadata.Upload{ID: id, RegistryID: reg, Repository: "app"}))
	}
	cutoff := time.Now().Add(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	claimed, err := s.ClaimIdleUploads(ctx, cutoff, time.Now(), "n1", time.Minute, 10)
	must(t, err)
	if len(claimed) != 2 {
		t.Fatalf("claimed %v", claimed)
	}
	if again, err := s.ClaimIdleUploads(ctx, cutoff, time.Now(), "n2", time.Minute, 10); err != nil || len(again) != 0 {
		t.Fatalf("claimed twice: %v, %v", again, err)
	}
	must(t, s.RecordUpload(ctx, metadata.Upload{ID: "u2", RegistryID: reg, Repository: "app"})) // written to meanwhile
	if gone, err := s.ForgetIdleUpload(ctx, "u1", cutoff); err != nil || !gone {
		t.Fatalf("ForgetIdleUpload(u1) = %v, %v", gone, err)
	}
	if gone, err := s.ForgetIdleUpload(ctx, "u2", cutoff); err != nil || gone {
		t.Fatalf("ForgetIdleUpload of an upload written to meanwhile = %v, %v", gone, err)
	}
	must(t, s.ForgetUpload(ctx, "u2"))
	if st, err := s.GCStatus(ctx, time.Now()); err != nil || st.Uploads != 0 {
		t.Fatalf("uploads left: %+v, %v", st, err)
	}
}

func keys(m map[string]metadata.Collection) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sorted(out)
}
