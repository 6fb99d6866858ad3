package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// testPutManifest: a push records the image, its alias and its tag in one
// transaction; a refused tag move records nothing of the push; an index
// needs its children; a deleted repository takes no push.
func testPutManifest(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	_, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: reg, Name: "app",
		TagMutability: metadata.ImmutableWithExclusion, MutabilityExclusions: []string{"latest"}})
	must(t, err)
	img := func(name string) metadata.Image {
		return metadata.Image{RegistryID: reg, Repository: "app", Digest: digest(name),
			MediaType: "application/vnd.oci.image.manifest.v1+json", ManifestSize: 100 + int64(len(name))}
	}
	res, err := s.PutManifest(ctx, metadata.ManifestWrite{Image: img("a"), Tag: "v1"})
	must(t, err)
	if !res.Created || res.Previous != "" {
		t.Fatalf("first push = %+v", res)
	}
	// The same push again: not new, the tag already there.
	res, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: img("a"), Tag: "v1"})
	must(t, err)
	if res.Created || res.Previous != digest("a") {
		t.Fatalf("repeated push = %+v", res)
	}
	// Another image on the immutable tag: refused, and not recorded.
	_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: img("b"), Tag: "v1"})
	wantKind(t, err, metadata.ImmutableTag, "tag")
	_, err = s.GetImage(ctx, reg, "app", digest("b"))
	wantKind(t, err, metadata.NotFound, "image")
	// The excluded tag moves.
	for _, name := range []string{"a", "b"} {
		_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: img(name), Tag: "latest"})
		must(t, err)
	}
	ref, err := s.ResolveManifest(ctx, reg, "app", "latest")
	must(t, err)
	if ref != (metadata.ManifestRef{Digest: digest("b"), MediaType: "application/vnd.oci.image.manifest.v1+json", Size: 101}) {
		t.Fatalf("latest = %+v", ref)
	}

	// An alias resolves to its image and goes with it.
	alias := "sha512:" + fmt.Sprintf("%0128x", 7)
	_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: img("c"), Alias: alias})
	must(t, err)
	for _, r := range []string{alias, digest("c")} {
		if ref, err := s.ResolveManifest(ctx, reg, "app", r); err != nil || ref.Digest != digest("c") {
			t.Fatalf("ResolveManifest(%s) = %+v, %v", r, ref, err)
		}
	}
	_, err = s.ResolveManifest(ctx, reg, "app", "nope")
	wantKind(t, err, metadata.NotFound, "tag")
	_, err = s.ResolveManifest(ctx, reg, "app", digest("nope"))
	wantKind(t, err, metadata.NotFound, "image")

	// An index: children by digest or alias; an unknown child refuses it.
	idx := img("idx")
	idx.MediaType = "application/vnd.oci.image.index.v1+json"
	idx.Children = []string{digest("a"), alias, digest("missing")}
	_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: idx, Tag: "multi"})
	wantKind(t, err, metadata.NotFound, "child")
	if _, err := s.ResolveManifest(ctx, reg, "app", "multi"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("refused index left its tag: %v", err)
	}
	idx.Children = idx.Children[:2]
	_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: idx, Tag: "multi"})
	must(t, err)
	err = s.DeleteImage(ctx, reg, "app", digest("c"))
	wantKind(t, err, metadata.Referenced, "image")
	must(t, s.DeleteImage(ctx, reg, "app", idx.Digest))
	must(t, s.DeleteImage(ctx, reg, "app", digest("c")))
	_, err = s.ResolveManifest(ctx, reg, "app", alias)
	wantKind(t, err, metadata.NotFound, "image")

	// No push lands in a repository that is gone.
	_, _, err = s.DeleteRepository(ctx, reg, "app", true)
	must(t, err)
	_, err = s.PutManifest(ctx, metadata.ManifestWrite{Image: img("a"), Tag: "v1"})
	wantKind(t, err, metadata.NotFound, "repository")
}

// testListTags pages a repository's tags in byte order; a repository
// without tags has none, one that does not exist is NotFound.
func testListTags(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	tags, next, err := s.ListTags(ctx, reg, "app", metadata.Page{})
	must(t, err)
	if len(tags) != 0 || next != "" {
		t.Fatalf("empty repository: %v, %q", tags, next)
	}
	_, _, err = s.ListTags(ctx, reg, "missing", metadata.Page{})
	wantKind(t, err, metadata.NotFound, "repository")
	a := putImage(t, s, "app", "a")
	want := []string{"1.0", "Latest", "a", "b", "latest", "v1", "v10", "v2"}
	for _, tg := range want {
		tag(t, s, "app", tg, a.Digest)
	}
	var got []string
	after := ""
	for {
		page, next, err := s.ListTags(ctx, reg, "app", metadata.Page{Limit: 3, After: after})
		must(t, err)
		got = append(got, page...)
		if next == "" {
			break
		}
		after = next
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tags = %v, want %v", got, want)
	}
}

// testExpireImage: an expiry decided on a stale view deletes nothing.
func testExpireImage(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	a := putImage(t, s, "app", "a")
	// Evaluated as untagged, tagged meanwhile: stays.
	tag(t, s, "app", "latest", a.Digest)
	err := s.ExpireImage(ctx, reg, "app", a.Digest, nil)
	wantKind(t, err, metadata.Changed, "image")
	if _, err := s.GetImage(ctx, reg, "app", a.Digest); err != nil {
		t.Fatalf("image gone after a refused expiry: %v", err)
	}
	must(t, s.ExpireImage(ctx, reg, "app", a.Digest, []string{"latest"}))
	err = s.ExpireImage(ctx, reg, "app", a.Digest, []string{"latest"})
	wantKind(t, err, metadata.NotFound, "image")
	if _, err := s.ResolveTag(ctx, reg, "app", "latest"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("expired image's tag stayed: %v", err)
	}
}

// testLeases: one holder at a time, renewal, expiry and release.
func testLeases(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	got, err := s.AcquireLease(ctx, "job", "n1", time.Minute)
	must(t, err)
	if !got {
		t.Fatal("n1 did not get a free lease")
	}
	if got, err := s.AcquireLease(ctx, "job", "n2", time.Minute); err != nil || got {
		t.Fatalf("n2 took n1's lease: %v, %v", got, err)
	}
	if got, err := s.AcquireLease(ctx, "job", "n1", time.Minute); err != nil || !got {
		t.Fatalf("n1 could not renew by acquiring: %v, %v", got, err)
	}
	if held, err := s.RenewLease(ctx, "job", "n2", time.Minute); err != nil || held {
		t.Fatalf("n2 renewed a lease it does not hold: %v, %v", held, err)
	}
	must(t, s.ReleaseLease(ctx, "job", "n2")) // not n2's: nothing happens
	if got, err := s.AcquireLease(ctx, "job", "n2", time.Minute); err != nil || got {
		t.Fatalf("n2 took the lease after releasing nothing: %v, %v", got, err)
	}
	must(t, s.ReleaseLease(ctx, "job", "n1"))
	if got, err := s.AcquireLease(ctx, "job", "n2", 50*time.Millisecond); err != nil || !got {
		t.Fatalf("released lease not free: %v, %v", got, err)
	}
	time.Sleep(100 * time.Millisecond)
	if held, err := s.RenewLease(ctx, "job", "n2", time.Minute); err != nil || !held {
		// Expired but nobody took it: still n2's row.
		t.Fatalf("renewing an expired, untaken lease: %v, %v", held, err)
	}
	must(t, s.ReleaseLease(ctx, "job", "n2"))
	if _, err := s.AcquireLease(ctx, "old", "n3", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	if got, err := s.AcquireLease(ctx, "old", "n4", time.Minute); err != nil || !got {
		t.Fatalf("expired lease not taken over: %v, %v", got, err)
	}
	if n, err := s.PruneLeases(ctx, time.Now().Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("PruneLeases = %d, %v", n, err)
	}

	// Many contenders at once: exactly one wins each round.
	for round := range 10 {
		name := fmt.Sprintf("race%d", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 6 {
			wg.Go(func() {
				got, err := s.AcquireLease(ctx, name, fmt.Sprint("c", i), time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if got {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("round %d: %d holders", round, winners)
		}
	}
}

// testLifecycleRuns: every registry's repositories with a policy come due,
// a finished run is not due again before its next time, and runs are
// bookkeeping (the authorization version stays).
func testLifecycleRuns(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	for _, r := range []string{reg, other} {
		_, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: r, Name: "app"})
		must(t, err)
		_, err = s.PutPolicy(ctx, metadata.PolicyLifecycle, r, "app", `{"rules":[]}`)
		must(t, err)
	}
	mustRepo(t, s, reg, "nopolicy")
	now := time.Now()
	due, err := s.DueLifecycleRuns(ctx, now, 10)
	must(t, err)
	if want := []metadata.RepoKey{{RegistryID: reg, Repository: "app"}, {RegistryID: other, Repository: "app"}}; !reflect.DeepEqual(due, want) {
		t.Fatalf("due = %v, want %v", due, want)
	}
	v0, err := s.AuthzVersion(ctx)
	must(t, err)
	got, err := s.AcquireLease(ctx, "lifecycle/"+reg+"/app", "n1", time.Minute)
	must(t, err)
	if !got {
		t.Fatal("lease")
	}
	must(t, s.FinishLifecycleRun(ctx, reg, "app", now, now.Add(time.Hour), "lifecycle/"+reg+"/app", "n1"))
	if v, err := s.AuthzVersion(ctx); err != nil || v != v0 {
		t.Fatalf("a lifecycle run moved the authorization version %d → %d (%v)", v0, v, err)
	}
	if ok, err := s.LifecycleRunDue(ctx, reg, "app", now.Add(time.Minute)); err != nil || ok {
		t.Fatalf("just finished run due again: %v, %v", ok, err)
	}
	if ok, err := s.LifecycleRunDue(ctx, reg, "app", now.Add(2*time.Hour)); err != nil || !ok {
		t.Fatalf("run not due after its next time: %v, %v", ok, err)
	}
	due, err = s.DueLifecycleRuns(ctx, now.Add(time.Minute), 10)
	must(t, err)
	if len(due) != 1 || due[0].RegistryID != other {
		t.Fatalf("due after a run = %v", due)
	}
	at, err := s.LifecycleLastEvaluated(ctx, reg, "app")
	must(t, err)
	if !at.Equal(now.Truncate(time.Microsecond)) {
		t.Fatalf("last evaluated = %v, want %v", at, now)
	}
	// The lease went with the run.
	if got, err := s.AcquireLease(ctx, "lifecycle/"+reg+"/app", "n2", time.Minute); err != nil || !got {
		t.Fatalf("lease not released by FinishLifecycleRun: %v, %v", got, err)
	}
	// A deleted repository's run goes with it.
	_, _, err = s.DeleteRepository(ctx, reg, "app", true)
	must(t, err)
	if at, err := s.LifecycleLastEvaluated(ctx, reg, "app"); err != nil || !at.IsZero() {
		t.Fatalf("deleted repository's run = %v, %v", at, err)
	}
}
