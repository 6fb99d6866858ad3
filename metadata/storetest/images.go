package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

func testPutGetImage(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	_, err := s.PutImage(ctx, metadata.Image{RegistryID: reg, Repository: "missing", Digest: digest("x")})
	wantKind(t, err, metadata.NotFound, "repository")
	mustRepo(t, s, reg, "app")

	pushed := time.Date(2024, 2, 3, 4, 5, 6, 789000, time.UTC)
	img := metadata.Image{
		RegistryID:   reg,
		Repository:   "app",
		Digest:       digest("m"),
		MediaType:    "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/vnd.example.sbom",
		ManifestSize: 777,
		Size:         123456789012,
		PushedAt:     pushed,
		Subject:      digest("subject"),
		Annotations:  map[string]string{"org.opencontainers.image.created": "2024", "b": "c"},
		Blobs:        []string{digest("config"), digest("layer1"), digest("layer0")},
	}
	created, err := s.PutImage(ctx, img)
	must(t, err)
	if !created {
		t.Fatal("first PutImage: created = false")
	}
	got, err := s.GetImage(ctx, reg, "app", img.Digest)
	must(t, err)
	if !reflect.DeepEqual(got, img) {
		t.Fatalf("GetImage =\n%+v\nwant\n%+v", got, img)
	}

	// An update replaces everything but the push and pull times.
	pull := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	must(t, s.RecordPulls(ctx, []metadata.Pull{{RegistryID: reg, Repository: "app", Digest: img.Digest, At: pull}}))
	up := img
	up.PushedAt = time.Now()
	up.LastPull = time.Time{}
	up.Size, up.ArtifactType, up.Subject = 1, "", ""
	up.Annotations, up.Blobs = nil, []string{digest("other")}
	up.Children = []string{putImage(t, s, "app", "c1").Digest}
	created, err = s.PutImage(ctx, up)
	must(t, err)
	if created {
		t.Fatal("second PutImage: created = true")
	}
	got, err = s.GetImage(ctx, reg, "app", img.Digest)
	must(t, err)
	want := up
	want.PushedAt, want.LastPull = pushed, pull
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after update GetImage =\n%+v\nwant\n%+v", got, want)
	}
	if r, _ := s.GetRepository(ctx, reg, "app"); r.ImageCount != 2 { // and its child
		t.Fatalf("ImageCount = %d, want 2", r.ImageCount)
	}

	// PushedAt defaults to now; Tags are filled and sorted.
	plain, err := s.PutImage(ctx, metadata.Image{RegistryID: reg, Repository: "app", Digest: digest("plain")})
	must(t, err)
	if !plain {
		t.Fatal("created = false")
	}
	tag(t, s, "app", "b", digest("plain"))
	tag(t, s, "app", "a", digest("plain"))
	got, err = s.GetImage(ctx, reg, "app", digest("plain"))
	must(t, err)
	if time.Since(got.PushedAt) > time.Minute || !got.LastPull.IsZero() {
		t.Fatalf("times = %v, %v", got.PushedAt, got.LastPull)
	}
	if !reflect.DeepEqual(got.Tags, []string{"a", "b"}) || got.Annotations != nil || got.Blobs != nil || got.Children != nil {
		t.Fatalf("GetImage = %+v", got)
	}

	for _, c := range []struct{ registry, repo, digest string }{
		{reg, "app", digest("nope")}, {other, "app", img.Digest}, {reg, "other", img.Digest},
	} {
		_, err = s.GetImage(ctx, c.registry, c.repo, c.digest)
		wantKind(t, err, metadata.NotFound, "image")
	}
	_, err = s.PutImage(ctx, metadata.Image{RegistryID: reg, Repository: "app"})
	wantKind(t, err, metadata.Invalid, "")
}

func testTags(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	a := putImage(t, s, "app", "a")
	b := putImage(t, s, "app", "b")

	_, err := s.ResolveTag(ctx, reg, "app", "latest")
	wantKind(t, err, metadata.NotFound, "tag")
	_, err = s.TagImage(ctx, reg, "app", "latest", digest("missing"))
	wantKind(t, err, metadata.NotFound, "image")
	_, err = s.TagImage(ctx, reg, "nope", "latest", a.Digest)
	wantKind(t, err, metadata.NotFound, "repository")
	if _, err := s.ResolveTag(ctx, reg, "app", "latest"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("failed TagImage created the tag: %v", err)
	}

	steps := []struct {
		digest, previous string
	}{
		{a.Digest, ""},       // new
		{a.Digest, a.Digest}, // same image again
		{b.Digest, a.Digest}, // moved
		{a.Digest, b.Digest}, // and back
	}
	for i, st := range steps {
		prev, err := s.TagImage(ctx, reg, "app", "latest", st.digest)
		must(t, err)
		if prev != st.previous {
			t.Fatalf("step %d: previous = %q, want %q", i, prev, st.previous)
		}
		if d, err := s.ResolveTag(ctx, reg, "app", "latest"); err != nil || d != st.digest {
			t.Fatalf("step %d: ResolveTag = %q, %v", i, d, err)
		}
	}

	// Untag naming the image the tag no longer points at leaves it.
	_, err = s.Untag(ctx, reg, "app", "latest", b.Digest)
	wantKind(t, err, metadata.Changed, "tag")
	d, err := s.Untag(ctx, reg, "app", "latest", a.Digest)
	must(t, err)
	if d != a.Digest {
		t.Fatalf("Untag = %q, want %q", d, a.Digest)
	}
	_, err = s.ResolveTag(ctx, reg, "app", "latest")
	wantKind(t, err, metadata.NotFound, "tag")
	_, err = s.Untag(ctx, reg, "app", "latest", "")
	wantKind(t, err, metadata.NotFound, "tag")
	if img, err := s.GetImage(ctx, reg, "app", a.Digest); err != nil || img.Tags != nil {
		t.Fatalf("untagged image = %+v, %v", img, err)
	}
}

func testImmutability(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	cases := []struct {
		mode       string
		exclusions []string
		movable    map[string]bool // tag → may move
	}{
		{metadata.Mutable, nil, map[string]bool{"v1": true, "latest": true}},
		{"", nil, map[string]bool{"v1": true}},
		{metadata.Immutable, nil, map[string]bool{"v1": false, "latest": false}},
		{metadata.ImmutableWithExclusion, []string{"latest", "dev-*"},
			map[string]bool{"v1": false, "latest": true, "dev-abc": true, "dev": false, "xdev-1": false}},
		{metadata.MutableWithExclusion, []string{"release-*", "*-final"},
			map[string]bool{"main": true, "release-1": false, "v2-final": false, "release": true}},
	}
	for i, c := range cases {
		repo := "repo" + string(rune('a'+i))
		_, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: reg, Name: repo,
			TagMutability: c.mode, MutabilityExclusions: c.exclusions})
		must(t, err)
		one := putImage(t, s, repo, "one")
		two := putImage(t, s, repo, "two")
		for tg, movable := range c.movable {
			tag(t, s, repo, tg, one.Digest)
			// Pointing a tag at the image it already names is always fine.
			if prev, err := s.TagImage(ctx, reg, repo, tg, one.Digest); err != nil || prev != one.Digest {
				t.Fatalf("%s %s: retag same = %q, %v", c.mode, tg, prev, err)
			}
			prev, err := s.TagImage(ctx, reg, repo, tg, two.Digest)
			want := one.Digest
			if movable {
				must(t, err)
				if prev != one.Digest {
					t.Fatalf("%s %s: previous = %q", c.mode, tg, prev)
				}
				want = two.Digest
			} else {
				wantKind(t, err, metadata.ImmutableTag, "tag")
			}
			if d, _ := s.ResolveTag(ctx, reg, repo, tg); d != want {
				t.Fatalf("%s %s: tag points at %q, want %q", c.mode, tg, d, want)
			}
		}
	}

	// Changing the mode applies to the next move.
	_, err := s.UpdateRepository(ctx, reg, "repoc", func(r *metadata.Repository) error {
		r.TagMutability = metadata.Mutable
		return nil
	})
	must(t, err)
	if _, err := s.TagImage(ctx, reg, "repoc", "v1", digest("two")); err != nil {
		t.Fatalf("after switching to MUTABLE: %v", err)
	}
}

func testDeleteImage(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	mustRepo(t, s, reg, "elsewhere")
	c1 := putImage(t, s, "app", "c1")
	c2 := putImage(t, s, "app", "c2")
	idx := putImage(t, s, "app", "idx", func(img *metadata.Image) {
		img.MediaType = "application/vnd.oci.image.index.v1+json"
		img.Children = []string{c1.Digest, c2.Digest, c1.Digest}
	})
	idx2 := putImage(t, s, "app", "idx2", func(img *metadata.Image) { img.Children = []string{c1.Digest} })
	// An index in another repository does not hold images here.
	putImage(t, s, "elsewhere", "c2")
	putImage(t, s, "elsewhere", "idx", func(img *metadata.Image) { img.Children = []string{c2.Digest} })
	tag(t, s, "app", "idx", idx.Digest)
	tag(t, s, "app", "c2", c2.Digest)

	got, err := s.GetImage(ctx, reg, "app", idx.Digest)
	must(t, err)
	if !reflect.DeepEqual(got.Children, []string{c1.Digest, c2.Digest, c1.Digest}) {
		t.Fatalf("Children = %v", got.Children)
	}
	refs, err := s.ImagesReferencing(ctx, reg, "app", c1.Digest)
	must(t, err)
	if want := sorted([]string{idx.Digest, idx2.Digest}); !reflect.DeepEqual(refs, want) {
		t.Fatalf("ImagesReferencing = %v, want %v", refs, want)
	}

	err = s.DeleteImage(ctx, reg, "app", c1.Digest)
	wantKind(t, err, metadata.Referenced, "image")
	err = s.DeleteImage(ctx, reg, "app", c2.Digest)
	wantKind(t, err, metadata.Referenced, "image")

	must(t, s.DeleteImage(ctx, reg, "app", idx.Digest))
	if _, err := s.ResolveTag(ctx, reg, "app", "idx"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("deleted image's tag survived: %v", err)
	}
	refs, err = s.ImagesReferencing(ctx, reg, "app", c1.Digest)
	must(t, err)
	if !reflect.DeepEqual(refs, []string{idx2.Digest}) {
		t.Fatalf("ImagesReferencing = %v", refs)
	}
	must(t, s.DeleteImage(ctx, reg, "app", c2.Digest)) // only elsewhere's index lists it
	if _, err := s.ResolveTag(ctx, reg, "app", "c2"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("tag survived: %v", err)
	}
	wantKind(t, s.DeleteImage(ctx, reg, "app", c1.Digest), metadata.Referenced, "image")
	must(t, s.DeleteImage(ctx, reg, "app", idx2.Digest))
	must(t, s.DeleteImage(ctx, reg, "app", c1.Digest))
	wantKind(t, s.DeleteImage(ctx, reg, "app", c1.Digest), metadata.NotFound, "image")
	if r, _ := s.GetRepository(ctx, reg, "app"); r.ImageCount != 0 {
		t.Fatalf("ImageCount = %d, want 0", r.ImageCount)
	}
	if r, _ := s.GetRepository(ctx, reg, "elsewhere"); r.ImageCount != 2 {
		t.Fatalf("elsewhere ImageCount = %d, want 2", r.ImageCount)
	}
}

func testRecordPulls(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	img := putImage(t, s, "app", "a")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	pull := func(at time.Time, digests ...string) {
		t.Helper()
		var ps []metadata.Pull
		for _, d := range digests {
			ps = append(ps, metadata.Pull{RegistryID: reg, Repository: "app", Digest: d, At: at})
		}
		must(t, s.RecordPulls(ctx, ps))
	}
	last := func() time.Time {
		t.Helper()
		got, err := s.GetImage(ctx, reg, "app", img.Digest)
		must(t, err)
		return got.LastPull
	}
	if !last().IsZero() {
		t.Fatal("LastPull set before any pull")
	}
	must(t, s.RecordPulls(ctx, nil))
	pull(t0.Add(time.Hour), img.Digest, digest("unknown")) // unknown images are skipped
	if got := last(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("LastPull = %v", got)
	}
	pull(t0, img.Digest) // earlier: kept
	if got := last(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("earlier pull replaced LastPull: %v", got)
	}
	pull(t0.Add(2*time.Hour), img.Digest)
	if got := last(); !got.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("LastPull = %v", got)
	}
}
