package lifecycle

import (
	"sort"
	"strings"
)

// graph is the references between a repository's images: indexes to the
// manifests they list, referrers to their subjects.
type graph struct {
	byDigest  map[string]Image
	parents   map[string][]string // manifest → indexes listing it
	referrers map[string][]string // subject → images referring to it
}

func newGraph(imgs []Image) *graph {
	g := &graph{byDigest: map[string]Image{}, parents: map[string][]string{}, referrers: map[string][]string{}}
	for _, img := range imgs {
		g.byDigest[img.Digest] = img
	}
	for _, img := range imgs {
		for _, c := range img.Children {
			if _, ok := g.byDigest[c]; ok && c != img.Digest {
				g.parents[c] = append(g.parents[c], img.Digest)
			}
		}
		if _, ok := g.byDigest[img.Subject]; ok && img.Subject != img.Digest {
			g.referrers[img.Subject] = append(g.referrers[img.Subject], img.Digest)
		}
	}
	return g
}

// protected reports whether an index listing digest is treated more
// leniently than rank, which then may not apply to digest.
func (g *graph) protected(marks map[string]mark, digest string, rank int) bool {
	for _, p := range g.parents[digest] {
		if rankOf(marks, p) < rank {
			return true
		}
	}
	return false
}

// protectChildren drops marks on manifests that a kept (or merely
// archived) index still lists, down through nested indexes.
func (g *graph) protectChildren(marks map[string]mark) {
	for changed := true; changed; {
		changed = false
		for d, m := range marks {
			if g.protected(marks, d, m.rank()) {
				delete(marks, d)
				changed = true
			}
		}
	}
}

// followSubjects marks the referrers of marked images (transitively: a
// signature of an SBOM of an image) with their subject's action.
func (g *graph) followSubjects(marks map[string]mark) {
	var work []string
	for d := range marks {
		work = append(work, d)
	}
	sort.Strings(work)
	for len(work) > 0 {
		s := work[0]
		work = work[1:]
		m := marks[s]
		for _, r := range g.referrers[s] {
			if rankOf(marks, r) >= m.rank() || g.protected(marks, r, m.rank()) {
				continue
			}
			marks[r] = mark{rule: m.rule, subject: s}
			work = append(work, r)
		}
	}
}

// results turns marks into Results, each index before what it lists.
func (g *graph) results(marks map[string]mark) []Result {
	depth := map[string]int{}
	var level func(d string, seen map[string]bool) int
	level = func(d string, seen map[string]bool) int {
		if v, ok := depth[d]; ok {
			return v
		}
		seen[d] = true
		n := 0
		for _, p := range g.parents[d] {
			if _, marked := marks[p]; marked && !seen[p] {
				n = max(n, 1+level(p, seen))
			}
		}
		depth[d] = n
		return n
	}
	out := make([]Result, 0, len(marks))
	for d, m := range marks {
		img := g.byDigest[d]
		r := Result{
			Digest:       d,
			Tags:         img.Tags,
			PushedAt:     img.PushedAt,
			RulePriority: m.rule.Priority,
			Action:       Expire,
			Subject:      m.subject,
		}
		if m.rule.Action == ActionTransition {
			r.Action = Transition
			r.TargetStorageClass = strings.ToUpper(m.rule.TargetStorageClass)
		}
		level(d, map[string]bool{})
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case depth[a.Digest] != depth[b.Digest]:
			return depth[a.Digest] < depth[b.Digest]
		case a.RulePriority != b.RulePriority:
			return a.RulePriority < b.RulePriority
		}
		return older(g.byDigest[a.Digest], g.byDigest[b.Digest])
	})
	return out
}
