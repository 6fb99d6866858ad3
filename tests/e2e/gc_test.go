package e2e_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-registry/berth/internal/testenv"
)

// gcFast reviews four seconds after a blob may have lost its last reference.
const gcFast = "gc: {review_delay: 4s, interval: 200ms}\n"

// imageOf builds an image of the given layers.
func imageOf(t *testing.T, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func layerDigest(t *testing.T, l v1.Layer) string {
	t.Helper()
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// TestGCSharedLayers: two images share a layer. Deleting one image frees
// exactly its own blobs; deleting a repository frees what only it used;
// the other image pulls bit-exact throughout — on disk and on MinIO,
// measured in the files and the bucket.
func TestGCSharedLayers(t *testing.T) {
	t.Parallel()
	for _, store := range storeKinds {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			b, s := startGCBerth(t, store, gcFast)
			ctx := testenv.Ctx(t, 5*time.Minute)
			c := b.ECR()
			for _, r := range []string{"gc/a", "gc/b", "gc/c"} {
				if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(r)}); err != nil {
					t.Fatal(err)
				}
			}
			shared, onlyA, onlyB, onlyC := randomLayer(t, 3<<20), randomLayer(t, 2<<20), randomLayer(t, 1<<20), randomLayer(t, 1<<20)
			a, bb, cc := imageOf(t, shared, onlyA), imageOf(t, shared, onlyB), imageOf(t, shared, onlyC)
			for repo, img := range map[string]v1.Image{"gc/a": a, "gc/b": bb, "gc/c": cc} {
				if err := remote.Write(ref(t, b, repo, "v1"), img, regOpts(ctx, b)...); err != nil {
					t.Fatal(err)
				}
			}
			waitStorageMatches(ctx, t, c, s, 30*time.Second) // nothing unreferenced yet
			_, total0 := s.blobs(t)

			// Delete image a: its layer, config and manifest go, after the
			// review delay; the shared layer stays.
			ad, _ := a.Digest()
			if _, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String("gc/a"),
				ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(ad.String())}}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "image a's layer collected", func() bool {
				have, _ := s.blobs(t)
				_, ok := have[layerDigest(t, onlyA)]
				return !ok
			})
			waitStorageMatches(ctx, t, c, s, 30*time.Second)
			after, total1 := s.blobs(t)
			if _, ok := after[layerDigest(t, shared)]; !ok {
				t.Fatal("the shared layer was collected")
			}
			freed := total0 - total1
			if want := layerSize(t, onlyA); freed < want {
				t.Fatalf("storage shrank by %d bytes, less than image a's own layer (%d)", freed, want)
			}
			t.Logf("deleting image a freed %d stored bytes (its layer: %d bytes)", freed, layerSize(t, onlyA))
			if err := pullAll(ctx, b, "gc/b", "v1"); err != nil {
				t.Fatalf("image b after collecting a: %v", err)
			}

			// DeleteRepository --force: what only gc/c used goes.
			if _, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String("gc/c"), Force: true}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "repository c's layer collected", func() bool {
				have, _ := s.blobs(t)
				_, ok := have[layerDigest(t, onlyC)]
				return !ok
			})
			waitStorageMatches(ctx, t, c, s, 30*time.Second)
			if err := pullAll(ctx, b, "gc/b", "v1"); err != nil {
				t.Fatalf("image b after deleting repository c: %v", err)
			}
			out, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("gc/b")})
			if err != nil || len(out.ImageDetails) != 1 || aws.ToInt64(out.ImageDetails[0].ImageSizeInBytes) != layerSize(t, shared)+layerSize(t, onlyB) {
				t.Fatalf("DescribeImages gc/b = %+v, %v", out, err)
			}
		})
	}
}

func randomLayer(t *testing.T, n int64) v1.Layer {
	t.Helper()
	img, err := random.Image(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	return ls[0]
}

func layerSize(t *testing.T, l v1.Layer) int64 {
	t.Helper()
	n, err := l.Size()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGCWhilePushingAndPulling runs push, delete and pull rounds on three
// nodes sharing PostgreSQL and MinIO, with collection every 200 ms and a
// review delay of a second, while a puller pulls every live image all the
// time: no live image ever fails to pull, and at the end storage holds
// exactly the blobs the registry references.
func TestGCWhilePushingAndPulling(t *testing.T) {
	t.Parallel()
	m := sharedMinIO(t)
	bucket := newBucket(t, m)
	dsn := testenv.StartPostgres(t)
	nodes := testenv.StartCluster(t, 3, testenv.BerthOptions{
		Storage: m.S3Storage(bucket, "berth"),
		Extra:   fmt.Sprintf("metadata: {engine: postgres, dsn: %q}\n%s", dsn, gcFast),
	})
	for _, b := range nodes {
		watchLog(t, b)
	}
	s := gcStorage{m: m, bucket: bucket}
	ctx := testenv.Ctx(t, 10*time.Minute)
	c := nodes[0].ECR()
	const repo = "gc/loop"
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	base := randomLayer(t, 512<<10) // in every image: never collected

	var (
		mu   sync.Mutex
		live = map[string]bool{} // tag → pushed and not deleted
		stop atomic.Bool
		pull sync.WaitGroup
	)
	pulls := atomic.Int64{}
	pull.Go(func() {
		for !stop.Load() {
			mu.Lock()
			var tags []string
			for tag := range live {
				tags = append(tags, tag)
			}
			mu.Unlock()
			for _, tag := range tags {
				b := nodes[rand.IntN(len(nodes))]
				err := pullAll(ctx, b, repo, tag)
				mu.Lock()
				still := live[tag]
				mu.Unlock()
				if err != nil && still {
					t.Errorf("live image %s failed to pull from %s: %v", tag, b.Addr, err)
					stop.Store(true)
					return
				}
				pulls.Add(1)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	var pushed []string
	for round := range 12 {
		for i := range 3 {
			tag := fmt.Sprintf("r%d-%d", round, i)
			b := nodes[(round+i)%len(nodes)]
			if err := remote.Write(ref(t, b, repo, tag), imageOf(t, base, randomLayer(t, 64<<10)), regOpts(ctx, b)...); err != nil {
				t.Fatalf("push %s: %v", tag, err)
			}
			mu.Lock()
			live[tag] = true
			mu.Unlock()
			pushed = append(pushed, tag)
		}
		// Delete two of the older images (as soon as they are not live
		// any more, the puller skips them).
		for range 2 {
			if len(pushed) <= 2 {
				break
			}
			k := rand.IntN(len(pushed) - 2)
			tag := pushed[k]
			pushed = append(pushed[:k], pushed[k+1:]...)
			mu.Lock()
			delete(live, tag)
			mu.Unlock()
			if _, err := nodes[rand.IntN(len(nodes))].ECR().BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo),
				ImageIds: []types.ImageIdentifier{{ImageTag: aws.String(tag)}}}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(400 * time.Millisecond)
		if t.Failed() {
			break
		}
	}
	time.Sleep(5 * time.Second) // the last deletions' reviews come due
	stop.Store(true)
	pull.Wait()
	t.Logf("%d pulls of live images during %d rounds; %d images left", pulls.Load(), 12, len(pushed))
	waitStorageMatches(ctx, t, c, s, time.Minute)
	for _, tag := range pushed {
		if err := pullAll(ctx, nodes[0], repo, tag); err != nil {
			t.Fatalf("%s at the end: %v", tag, err)
		}
	}
}

// TestGCSHA512: blobs pushed by sha512 digests stay while an image names
// them and are collected after it is deleted.
func TestGCSHA512(t *testing.T) {
	t.Parallel()
	b, s := startGCBerth(t, "disk", gcFast)
	a := newAPI(t, b)
	ctx := testenv.Ctx(t, 3*time.Minute)
	const repo = "gc/sha512"
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := randBytes(t, 300_000)
	cfgDg, layerDg := a.pushBlobAlg(repo, cfg, "sha512"), a.pushBlobAlg(repo, layer, "sha512")
	manifest := mustJSON(t, ociManifest{SchemaVersion: 2, MediaType: mtOCIManifest,
		Config: descriptor{MediaType: mtOCIConfig, Digest: cfgDg, Size: int64(len(cfg))},
		Layers: []descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: layerDg, Size: int64(len(layer))}}})
	dg := a.putManifest(repo, "v1", mtOCIManifest, manifest)
	time.Sleep(6 * time.Second) // every review of the pushes is done
	if got := a.do("GET", "/v2/"+repo+"/blobs/"+layerDg, nil); got.status != http.StatusOK || !bytes.Equal(got.body, layer) {
		t.Fatalf("the sha512 layer after reviews: %s", got)
	}
	layer256 := digestOf(layer)
	if have, _ := s.blobs(t); have[layer256] == 0 {
		t.Fatalf("the layer's data (%s) is not in storage", layer256)
	}
	if _, err := b.ECR().BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageDigest: aws.String(dg)}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the sha512 layer collected", func() bool {
		have, _ := s.blobs(t)
		_, ok := have[layer256]
		return !ok
	})
	expectError(t, "GET of the collected sha512 layer", a.do("GET", "/v2/"+repo+"/blobs/"+layerDg, nil), []int{404}, "BLOB_UNKNOWN")
}

// TestGCCrashMidCollection kills berth while it collects hundreds of blobs
// and starts it again: nothing referenced is missing, and the collection
// completes.
func TestGCCrashMidCollection(t *testing.T) {
	t.Parallel()
	b, s := startGCBerth(t, "minio", "gc: {review_delay: 2s, interval: 200ms}\n")
	ctx := testenv.Ctx(t, 5*time.Minute)
	c := b.ECR()
	const repo = "gc/crash"
	if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(repo)}); err != nil {
		t.Fatal(err)
	}
	keep := imageOf(t, randomLayer(t, 256<<10))
	if err := remote.Write(ref(t, b, repo, "keep"), keep, regOpts(ctx, b)...); err != nil {
		t.Fatal(err)
	}
	var doomed []types.ImageIdentifier
	for i := range 60 {
		img := imageOf(t, randomLayer(t, 8<<10), randomLayer(t, 8<<10))
		if err := remote.Write(ref(t, b, repo, fmt.Sprint("d", i)), img, regOpts(ctx, b)...); err != nil {
			t.Fatal(err)
		}
		doomed = append(doomed, types.ImageIdentifier{ImageTag: aws.String(fmt.Sprint("d", i))})
	}
	if _, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: doomed}); err != nil {
		t.Fatal(err)
	}
	// Kill once collection has visibly begun.
	waitFor(t, 30*time.Second, "collection begun", func() bool { return strings.Contains(b.Log(), "gc: reviewed") })
	b.Kill()
	b.Start()
	if err := pullAll(ctx, b, repo, "keep"); err != nil {
		t.Fatalf("the kept image after the crash: %v", err)
	}
	// The dead process's claims lapse (30 s), then the rest is collected.
	waitStorageMatches(ctx, t, b.ECR(), s, 2*time.Minute)
	if err := pullAll(ctx, b, repo, "keep"); err != nil {
		t.Fatalf("the kept image at the end: %v", err)
	}
}

// TestGCAbandonedUploads: an upload left unfinished (on MinIO, an S3
// multipart upload in progress) is aborted once idle for the purge age.
func TestGCAbandonedUploads(t *testing.T) {
	t.Parallel()
	b, s := startGCBerth(t, "minio", gcFast+"registry: {upload_purge_age: 3s}\n")
	a := newAPI(t, b)
	loc := a.startUpload("gc/uploads")
	// More than one part: the multipart upload exists.
	_, r := a.patch(loc, randBytes(t, 6<<20), 0)
	a.expect(r, "PATCH", http.StatusAccepted)
	if n := s.multipartUploads(t); n == 0 {
		t.Fatal("no multipart upload in progress after the PATCH")
	}
	waitFor(t, 30*time.Second, "the abandoned upload aborted", func() bool { return s.multipartUploads(t) == 0 })
	expectError(t, "status of the purged upload", a.do("GET", r.header.Get("Location"), nil), []int{404}, "BLOB_UPLOAD_UNKNOWN")
	waitFor(t, 10*time.Second, "the purge's log line", func() bool { return strings.Contains(b.Log(), "gc: purged an abandoned upload") })
}

// TestGCCommands: `berth gc status` and `berth gc run [--dry-run]` beside
// a running berth whose own collector waits an hour between passes.
func TestGCCommands(t *testing.T) {
	t.Parallel()
	b, s := startGCBerth(t, "disk", "gc: {review_delay: 1s, interval: 1h}\n")
	ctx := testenv.Ctx(t, 3*time.Minute)
	c := b.ECR()
	const repo = "gc/commands"
	keep, drop := imageOf(t, randomLayer(t, 64<<10)), imageOf(t, randomLayer(t, 128<<10))
	for tag, img := range map[string]v1.Image{"keep": keep, "drop": drop} {
		if err := remote.Write(ref(t, b, repo, tag), img, regOpts(ctx, b)...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("drop")}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // past the review delay
	dropLayers, _ := drop.Layers()
	dropLayer := layerDigest(t, dropLayers[0])

	out, errOut, err := b.Run("gc", "status")
	if err != nil || !strings.Contains(out, "queued for review:") {
		t.Fatalf("berth gc status: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = b.Run("gc", "run", "--dry-run")
	if err != nil || !strings.Contains(out, "delete "+dropLayer) || !strings.Contains(errOut, "nothing removed") {
		t.Fatalf("berth gc run --dry-run: %v\n%s%s", err, out, errOut)
	}
	if have, _ := s.blobs(t); have[dropLayer] == 0 {
		t.Fatal("the dry run removed the layer")
	}
	out, errOut, err = b.Run("gc", "run")
	if err != nil || !strings.Contains(errOut, "deleted") {
		t.Fatalf("berth gc run: %v\n%s%s", err, out, errOut)
	}
	t.Logf("berth gc run: %s%s", errOut, out)
	waitStorageMatches(ctx, t, c, s, 10*time.Second)
	if err := pullAll(ctx, b, repo, "keep"); err != nil {
		t.Fatal(err)
	}
}
