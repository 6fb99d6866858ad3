package lifecycle

import (
	"sort"
	"time"
)

// Image is what the evaluator knows of a repository's image.
type Image struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
	LastPull time.Time // zero: never pulled
	Size     int64
	// ArtifactType and MediaType are carried for callers; rules do not
	// select on them (ECR's do not either).
	ArtifactType, MediaType string
	// Subject is the digest this image refers to (OCI referrers:
	// signatures, SBOMs, attestations), "" when none.
	Subject string
	// Children are the manifests an index (manifest list) lists.
	Children []string
}

// Result actions, as the API spells them.
const (
	Expire     = "EXPIRE"
	Transition = "TRANSITION"
)

// Result is one image a policy acts on.
type Result struct {
	Digest   string
	Tags     []string
	PushedAt time.Time
	// RulePriority is the rule that selected the image (for a referrer,
	// the rule that selected its subject).
	RulePriority int
	// Action is Expire or Transition; TargetStorageClass is "ARCHIVE"
	// for transitions.
	Action             string
	TargetStorageClass string
	// Subject is set when the image is acted on only because it refers to
	// an image the policy acts on: ECR expires reference artifacts after
	// their subject goes, so they do not appear in previews.
	Subject string
}

// Evaluate applies p to images at time now, as ECR's evaluator does:
//
//   - Every rule, in priority order, identifies the images its tag
//     requirements select, among all images (including those earlier
//     rules identified), and marks those its count criterion selects.
//   - A rule cannot act on an image an earlier (higher-priority) rule
//     identified, whether or not that rule acted on it: so an image is
//     acted on by at most one rule, and a later rule still counts it.
//   - imageCountMoreThan keeps the countNumber most recently pushed
//     images and marks the rest; equal push times are ordered by digest,
//     the greater digest counting as newer, so results are deterministic.
//   - sinceImagePushed marks images pushed more than countNumber days
//     before now; sinceImagePulled does the same from the last recorded
//     pull (the push when never pulled).
//   - An image an index (manifest list) in images references is not
//     acted on unless the index is acted on too ("cannot be expired or
//     archived without the manifest list being deleted or archived
//     first").
//   - Referrers of an image the policy acts on follow their subject
//     (Result.Subject set).
//
// berth has no archive storage class: every image is standard, so rules
// selecting storageClass=archive select nothing. Results are ordered so
// that an index always precedes the manifests it lists, and otherwise by
// rule priority, push time and digest.
func Evaluate(p *Policy, images []Image, now time.Time) []Result {
	imgs := append([]Image(nil), images...)
	sort.Slice(imgs, func(i, j int) bool { return older(imgs[i], imgs[j]) })

	marks := map[string]mark{}
	identified := map[string]bool{}
	for _, r := range p.Rules {
		if r.StorageClass == Archive {
			continue
		}
		var sel []Image
		for _, img := range imgs {
			if r.selects(img.Tags) {
				sel = append(sel, img)
			}
		}
		for _, img := range r.marks(sel, now) {
			if !identified[img.Digest] {
				marks[img.Digest] = mark{rule: r}
			}
		}
		for _, img := range sel {
			identified[img.Digest] = true
		}
	}

	g := newGraph(imgs)
	g.protectChildren(marks)
	g.followSubjects(marks)
	return g.results(marks)
}

// older orders images oldest first: push time, then digest.
func older(a, b Image) bool {
	if !a.PushedAt.Equal(b.PushedAt) {
		return a.PushedAt.Before(b.PushedAt)
	}
	return a.Digest < b.Digest
}

// marks returns the images of sel (oldest first) that r's count criterion
// selects.
func (r Rule) marks(sel []Image, now time.Time) []Image {
	age := time.Duration(r.CountNumber) * 24 * time.Hour
	switch r.CountType {
	case ImageCountMoreThan:
		if len(sel) <= r.CountNumber {
			return nil
		}
		return sel[:len(sel)-r.CountNumber]
	case SinceImagePushed, SinceImagePulled:
		var out []Image
		for _, img := range sel {
			t := img.PushedAt
			if r.CountType == SinceImagePulled && !img.LastPull.IsZero() {
				t = img.LastPull
			}
			if now.Sub(t) > age {
				out = append(out, img)
			}
		}
		return out
	}
	// sinceImageTransitioned selects archived images only.
	return nil
}

// mark is a decision about one image: the rule acting on it, and the
// subject it follows for a referrer.
type mark struct {
	rule    Rule
	subject string
}

// rank orders actions by how much of the image they remove: an image
// may not be treated more harshly than an index listing it.
func (m mark) rank() int {
	if m.rule.Action == ActionExpire {
		return 2
	}
	return 1
}

func rankOf(marks map[string]mark, digest string) int {
	m, ok := marks[digest]
	if !ok {
		return 0
	}
	return m.rank()
}
