package e2e_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestCrashDuringPushes kills berth (SIGKILL) while 20 pushes run, starts
// it again, and checks: every push the client saw acknowledged pulls back
// bit-exact, and every tag the ECR API or /v2 lists can be pulled. Several
// rounds, on disk and on MinIO.
func TestCrashDuringPushes(t *testing.T) {
	t.Parallel()
	for _, store := range storeKinds {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			b := startBerth(t, store)
			ctx := testenv.Ctx(t, 10*time.Minute)
			const repo, pushes, rounds = "crash/app", 20, 3
			if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
				t.Fatal(err)
			}
			acked := map[string]v1.Image{} // tag → image, over all rounds
			for round := range rounds {
				imgs := make([]v1.Image, pushes)
				for i := range imgs {
					img, err := random.Image(96<<10, 2)
					if err != nil {
						t.Fatal(err)
					}
					imgs[i] = img
				}
				errs := make([]error, pushes)
				finished := make(chan struct{}, pushes)
				var wg sync.WaitGroup
				for i, img := range imgs {
					wg.Go(func() {
						errs[i] = remote.Write(ref(t, b, repo, fmt.Sprintf("r%d-%d", round, i)), img, regOpts(ctx, b)...)
						finished <- struct{}{}
					})
				}
				// Kill once a random share of the pushes has finished: the
				// rest are somewhere between their first blob and their
				// manifest.
				for range 1 + rand.IntN(pushes/2) {
					<-finished
				}
				b.Kill()
				wg.Wait()
				b.Start()
				n := 0
				for i, err := range errs {
					if err == nil {
						acked[fmt.Sprintf("r%d-%d", round, i)] = imgs[i]
						n++
					}
				}
				t.Logf("round %d: %d of %d pushes acknowledged before the kill", round, n, pushes)
				checkAfterCrash(t, b, repo, acked)
			}
		})
	}
}

// checkAfterCrash: acknowledged pushes pull back as pushed; whatever any
// API lists pulls.
func checkAfterCrash(t *testing.T, b *testenv.Berth, repo string, acked map[string]v1.Image) {
	t.Helper()
	ctx := testenv.Ctx(t, 5*time.Minute)
	for tag, img := range acked {
		want, _ := img.Digest()
		if got := headDigest(ctx, t, b, repo, tag); got != want.String() {
			t.Fatalf("acknowledged push %s: HEAD says %q, want %s", tag, got, want)
		}
		if err := pullAll(ctx, b, repo, want.String()); err != nil {
			t.Fatalf("acknowledged push %s does not pull: %v", tag, err)
		}
	}
	listed := map[string]bool{}
	for p := ecr.NewListImagesPaginator(b.ECR(), &ecr.ListImagesInput{RepositoryName: aws.String(repo),
		Filter: &types.ListImagesFilter{TagStatus: types.TagStatusTagged}}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range page.ImageIds {
			listed[aws.ToString(id.ImageTag)] = true
		}
	}
	repoRef, err := name.NewRepository(b.Addr + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	tags, err := remote.List(repoRef, regOpts(ctx, b)...)
	if err != nil {
		t.Fatalf("tags/list: %v", err)
	}
	if len(tags) != len(listed) {
		t.Fatalf("tags/list has %d tags, ListImages %d", len(tags), len(listed))
	}
	for _, tag := range tags {
		if !listed[tag] {
			t.Fatalf("tags/list has %s, ListImages does not", tag)
		}
		if err := pullAll(ctx, b, repo, tag); err != nil {
			t.Fatalf("listed tag %s does not pull: %v", tag, err)
		}
	}
}
