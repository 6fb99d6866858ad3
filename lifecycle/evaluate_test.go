package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// img is image "sha256:<name>" pushed days ago with tags.
func img(name string, days float64, tags ...string) Image {
	return Image{
		Digest:   "sha256:" + name,
		Tags:     tags,
		PushedAt: now.Add(-time.Duration(days * float64(24*time.Hour))),
	}
}

func pulled(i Image, days float64) Image {
	i.LastPull = now.Add(-time.Duration(days * float64(24*time.Hour)))
	return i
}

func index(i Image, children ...string) Image {
	for _, c := range children {
		i.Children = append(i.Children, "sha256:"+c)
	}
	return i
}

func referrer(i Image, subject string) Image {
	i.Subject = "sha256:" + subject
	return i
}

// sel is a selection with countType imageCountMoreThan or, with days,
// sinceImagePushed.
func countSel(status, lists string, n int) string {
	return fmt.Sprintf(`{"tagStatus":%q%s,"countType":"imageCountMoreThan","countNumber":%d}`, status, lists, n)
}

func ageSel(status, lists string, days int) string {
	return fmt.Sprintf(`{"tagStatus":%q%s,"countType":"sinceImagePushed","countUnit":"days","countNumber":%d}`, status, lists, days)
}

const toArchive = `{"type":"transition","targetStorageClass":"archive"}`

// TestEvaluate: each case lists the images the policy acts on as
// "name@priority" (plus "~" for transitions, "<subject" for referrers),
// in result order.
func TestLifecycleEvaluate(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		images []Image
		want   string
	}{
		// Examples of lifecycle policies: filtering on image age.
		{"age: untagged older than 14 days", policy(rule("1", ageSel("untagged", "", 14), expire)),
			[]Image{img("a", 15), img("b", 13), img("c", 30, "v1"), img("d", 100)},
			"d@1 a@1"},
		{"age: prod* older than 14 days", policy(rule("1", ageSel("tagged", `,"tagPatternList":["prod*"]`, 14), expire)),
			[]Image{img("a", 20, "prod-1"), img("b", 10, "prod-2"), img("c", 30, "dev"), img("d", 30), img("e", 15, "production")},
			"a@1 e@1"},
		{"age: exactly the limit is kept", policy(rule("1", ageSel("any", "", 14), expire)),
			[]Image{img("a", 14), img("b", 14.001)},
			"b@1"},
		// Filtering on image count.
		{"count: keep one untagged image", policy(rule("1", countSel("untagged", "", 1), expire)),
			[]Image{img("a", 3), img("b", 2), img("c", 1), img("d", 10, "latest")},
			"a@1 b@1"},
		{"count: fewer images than the count", policy(rule("1", countSel("any", "", 5), expire)),
			[]Image{img("a", 3), img("b", 2, "x")},
			""},
		{"count: equal push times order by digest", policy(rule("1", countSel("any", "", 1), expire)),
			[]Image{img("b", 1), img("c", 1), img("a", 1)},
			"a@1 b@1"},
		// Filtering on multiple rules, example A (prefix and pattern forms).
		{"multiple rules A (prefix)", policy(
			rule("1", countSel("tagged", `,"tagPrefixList":["prod"]`, 1), expire),
			rule("2", countSel("tagged", `,"tagPrefixList":["beta"]`, 1), expire)),
			[]Image{img("a", 10, "beta-1", "prod-1"), img("b", 9, "beta-2", "prod-2"), img("c", 8, "beta-3")},
			"a@1"},
		{"multiple rules A (pattern)", policy(
			rule("1", countSel("tagged", `,"tagPatternList":["prod*"]`, 1), expire),
			rule("2", countSel("tagged", `,"tagPatternList":["beta*"]`, 1), expire)),
			[]Image{img("a", 10, "beta-1", "prod-1"), img("b", 9, "beta-2", "prod-2"), img("c", 8, "beta-3")},
			"a@1"},
		// Example B: the same repository with the priorities swapped.
		{"multiple rules B (prefix)", policy(
			rule("1", countSel("tagged", `,"tagPrefixList":["beta"]`, 1), expire),
			rule("2", countSel("tagged", `,"tagPrefixList":["prod"]`, 1), expire)),
			[]Image{img("a", 10, "beta-1", "prod-1"), img("b", 9, "beta-2", "prod-2"), img("c", 8, "beta-3")},
			"a@1 b@1"},
		{"multiple rules B (pattern)", policy(
			rule("1", countSel("tagged", `,"tagPatternList":["beta*"]`, 1), expire),
			rule("2", countSel("tagged", `,"tagPatternList":["prod*"]`, 1), expire)),
			[]Image{img("a", 10, "beta-1", "prod-1"), img("b", 9, "beta-2", "prod-2"), img("c", 8, "beta-3")},
			"a@1 b@1"},
		{"rules listed out of order", policy(
			rule("2", countSel("tagged", `,"tagPatternList":["prod*"]`, 1), expire),
			rule("1", countSel("tagged", `,"tagPatternList":["beta*"]`, 1), expire)),
			[]Image{img("a", 10, "beta-1", "prod-1"), img("b", 9, "beta-2", "prod-2"), img("c", 8, "beta-3")},
			"a@1 b@1"},
		// Filtering on multiple tags in a single rule, example A.
		{"multiple tags A (pattern)", policy(rule("1", ageSel("tagged", `,"tagPatternList":["alpha*","beta*"]`, 5), expire)),
			[]Image{img("a", 12, "alpha-1"), img("b", 11, "beta-1"), img("c", 10, "alpha-2", "beta-2"),
				img("d", 4, "alpha-3"), img("e", 3, "beta-3"), img("f", 2, "alpha-4", "beta-4")},
			"c@1"},
		{"multiple tags A (prefix)", policy(rule("1", ageSel("tagged", `,"tagPrefixList":["alpha","beta"]`, 5), expire)),
			[]Image{img("a", 12, "alpha-1"), img("b", 11, "beta-1"), img("c", 10, "alpha-2", "beta-2"),
				img("d", 4, "alpha-3"), img("e", 3, "beta-3"), img("f", 2, "alpha-4", "beta-4")},
			"c@1"},
		// Example B: tags are not exclusive.
		{"multiple tags B (pattern)", policy(rule("1", countSel("tagged", `,"tagPatternList":["alpha*","beta*"]`, 1), expire)),
			[]Image{img("a", 10, "alpha-1", "beta-1", "gamma-1"), img("b", 9, "alpha-2", "beta-2"), img("c", 8, "alpha-3", "beta-3", "gamma-2")},
			"a@1 b@1"},
		{"multiple tags B (prefix)", policy(rule("1", countSel("tagged", `,"tagPrefixList":["alpha","beta"]`, 1), expire)),
			[]Image{img("a", 10, "alpha-1", "beta-1", "gamma-1"), img("b", 9, "alpha-2", "beta-2"), img("c", 8, "alpha-3", "beta-3", "gamma-2")},
			"a@1 b@1"},
		// Filtering on all images, example A.
		{"all images A", policy(rule("1", countSel("any", "", 1), expire)),
			[]Image{img("a", 4, "alpha-1"), img("b", 3, "beta-1"), img("c", 2), img("d", 1, "alpha-2")},
			"a@1 b@1 c@1"},
		// Example B: every rule type in one policy. D and E are both "1 day
		// ago"; E is the newer (by digest), as the documented result needs.
		{"all images B", policy(
			rule("1", countSel("tagged", `,"tagPatternList":["alpha*"]`, 1), expire),
			rule("2", ageSel("untagged", "", 1), expire),
			rule("3", countSel("any", "", 1), expire)),
			[]Image{img("a", 4, "alpha-1", "beta-1"), img("b", 3), img("c", 2, "alpha-2"), img("d", 1, "git hash"), img("e", 1)},
			"a@1 b@2 d@3"},
		{"all images B (prefix)", policy(
			rule("1", countSel("tagged", `,"tagPrefixList":["alpha"]`, 1), expire),
			rule("2", ageSel("untagged", "", 1), expire),
			rule("3", countSel("any", "", 1), expire)),
			[]Image{img("a", 4, "alpha-1", "beta-1"), img("b", 3), img("c", 2, "alpha-2"), img("d", 1, "git hash"), img("e", 1)},
			"a@1 b@2 d@3"},
		{"all images A, newest untagged", policy(rule("1", countSel("any", "", 1), expire)),
			[]Image{img("a", 4, "alpha-1"), img("b", 3, "beta-1"), img("c", 2, "alpha-2"), img("d", 1)},
			"a@1 b@1 c@1"},
		{"count: a single untagged image stays", policy(rule("1", countSel("untagged", "", 1), expire)),
			[]Image{img("a", 300), img("b", 200, "v1"), img("c", 100, "v2")},
			""},
		// Filtering on last pulled time (transition to archive).
		{"not pulled in 90 days", policy(rule("1", `{"tagStatus":"any","countType":"sinceImagePulled","countUnit":"days","countNumber":90}`, toArchive)),
			[]Image{pulled(img("a", 200), 100), pulled(img("b", 200), 10), img("c", 100), img("d", 30)},
			"a@1~ c@1~"},
		// Filtering on archive transition time: berth archives nothing.
		{"archived for 365 days", policy(rule("1", `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365}`, expire)),
			[]Image{img("a", 1000), img("b", 400, "x")},
			""},
		{"archive then expire", policy(
			rule("1", ageSel("any", "", 30), toArchive),
			rule("2", `{"tagStatus":"any","storageClass":"archive","countType":"sinceImageTransitioned","countUnit":"days","countNumber":365}`, expire)),
			[]Image{img("a", 400), img("b", 10)},
			"a@1~"},
		{"archive prod older than 30 days", policy(rule("1", ageSel("tagged", `,"tagPatternList":["prod*"]`, 30), toArchive)),
			[]Image{img("a", 31, "prod-1"), img("b", 31, "dev-1"), img("c", 29, "prod-2")},
			"a@1~"},

		// Evaluation rules.
		{"later rules count earlier rules' images", policy(
			rule("1", ageSel("tagged", `,"tagPatternList":["release*"]`, 365), expire),
			rule("2", countSel("any", "", 2), expire)),
			[]Image{img("a", 4, "release-1"), img("b", 3, "x"), img("c", 2, "release-2"), img("d", 1, "y")},
			"b@2"},
		{"identified but kept images are protected", policy(
			rule("1", countSel("tagged", `,"tagPrefixList":["prod"]`, 5), expire),
			rule("2", ageSel("any", "", 1), expire)),
			[]Image{img("a", 30, "prod-1"), img("b", 30, "dev-1"), img("c", 30)},
			"b@2 c@2"},
		{"prefix list needs every prefix", policy(rule("1", ageSel("tagged", `,"tagPrefixList":["prod","v"]`, 1), expire)),
			[]Image{img("a", 9, "prod-1", "v1"), img("b", 9, "prod-2"), img("c", 9, "v2"), img("d", 9, "prodv")},
			"a@1"},
		{"prefix matches any tag", policy(rule("1", ageSel("tagged", `,"tagPrefixList":["prod"]`, 1), expire)),
			[]Image{img("a", 9, "dev-1", "prod-1"), img("b", 9, "dev-2")},
			"a@1"},
		{"exact pattern", policy(rule("1", countSel("tagged", `,"tagPatternList":["latest"]`, 1), expire)),
			[]Image{img("a", 9, "latest-1"), img("b", 8, "latest-2")},
			""},
		{"star pattern selects every tagged image", policy(rule("1", ageSel("tagged", `,"tagPatternList":["*"]`, 1), expire)),
			[]Image{img("a", 9, "x"), img("b", 9)},
			"a@1"},
		{"untagged rule ignores tagged images", policy(rule("1", ageSel("untagged", "", 1), expire)),
			[]Image{img("a", 9, "x"), img("b", 9)},
			"b@1"},
		{"pull time falls back to push time", policy(rule("1", `{"tagStatus":"untagged","countType":"sinceImagePulled","countUnit":"days","countNumber":7}`, toArchive)),
			[]Image{img("a", 8), pulled(img("b", 8), 1), img("c", 6)},
			"a@1~"},
		{"empty repository", policy(rule("1", countSel("any", "", 1), expire)), nil, ""},

		// Manifest lists: a kept index protects what it lists.
		{"kept index protects children", policy(rule("1", ageSel("untagged", "", 1), expire)),
			[]Image{index(img("i", 5, "v1"), "m1", "m2"), img("m1", 5), img("m2", 5), img("o", 5)},
			"o@1"},
		{"expired index goes before its children", policy(rule("1", ageSel("any", "", 1), expire)),
			[]Image{img("m1", 5), img("m2", 5), index(img("i", 5, "v1"), "m1", "m2")},
			"i@1 m1@1 m2@1"},
		{"expired index leaves unselected children", policy(
			rule("1", ageSel("tagged", `,"tagPrefixList":["v"]`, 1), expire),
			rule("2", countSel("untagged", "", 10), expire)),
			[]Image{index(img("i", 5, "v1"), "m1", "m2"), img("m1", 5), img("m2", 5)},
			"i@1"},
		{"child of two indexes, one kept", policy(rule("1", ageSel("tagged", `,"tagPrefixList":["old"]`, 1), expire),
			rule("2", ageSel("untagged", "", 1), expire)),
			[]Image{index(img("i", 5, "old"), "m"), index(img("j", 5, "new"), "m"), img("m", 5)},
			"i@1"},
		{"nested indexes", policy(rule("1", ageSel("untagged", "", 1), expire)),
			[]Image{index(img("top", 5, "v1"), "mid"), index(img("mid", 5), "leaf"), img("leaf", 5), index(img("loose", 5), "leaf2"), img("leaf2", 5)},
			"loose@1 leaf2@1"},
		{"archived index protects expiring child", policy(
			rule("1", ageSel("tagged", `,"tagPrefixList":["v"]`, 1), toArchive),
			rule("2", ageSel("untagged", "", 1), expire)),
			[]Image{index(img("i", 5, "v1"), "m"), img("m", 5)},
			"i@1~"},

		// Referrers follow their subject.
		{"referrers follow an expired subject", policy(rule("1", ageSel("tagged", `,"tagPrefixList":["v"]`, 3), expire)),
			[]Image{img("s", 5, "v1"), referrer(img("sig", 1), "s"), referrer(img("sbom", 1), "s"), referrer(img("sbomsig", 1), "sbom"), referrer(img("other", 1), "t"), img("t", 1, "v2")},
			"s@1 sbom@1<s sbomsig@1<sbom sig@1<s"},
		{"referrers of a kept subject stay", policy(rule("1", ageSel("untagged", "", 30), expire)),
			[]Image{img("s", 5, "v1"), referrer(img("sig", 1), "s")},
			""},
		{"a referrer kept by its own rule still follows", policy(
			rule("1", countSel("untagged", "", 5), expire),
			rule("2", ageSel("tagged", `,"tagPrefixList":["v"]`, 3), expire)),
			[]Image{img("s", 5, "v1"), referrer(img("sig", 1), "s")},
			"s@2 sig@2<s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.policy)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range Evaluate(p, c.images, now) {
				s := strings.TrimPrefix(r.Digest, "sha256:") + "@" + fmt.Sprint(r.RulePriority)
				if r.Action == Transition {
					if r.TargetStorageClass != "ARCHIVE" {
						t.Errorf("transition target %q", r.TargetStorageClass)
					}
					s += "~"
				} else if r.Action != Expire {
					t.Errorf("action %q", r.Action)
				}
				if r.Subject != "" {
					s += "<" + strings.TrimPrefix(r.Subject, "sha256:")
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Fatalf("got %q, want %q", g, c.want)
			}
		})
	}
}

func TestLifecycleEvaluateResultFields(t *testing.T) {
	p, err := Parse(policy(rule("7", countSel("any", "", 1), expire)))
	if err != nil {
		t.Fatal(err)
	}
	images := []Image{img("b", 1, "new"), img("a", 2, "x", "y")}
	res := Evaluate(p, images, now)
	if len(res) != 1 {
		t.Fatalf("results %+v", res)
	}
	r := res[0]
	if r.Digest != "sha256:a" || !slices.Equal(r.Tags, []string{"x", "y"}) || !r.PushedAt.Equal(images[1].PushedAt) ||
		r.RulePriority != 7 || r.Action != Expire || r.Subject != "" {
		t.Fatalf("result %+v", r)
	}
	if images[0].Digest != "sha256:b" {
		t.Fatal("Evaluate reordered the caller's slice")
	}
}
