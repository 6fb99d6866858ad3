package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

func testRepositories(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	in := metadata.Repository{
		RegistryID:           reg,
		Name:                 "team/app",
		TagMutability:        metadata.ImmutableWithExclusion,
		MutabilityExclusions: []string{"latest", "dev-*"},
		ScanOnPush:           true,
		EncryptionType:       "KMS",
		KMSKey:               "arn:aws:kms:us-east-1:123456789012:key/k",
		Tags:                 []metadata.ResourceTag{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}},
	}
	r, err := s.CreateRepository(ctx, in)
	must(t, err)
	if r.CreatedAt.IsZero() || time.Since(r.CreatedAt) > time.Minute {
		t.Fatalf("CreatedAt = %v, want now", r.CreatedAt)
	}
	_, err = s.CreateRepository(ctx, in)
	wantKind(t, err, metadata.AlreadyExists, "repository")

	got, err := s.GetRepository(ctx, reg, "team/app")
	must(t, err)
	if !sameTime(got.CreatedAt, r.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, r.CreatedAt)
	}
	got.CreatedAt = r.CreatedAt
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("GetRepository =\n%+v\nwant\n%+v", got, r)
	}

	// Explicit creation times are kept; the same name in another registry
	// is another repository.
	at := time.Date(2023, 5, 6, 7, 8, 9, 123456000, time.UTC)
	r2, err := s.CreateRepository(ctx, metadata.Repository{RegistryID: other, Name: "team/app", CreatedAt: at})
	must(t, err)
	got2, err := s.GetRepository(ctx, other, "team/app")
	must(t, err)
	if !sameTime(r2.CreatedAt, at) || !sameTime(got2.CreatedAt, at) || got2.TagMutability != "" || got2.Tags != nil {
		t.Fatalf("other registry's repository = %+v", got2)
	}

	for _, c := range []struct{ registry, name string }{{reg, "missing"}, {"000000000000", "team/app"}} {
		_, err = s.GetRepository(ctx, c.registry, c.name)
		wantKind(t, err, metadata.NotFound, "repository")
	}
	_, err = s.CreateRepository(ctx, metadata.Repository{RegistryID: reg})
	wantKind(t, err, metadata.Invalid, "")
	_, err = s.CreateRepository(ctx, metadata.Repository{RegistryID: reg, Name: "x", TagMutability: "SOMETIMES"})
	wantKind(t, err, metadata.Invalid, "")

	// ImageCount follows the images.
	putImage(t, s, "team/app", "a")
	putImage(t, s, "team/app", "b")
	putImage(t, s, "team/app", "a") // update, not a new image
	got, err = s.GetRepository(ctx, reg, "team/app")
	must(t, err)
	if got.ImageCount != 2 {
		t.Fatalf("ImageCount = %d, want 2", got.ImageCount)
	}
	must(t, s.DeleteImage(ctx, reg, "team/app", digest("a")))
	list, _, err := s.ListRepositories(ctx, reg, metadata.Page{})
	must(t, err)
	if len(list) != 1 || list[0].ImageCount != 1 {
		t.Fatalf("ListRepositories = %+v, want team/app with 1 image", list)
	}
}

func testRepositoryPagination(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	const n = 250
	var want []string
	for i := range n {
		name := fmt.Sprintf("repo-%03d", i)
		mustRepo(t, s, reg, name)
		want = append(want, name)
	}
	mustRepo(t, s, other, "repo-000") // another registry's, never listed

	for _, limit := range []int{0, 7, 100, 250, 1000} {
		var got []string
		pages := 0
		p := metadata.Page{Limit: limit}
		for {
			list, next, err := s.ListRepositories(ctx, reg, p)
			must(t, err)
			pages++
			per := limit
			if per <= 0 {
				per = 100
			}
			if len(list) > per {
				t.Fatalf("limit %d: page of %d", limit, len(list))
			}
			for _, r := range list {
				if r.RegistryID != reg {
					t.Fatalf("listed %+v", r)
				}
				got = append(got, r.Name)
			}
			if next == "" {
				break
			}
			if next != list[len(list)-1].Name {
				t.Fatalf("next = %q, want the last name %q", next, list[len(list)-1].Name)
			}
			p.After = next
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("limit %d: listed %d names, want %d in order", limit, len(got), len(want))
		}
		per := limit
		if per <= 0 {
			per = 100
		}
		if wantPages := (n + per - 1) / per; pages != wantPages {
			t.Fatalf("limit %d: %d pages, want %d (no empty last page)", limit, pages, wantPages)
		}
	}
	list, next, err := s.ListRepositories(ctx, "000000000000", metadata.Page{})
	must(t, err)
	if len(list) != 0 || next != "" {
		t.Fatalf("unknown registry lists %d", len(list))
	}
}

func testUpdateRepository(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	r := mustRepo(t, s, reg, "app")
	up, err := s.UpdateRepository(ctx, reg, "app", func(r *metadata.Repository) error {
		r.Name, r.RegistryID, r.CreatedAt, r.ImageCount = "renamed", other, time.Unix(1, 0), 99
		r.TagMutability = metadata.MutableWithExclusion
		r.MutabilityExclusions = []string{"release-*"}
		r.ScanOnPush = true
		r.Tags = []metadata.ResourceTag{{Key: "k", Value: "v"}}
		return nil
	})
	must(t, err)
	got, err := s.GetRepository(ctx, reg, "app")
	must(t, err)
	if got.Name != "app" || got.RegistryID != reg || !sameTime(got.CreatedAt, r.CreatedAt) || got.ImageCount != 0 {
		t.Fatalf("identity changed: %+v", got)
	}
	if got.TagMutability != metadata.MutableWithExclusion || !reflect.DeepEqual(got.MutabilityExclusions, []string{"release-*"}) ||
		!got.ScanOnPush || !reflect.DeepEqual(got.Tags, []metadata.ResourceTag{{Key: "k", Value: "v"}}) {
		t.Fatalf("update not stored: %+v", got)
	}
	if up.Name != "app" || up.TagMutability != metadata.MutableWithExclusion {
		t.Fatalf("UpdateRepository returned %+v", up)
	}
	if _, err := s.GetRepository(ctx, reg, "renamed"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("renamed repository exists: %v", err)
	}

	// The callback's error comes back as is and nothing changes.
	sentinel := errors.New("no thanks")
	_, err = s.UpdateRepository(ctx, reg, "app", func(r *metadata.Repository) error {
		r.ScanOnPush = false
		return sentinel
	})
	if err != sentinel {
		t.Fatalf("err = %v, want the callback's error as is", err)
	}
	got, err = s.GetRepository(ctx, reg, "app")
	must(t, err)
	if !got.ScanOnPush {
		t.Fatal("aborted update was stored")
	}
	_, err = s.UpdateRepository(ctx, reg, "app", func(r *metadata.Repository) error {
		r.TagMutability = "SOMETIMES"
		return nil
	})
	wantKind(t, err, metadata.Invalid, "")
	_, err = s.UpdateRepository(ctx, reg, "missing", func(*metadata.Repository) error { return nil })
	wantKind(t, err, metadata.NotFound, "repository")
}

func testDeleteRepository(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	mustRepo(t, s, reg, "keep")
	a := putImage(t, s, "app", "a")
	b := putImage(t, s, "app", "b")
	idx := putImage(t, s, "app", "index", func(img *metadata.Image) {
		img.MediaType = "application/vnd.oci.image.index.v1+json"
		img.Children = []string{a.Digest, b.Digest}
	})
	tag(t, s, "app", "latest", idx.Digest)
	tag(t, s, "app", "a", a.Digest)
	k := putImage(t, s, "keep", "a")
	tag(t, s, "keep", "latest", k.Digest)
	for _, kind := range []metadata.PolicyKind{metadata.PolicyRepository, metadata.PolicyLifecycle} {
		_, err := s.PutPolicy(ctx, kind, reg, "app", `{"k":"`+string(kind)+`"}`)
		must(t, err)
		_, err = s.PutPolicy(ctx, kind, reg, "keep", `{}`)
		must(t, err)
	}
	_, err := s.PutPolicy(ctx, metadata.PolicyRegistry, reg, "", `{"registry":true}`)
	must(t, err)
	must(t, s.PutLifecyclePreview(ctx, metadata.LifecyclePreview{RegistryID: reg, Repository: "app", Status: "COMPLETE", Results: "[]"}))

	_, _, err = s.DeleteRepository(ctx, reg, "app", false)
	wantKind(t, err, metadata.NotEmpty, "repository")
	if _, err := s.GetImage(ctx, reg, "app", a.Digest); err != nil {
		t.Fatalf("refused delete removed an image: %v", err)
	}

	r, digests, err := s.DeleteRepository(ctx, reg, "app", true)
	must(t, err)
	if r.Name != "app" || r.ImageCount != 3 {
		t.Fatalf("deleted repository = %+v", r)
	}
	if want := sorted([]string{a.Digest, b.Digest, idx.Digest}); !reflect.DeepEqual(sorted(digests), want) {
		t.Fatalf("digests = %v, want %v", digests, want)
	}
	_, err = s.GetRepository(ctx, reg, "app")
	wantKind(t, err, metadata.NotFound, "repository")
	_, _, err = s.DeleteRepository(ctx, reg, "app", true)
	wantKind(t, err, metadata.NotFound, "repository")

	// A new repository of the same name starts empty.
	mustRepo(t, s, reg, "app")
	if _, err := s.GetImage(ctx, reg, "app", a.Digest); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("image survived: %v", err)
	}
	if _, err := s.ResolveTag(ctx, reg, "app", "latest"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("tag survived: %v", err)
	}
	if refs, err := s.ImagesReferencing(ctx, reg, "app", a.Digest); err != nil || len(refs) != 0 {
		t.Fatalf("ImagesReferencing = %v, %v", refs, err)
	}
	for _, kind := range []metadata.PolicyKind{metadata.PolicyRepository, metadata.PolicyLifecycle} {
		_, err = s.GetPolicy(ctx, kind, reg, "app")
		wantKind(t, err, metadata.NotFound, "policy")
	}
	_, err = s.GetLifecyclePreview(ctx, reg, "app")
	wantKind(t, err, metadata.NotFound, "")
	if got, err := s.GetRepository(ctx, reg, "app"); err != nil || got.ImageCount != 0 {
		t.Fatalf("recreated = %+v, %v", got, err)
	}
	if imgs, _, err := s.ListImages(ctx, reg, "app", metadata.TagAny, metadata.Page{}); err != nil || len(imgs) != 0 {
		t.Fatalf("ListImages = %d, %v", len(imgs), err)
	}

	// Other repositories and the registry policy are untouched.
	if d, err := s.ResolveTag(ctx, reg, "keep", "latest"); err != nil || d != k.Digest {
		t.Fatalf("keep:latest = %q, %v", d, err)
	}
	if _, err := s.GetPolicy(ctx, metadata.PolicyLifecycle, reg, "keep"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetPolicy(ctx, metadata.PolicyRegistry, reg, ""); err != nil {
		t.Fatal(err)
	}

	// An empty repository goes without force.
	r, digests, err = s.DeleteRepository(ctx, reg, "app", false)
	must(t, err)
	if r.Name != "app" || len(digests) != 0 {
		t.Fatalf("DeleteRepository = %+v, %v", r, digests)
	}
}
