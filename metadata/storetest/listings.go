package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/berth-registry/berth/metadata"
)

// testImageListings walks ListImages and ListImageIDs over 250 images —
// a third untagged, a third with one tag, a third with two — for every
// status and several page sizes.
func testImageListings(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	mustRepo(t, s, reg, "other")
	tags := map[string][]string{} // digest → sorted tags
	var digests []string
	for i := range 250 {
		img := putImage(t, s, "app", fmt.Sprintf("img-%d", i))
		digests = append(digests, img.Digest)
		switch i % 3 {
		case 1:
			tags[img.Digest] = []string{fmt.Sprintf("t%d", i)}
		case 2:
			// "a…" sorts before "t…": the tags of one image are ordered.
			tags[img.Digest] = []string{fmt.Sprintf("a%d", i), fmt.Sprintf("t%d", i)}
		}
		for _, tg := range tags[img.Digest] {
			tag(t, s, "app", tg, img.Digest)
		}
	}
	putImage(t, s, "other", "img-0") // same digest, another repository
	tag(t, s, "other", "zzz", digest("img-0"))
	slices.Sort(digests)

	wantImages := map[metadata.TagStatus][]string{}
	wantIDs := map[metadata.TagStatus][]metadata.ImageID{}
	for _, d := range digests {
		wantImages[metadata.TagAny] = append(wantImages[metadata.TagAny], d)
		if len(tags[d]) == 0 {
			wantImages[metadata.TagUntagged] = append(wantImages[metadata.TagUntagged], d)
			id := metadata.ImageID{Digest: d}
			wantIDs[metadata.TagAny] = append(wantIDs[metadata.TagAny], id)
			wantIDs[metadata.TagUntagged] = append(wantIDs[metadata.TagUntagged], id)
			continue
		}
		wantImages[metadata.TagTagged] = append(wantImages[metadata.TagTagged], d)
		for _, tg := range tags[d] {
			id := metadata.ImageID{Digest: d, Tag: tg}
			wantIDs[metadata.TagAny] = append(wantIDs[metadata.TagAny], id)
			wantIDs[metadata.TagTagged] = append(wantIDs[metadata.TagTagged], id)
		}
	}
	if n := len(wantIDs[metadata.TagAny]); n != 333 {
		t.Fatalf("fixture: %d ids", n)
	}

	for _, status := range []metadata.TagStatus{metadata.TagAny, metadata.TagTagged, metadata.TagUntagged} {
		for _, limit := range []int{0, 7, 1000} {
			name := fmt.Sprintf("%s/limit=%d", status, limit)
			var gotDigests []string
			walk(t, name+" images", limit, func(p metadata.Page) (int, string, string) {
				imgs, next, err := s.ListImages(ctx, reg, "app", status, p)
				must(t, err)
				for _, img := range imgs {
					if img.Repository != "app" || !reflect.DeepEqual(img.Tags, tags[img.Digest]) || len(img.Blobs) != 2 {
						t.Fatalf("%s: image %+v", name, img)
					}
					gotDigests = append(gotDigests, img.Digest)
				}
				last := ""
				if len(imgs) > 0 {
					last = imgs[len(imgs)-1].Digest
				}
				return len(imgs), next, last
			})
			if !reflect.DeepEqual(gotDigests, wantImages[status]) {
				t.Fatalf("%s: ListImages listed %d images, want %d in digest order", name, len(gotDigests), len(wantImages[status]))
			}

			var gotIDs []metadata.ImageID
			walk(t, name+" ids", limit, func(p metadata.Page) (int, string, string) {
				ids, next, err := s.ListImageIDs(ctx, reg, "app", status, p)
				must(t, err)
				gotIDs = append(gotIDs, ids...)
				return len(ids), next, ""
			})
			if !reflect.DeepEqual(gotIDs, wantIDs[status]) {
				t.Fatalf("%s: ListImageIDs listed %d ids, want %d in (digest, tag) order", name, len(gotIDs), len(wantIDs[status]))
			}
		}
	}

	_, _, err := s.ListImages(ctx, reg, "app", "SOMETIMES", metadata.Page{})
	wantKind(t, err, metadata.Invalid, "")
	_, _, err = s.ListImageIDs(ctx, reg, "app", "SOMETIMES", metadata.Page{})
	wantKind(t, err, metadata.Invalid, "")
	if imgs, next, err := s.ListImages(ctx, reg, "empty", metadata.TagAny, metadata.Page{}); err != nil || len(imgs) != 0 || next != "" {
		t.Fatalf("ListImages of a missing repository = %d, %q, %v", len(imgs), next, err)
	}
}

// walk pages through a listing with page size limit: list returns the
// page's length, the next cursor and (when the cursor is the last key)
// that key. It checks page sizes and that only the last page has no
// cursor and is not empty (unless the whole listing is).
func walk(t *testing.T, name string, limit int, list func(metadata.Page) (n int, next, last string)) {
	t.Helper()
	per := limit
	if per <= 0 {
		per = 100
	}
	p := metadata.Page{Limit: limit}
	for pages := 1; ; pages++ {
		n, next, last := list(p)
		if n > per {
			t.Fatalf("%s: page %d has %d entries", name, pages, n)
		}
		if next == "" {
			if n == 0 && pages > 1 {
				t.Fatalf("%s: empty last page", name)
			}
			return
		}
		if n != per {
			t.Fatalf("%s: page %d has %d entries and a cursor", name, pages, n)
		}
		if last != "" && next != last {
			t.Fatalf("%s: next = %q, want last key %q", name, next, last)
		}
		if pages > 1000 {
			t.Fatalf("%s: does not end", name)
		}
		p.After = next
	}
}

func testReferrers(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	mustRepo(t, s, reg, "app")
	mustRepo(t, s, reg, "other")
	subject := putImage(t, s, "app", "subject")
	const sbom, sig = "application/vnd.example.sbom", "application/vnd.example.signature"
	want := map[string][]string{} // artifact type ("" any) → digests
	for i := range 12 {
		at := sbom
		if i%3 == 0 {
			at = sig
		}
		img := putImage(t, s, "app", fmt.Sprintf("ref-%d", i), func(img *metadata.Image) {
			img.Subject, img.ArtifactType = subject.Digest, at
		})
		want[""] = append(want[""], img.Digest)
		want[at] = append(want[at], img.Digest)
	}
	tag(t, s, "app", "sbom-0", digest("ref-1"))
	putImage(t, s, "app", "unrelated", func(img *metadata.Image) { img.Subject = digest("else") })
	putImage(t, s, "other", "ref-x", func(img *metadata.Image) { img.Subject = subject.Digest })
	for k := range want {
		slices.Sort(want[k])
	}

	for _, at := range []string{"", sbom, sig} {
		for _, limit := range []int{0, 1, 5} {
			var got []string
			walk(t, fmt.Sprintf("%q/%d", at, limit), limit, func(p metadata.Page) (int, string, string) {
				imgs, next, err := s.Referrers(ctx, reg, "app", subject.Digest, at, p)
				must(t, err)
				for _, img := range imgs {
					if img.Subject != subject.Digest || (at != "" && img.ArtifactType != at) {
						t.Fatalf("referrer %+v", img)
					}
					if img.Digest == digest("ref-1") && !reflect.DeepEqual(img.Tags, []string{"sbom-0"}) {
						t.Fatalf("referrer tags = %v", img.Tags)
					}
					got = append(got, img.Digest)
				}
				last := ""
				if len(imgs) > 0 {
					last = imgs[len(imgs)-1].Digest
				}
				return len(imgs), next, last
			})
			if !reflect.DeepEqual(got, want[at]) {
				t.Fatalf("Referrers(%q, limit %d) = %s, want %s", at, limit, strings.Join(got, ","), strings.Join(want[at], ","))
			}
		}
	}
	for _, subj := range []string{digest("nothing"), ""} {
		imgs, next, err := s.Referrers(ctx, reg, "app", subj, "", metadata.Page{})
		if err != nil || len(imgs) != 0 || next != "" {
			t.Fatalf("Referrers(%q) = %d, %q, %v", subj, len(imgs), next, err)
		}
	}
}
