package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestTagRace pushes different manifests to one tag at the same moment,
// round after round, on one node (disk and MinIO) and on three nodes
// sharing PostgreSQL and MinIO: afterwards /v2 on every node, BatchGetImage,
// DescribeImages and ListImages name the same image. With an immutable
// tag exactly one push wins, the others get 400 TAG_INVALID, and nothing
// of theirs stays behind.
func TestTagRace(t *testing.T) {
	t.Parallel()
	setups := []struct {
		name   string
		rounds int
		nodes  func(t *testing.T) []*testenv.Berth
	}{
		{"disk", 20, func(t *testing.T) []*testenv.Berth { return []*testenv.Berth{startBerth(t, "disk")} }},
		{"minio", 8, func(t *testing.T) []*testenv.Berth { return []*testenv.Berth{startBerth(t, "minio")} }},
		{"three-nodes", 10, func(t *testing.T) []*testenv.Berth { return startCluster(t, 3, "") }},
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			nodes := s.nodes(t)
			ctx := testenv.Ctx(t, 10*time.Minute)
			c := nodes[0].ECR()
			if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("race/mutable")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("race/immutable"),
				ImageTagMutability: types.ImageTagMutabilityImmutable}); err != nil {
				t.Fatal(err)
			}
			const writers = 4
			for round := range s.rounds {
				raceRound(ctx, t, nodes, "race/mutable", "latest", writers, false)
				raceRound(ctx, t, nodes, "race/immutable", fmt.Sprintf("v%d", round), writers, true)
			}
		})
	}
}

// raceRound pushes writers different images to repo:tag at once, spread
// over the nodes, and checks that every view agrees.
func raceRound(ctx context.Context, t *testing.T, nodes []*testenv.Berth, repo, tag string, writers int, immutable bool) {
	t.Helper()
	imgs := make([]v1.Image, writers)
	for i := range imgs {
		img, err := random.Image(512, 1)
		if err != nil {
			t.Fatal(err)
		}
		imgs[i] = img
		pushBlobs(ctx, t, nodes[i%len(nodes)], repo, img)
	}
	errs := make([]error, writers)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range imgs {
		done.Go(func() {
			b := nodes[i%len(nodes)]
			start.Wait()
			errs[i] = remote.Put(ref(t, b, repo, tag), imgs[i], regOpts(ctx, b)...)
		})
	}
	start.Done()
	done.Wait()

	won := -1
	for i, err := range errs {
		switch code, status := registryCode(err); {
		case err == nil:
			if immutable && won >= 0 {
				t.Fatalf("%s:%s: writers %d and %d both moved the immutable tag", repo, tag, won, i)
			}
			won = i
		case immutable && status == http.StatusBadRequest && code == "TAG_INVALID":
		default:
			t.Fatalf("%s:%s: writer %d: %v", repo, tag, i, err)
		}
	}
	want := headDigest(ctx, t, nodes[0], repo, tag)
	if want == "" {
		t.Fatalf("%s:%s: no image after the round", repo, tag)
	}
	if immutable {
		d, _ := imgs[won].Digest()
		if want != d.String() {
			t.Fatalf("%s:%s names %s, but writer %d (%s) won", repo, tag, want, won, d)
		}
	}
	for _, b := range nodes {
		if got := headDigest(ctx, t, b, repo, tag); got != want {
			t.Fatalf("%s:%s: HEAD on %s = %s, on %s = %s", repo, tag, nodes[0].Addr, want, b.Addr, got)
		}
		for view, got := range ecrViews(ctx, t, b.ECR(), repo, tag) {
			if got != want {
				t.Fatalf("%s:%s: /v2 names %s, %s on %s names %s", repo, tag, want, view, b.Addr, got)
			}
		}
	}
	if immutable {
		for i, img := range imgs {
			if d, _ := img.Digest(); i != won && imageExists(ctx, t, nodes[0].ECR(), repo, d.String()) {
				t.Fatalf("%s:%s: the losing push %d left image %s behind", repo, tag, i, d)
			}
		}
	}
}
