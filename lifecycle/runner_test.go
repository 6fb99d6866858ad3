package lifecycle

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

const registry = "123456789012"

func openStore(t *testing.T) metadata.Store {
	t.Helper()
	st, err := metadata.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// seed stores images (as Image values from img/index/referrer) with
// their tags in a new repository, and its policy when text is not "".
func seed(t *testing.T, st metadata.Store, repo, text string, images ...Image) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.CreateRepository(ctx, metadata.Repository{RegistryID: registry, Name: repo}); err != nil {
		t.Fatal(err)
	}
	for _, i := range images {
		m := metadata.Image{RegistryID: registry, Repository: repo, Digest: i.Digest, MediaType: "application/vnd.oci.image.manifest.v1+json",
			PushedAt: i.PushedAt, LastPull: i.LastPull, Subject: i.Subject, Children: i.Children}
		if _, err := st.PutImage(ctx, m); err != nil {
			t.Fatal(err)
		}
		for _, tag := range i.Tags {
			if _, err := st.TagImage(ctx, registry, repo, tag, i.Digest); err != nil {
				t.Fatal(err)
			}
		}
	}
	if text != "" {
		if _, err := st.PutPolicy(ctx, metadata.PolicyLifecycle, registry, repo, text); err != nil {
			t.Fatal(err)
		}
	}
}

// expirer deletes images from the store and records what it deleted.
type expirer struct {
	st      metadata.Store
	mu      sync.Mutex
	deleted []string
}

func (e *expirer) expire(ctx context.Context, registryID, repo, digest string, tags []string) error {
	if err := e.st.ExpireImage(ctx, registryID, repo, digest, tags); err != nil {
		return err
	}
	e.mu.Lock()
	e.deleted = append(e.deleted, repo+"@"+digest[len("sha256:"):])
	e.mu.Unlock()
	return nil
}

func TestLifecycleRunOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// Filtering on all images, example B (plus an untagged signature), and
	// a multi-arch image whose untagged children its kept index protects.
	seed(t, st, "app", policy(
		rule("1", countSel("tagged", `,"tagPatternList":["alpha*"]`, 1), expire),
		rule("2", ageSel("untagged", "", 1), expire),
		rule("3", countSel("any", "", 1), expire)),
		img("a", 4, "alpha-1", "beta-1"), img("b", 3), img("c", 2, "alpha-2"), img("d", 1, "git-hash"), img("e", 1),
		referrer(img("asig", 3), "a"))
	seed(t, st, "multi", policy(rule("1", ageSel("untagged", "", 1), expire)),
		img("m1", 5), img("m2", 5), index(img("idx", 5, "v1"), "m1", "m2"), img("loose", 5))
	seed(t, st, "nopolicy", "", img("x", 100))
	seed(t, st, "transition", policy(rule("1", ageSel("any", "", 1), toArchive)), img("y", 100))

	e := &expirer{st: st}
	r := &Runner{Store: st, Expire: e.expire, Now: func() time.Time { return now }}
	n, err := r.RunOnce(ctx, registry)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"app@a", "app@asig", "app@b", "app@d", "multi@loose"}
	slices.Sort(e.deleted)
	if n != len(want) || !slices.Equal(e.deleted, want) {
		t.Fatalf("expired %d %v, want %v", n, e.deleted, want)
	}
	for _, repo := range []string{"app", "multi", "transition"} {
		last, err := LastEvaluated(ctx, st, registry, repo)
		if err != nil || !last.Equal(now) {
			t.Errorf("%s last evaluated %v %v, want %v", repo, last, err, now)
		}
	}
	if last, _ := LastEvaluated(ctx, st, registry, "nopolicy"); !last.IsZero() {
		t.Errorf("nopolicy evaluated at %v", last)
	}

	// A second sweep finds nothing more to do.
	e.deleted = nil
	if n, err := r.RunOnce(ctx, registry); err != nil || n != 0 || len(e.deleted) != 0 {
		t.Fatalf("second sweep: %d %v %v", n, e.deleted, err)
	}
}

func TestLifecycleRunOnceCarriesOn(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// One repository's failures do not stop the others.
	for _, repo := range []string{"r01", "r02", "r03"} {
		seed(t, st, repo, policy(rule("1", countSel("any", "", 1), expire)), img("old", 2), img("new", 1))
	}
	failing := map[string]bool{"r02": true}
	var got []string
	r := &Runner{Store: st, Now: func() time.Time { return now }, Expire: func(ctx context.Context, registryID, repo, digest string, tags []string) error {
		if failing[repo] {
			return context.DeadlineExceeded
		}
		got = append(got, repo)
		return st.ExpireImage(ctx, registryID, repo, digest, tags)
	}}
	n, err := r.RunOnce(ctx, registry)
	if n != 2 || err == nil || !slices.Equal(got, []string{"r01", "r03"}) {
		t.Fatalf("RunOnce = %d, %v; expired in %v", n, err, got)
	}
}

func TestLifecycleRunLoops(t *testing.T) {
	st := openStore(t)
	seed(t, st, "app", policy(rule("1", countSel("any", "", 1), expire)), img("a", 2))
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	sweeps := 0
	clock := now
	r := &Runner{Store: st, Interval: 10 * time.Millisecond, Node: "n1",
		Expire: func(context.Context, string, string, string, []string) error { return nil },
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			sweeps++
			if sweeps == 6 {
				cancel()
			}
			clock = clock.Add(time.Second) // every look finds the repository due again
			return clock
		}}
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop")
	}
	if sweeps < 6 {
		t.Fatalf("%d sweeps", sweeps)
	}
}

// TestLifecycleRunDueOnce: nodes sharing a store sweep each repository of
// every registry once per interval between them, each image expired once.
func TestLifecycleRunDueOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for i := range 12 {
		seed(t, st, fmt.Sprintf("r%02d", i), policy(rule("1", countSel("any", "", 1), expire)),
			img("old", 3), img("mid", 2), img("new", 1))
	}
	// Another account's registry is swept too.
	otherReg := "210987654321"
	if _, err := st.CreateRepository(ctx, metadata.Repository{RegistryID: otherReg, Name: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"o1", "o2"} {
		if _, err := st.PutImage(ctx, metadata.Image{RegistryID: otherReg, Repository: "x", Digest: img(d, 1).Digest}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.PutPolicy(ctx, metadata.PolicyLifecycle, otherReg, "x", policy(rule("1", countSel("any", "", 1), expire))); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	expired := map[string]int{}
	var wg sync.WaitGroup
	for node := range 3 {
		r := &Runner{Store: st, Node: fmt.Sprint("node", node), Interval: time.Hour, Now: func() time.Time { return now },
			Expire: func(ctx context.Context, registryID, repo, digest string, tags []string) error {
				if err := st.ExpireImage(ctx, registryID, repo, digest, tags); err != nil {
					return err
				}
				mu.Lock()
				expired[registryID+"/"+repo+"@"+digest]++
				mu.Unlock()
				return nil
			}}
		wg.Go(func() {
			for range 3 {
				if _, err := r.RunDue(ctx); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(expired) != 12*2+1 {
		t.Fatalf("%d images expired, want %d: %v", len(expired), 12*2+1, expired)
	}
	for k, n := range expired {
		if n != 1 {
			t.Errorf("%s expired %d times", k, n)
		}
	}
	if due, err := st.DueLifecycleRuns(ctx, now.Add(time.Minute), 100); err != nil || len(due) != 0 {
		t.Fatalf("still due after the sweeps: %v, %v", due, err)
	}
}
