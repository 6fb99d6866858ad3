package e2e_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/testenv"
)

// Helpers of the garbage collection tests: what storage holds, measured
// from below (the disk's files, the bucket's objects), against what the
// ECR API lists.

// gcStorage is where one berth keeps its blobs: a disk root or a bucket.
type gcStorage struct {
	dir    string // disk: <data_dir>/storage
	m      *testenv.MinIO
	bucket string
}

// startGCBerth starts berth on store with extra config (gc settings).
func startGCBerth(t *testing.T, store, extra string) (*testenv.Berth, gcStorage) {
	t.Helper()
	o := testenv.BerthOptions{Extra: extra}
	var s gcStorage
	if store == "minio" {
		s.m = sharedMinIO(t)
		s.bucket = newBucket(t, s.m)
		o.Storage = s.m.S3Storage(s.bucket, "berth")
	}
	b := testenv.StartBerth(t, o)
	watchLog(t, b)
	if store == "disk" {
		s.dir = filepath.Join(b.DataDir, "storage")
	}
	return b, s
}

var blobDataRE = regexp.MustCompile(`docker/registry/v2/blobs/(sha256|sha512)/[0-9a-f]{2}/([0-9a-f]+)/data$`)

// blobs lists the blobs storage holds (digest → stored bytes) and the
// total bytes of everything stored.
func (s gcStorage) blobs(t *testing.T) (map[string]int64, int64) {
	t.Helper()
	out := map[string]int64{}
	var total int64
	if s.m == nil {
		// The collector deletes while this walks: what vanished under the
		// walk is gone, not an error.
		err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			total += fi.Size()
			if m := blobDataRE.FindStringSubmatch(filepath.ToSlash(p)); m != nil {
				out[m[1]+":"+m[2]] = fi.Size()
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, total
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for obj := range s.m.Client(t).ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true, WithMetadata: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		total += obj.Size
		if m := blobDataRE.FindStringSubmatch(obj.Key); m != nil {
			out[m[1]+":"+m[2]] = obj.Size
		}
	}
	return out, total
}

// multipartUploads counts the bucket's multipart uploads in progress.
func (s gcStorage) multipartUploads(t *testing.T) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n := 0
	for u := range s.m.Client(t).ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		n++
	}
	return n
}

// referenced is every blob the ECR API lists in the registry: each image's
// manifest, config and layers (and an index's own bytes), over every
// repository.
func referenced(ctx context.Context, t *testing.T, c *ecr.Client) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for rp := ecr.NewDescribeRepositoriesPaginator(c, &ecr.DescribeRepositoriesInput{}); rp.HasMorePages(); {
		page, err := rp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Repositories {
			var ids []types.ImageIdentifier
			for ip := ecr.NewListImagesPaginator(c, &ecr.ListImagesInput{RepositoryName: r.RepositoryName}); ip.HasMorePages(); {
				ipage, err := ip.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range ipage.ImageIds {
					ids = append(ids, types.ImageIdentifier{ImageDigest: id.ImageDigest})
				}
			}
			for len(ids) > 0 {
				n := min(len(ids), 100)
				got, err := c.BatchGetImage(ctx, &ecr.BatchGetImageInput{RepositoryName: r.RepositoryName, ImageIds: ids[:n]})
				if err != nil {
					t.Fatal(err)
				}
				ids = ids[n:]
				for _, img := range got.Images {
					out[aws.ToString(img.ImageId.ImageDigest)] = true
					m := parseManifest(t, []byte(aws.ToString(img.ImageManifest)))
					if m.Config.Digest != "" {
						out[m.Config.Digest] = true
					}
					for _, l := range m.Layers {
						out[l.Digest] = true
					}
				}
			}
		}
	}
	return out
}

// waitStorageMatches waits until storage holds exactly the blobs the API
// lists (every collection done), and fails with the difference.
func waitStorageMatches(ctx context.Context, t *testing.T, c *ecr.Client, s gcStorage, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		want := referenced(ctx, t, c)
		have, _ := s.blobs(t)
		var extra, missing []string
		for dg := range have {
			if !want[dg] {
				extra = append(extra, dg)
			}
		}
		for dg := range want {
			if _, ok := have[dg]; !ok {
				missing = append(missing, dg)
			}
		}
		if len(missing) > 0 {
			t.Fatalf("referenced blobs missing from storage: %v", missing)
		}
		if len(extra) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v storage still holds %d unreferenced blobs: %v", d, len(extra), strings.Join(extra, " "))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// pushBlobAlg uploads data in one PUT under its digest of algorithm alg
// (sha512: distribution stores it under its sha256 name) and returns
// that digest.
func (a api) pushBlobAlg(repo string, data []byte, alg string) string {
	a.t.Helper()
	dg := digest.Algorithm(alg).FromBytes(data).String()
	loc := a.startUpload(repo)
	r := a.do("PUT", withQuery(loc, "digest", dg), data, "Content-Type", "application/octet-stream")
	a.expect(r, "PUT upload "+dg, http.StatusCreated)
	return dg
}
