package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestRegistryEdges: what the distribution spec and real clients expect
// at the edges of /v2, on disk and on MinIO.
func TestRegistryEdges(t *testing.T) {
	t.Parallel()
	for _, store := range storeKinds {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			b := startBerth(t, store)
			a := newAPI(t, b)
			ctx := testenv.Ctx(t, 5*time.Minute)

			t.Run("two PATCHes at one offset", func(t *testing.T) { concurrentPatches(t, a.with(t)) })

			t.Run("manifests that are not schema 2", func(t *testing.T) {
				a := a.with(t)
				for _, body := range []string{`null`, `{"schemaVersion":1}`, `{"schemaVersion":3,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`, `[]`, `"x"`} {
					r := a.do("PUT", "/v2/e2e/edges/manifests/bad", []byte(body), "Content-Type", mtOCIManifest)
					expectError(t, "PUT manifest "+body, r, []int{400}, "MANIFEST_INVALID")
				}
				a.expectNoManifest("e2e/edges", "bad")
			})

			t.Run("descriptor sizes", func(t *testing.T) {
				a := a.with(t)
				const repo = "e2e/sizes"
				cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
				layer := randBytes(t, 100_000)
				cfgDg, layerDg := a.pushBlob(repo, cfg, 1), a.pushBlob(repo, layer, 1)
				manifest := func(layerSize int64, copies int) []byte {
					ls := make([]descriptor, copies)
					for i := range ls {
						ls[i] = descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: layerDg, Size: layerSize}
					}
					return mustJSON(t, ociManifest{SchemaVersion: 2, MediaType: mtOCIManifest,
						Config: descriptor{MediaType: mtOCIConfig, Digest: cfgDg, Size: int64(len(cfg))}, Layers: ls})
				}
				for _, tc := range []struct {
					name string
					body []byte
				}{
					{"a layer's size understated", manifest(5, 1)},
					{"a layer's size overstated", manifest(200_000, 1)},
					{"one layer listed 20,000 times", manifest(100_000, 20_000)},
				} {
					r := a.do("PUT", "/v2/"+repo+"/manifests/"+tc.name[:1], tc.body, "Content-Type", mtOCIManifest)
					expectError(t, tc.name, r, []int{400}, "MANIFEST_INVALID")
					_, err := b.ECR().PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo),
						ImageManifest: aws.String(string(tc.body)), ImageTag: aws.String("api")})
					var ipe *types.InvalidParameterException
					if !errors.As(err, &ipe) {
						t.Errorf("PutImage, %s: %v, want InvalidParameterException", tc.name, err)
					}
				}
				// The right sizes go in, and imageSizeInBytes is theirs.
				a.putManifest(repo, "ok", mtOCIManifest, manifest(100_000, 1))
				out, err := b.ECR().DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
				if err != nil || len(out.ImageDetails) != 1 || aws.ToInt64(out.ImageDetails[0].ImageSizeInBytes) != 100_000 {
					t.Fatalf("DescribeImages = %+v, %v", out, err)
				}
			})

			t.Run("tags/list of a repository without tags", func(t *testing.T) {
				a := a.with(t)
				if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("e2e/empty")}); err != nil {
					t.Fatal(err)
				}
				r := a.do("GET", "/v2/e2e/empty/tags/list", nil)
				var list struct {
					Name string   `json:"name"`
					Tags []string `json:"tags"`
				}
				if r.status != http.StatusOK || json.Unmarshal(r.body, &list) != nil || list.Name != "e2e/empty" || list.Tags == nil || len(list.Tags) != 0 {
					t.Fatalf("tags/list of an empty repository: %s", r)
				}
				expectError(t, "tags/list of a missing repository", a.do("GET", "/v2/e2e/missing/tags/list", nil), []int{404}, "NAME_UNKNOWN")
			})

			t.Run("upload cancel", func(t *testing.T) {
				a := a.with(t)
				loc := a.startUpload("e2e/cancel")
				_, r := a.patch(loc, randBytes(t, 1000), 0)
				a.expect(r, "PATCH", http.StatusAccepted)
				a.expect(a.do("DELETE", r.header.Get("Location"), nil), "DELETE upload", http.StatusNoContent)
				expectError(t, "status of a cancelled upload", a.do("GET", loc, nil), []int{404}, "BLOB_UPLOAD_UNKNOWN")
			})
		})
	}
}

// concurrentPatches sends two PATCHes of different bytes at offset 0 of
// one upload at once, a dozen times: exactly one is taken (202), the other
// gets 416 RANGE_INVALID, and the upload completes with the winner's bytes.
func concurrentPatches(t *testing.T, a api) {
	const repo = "e2e/patches"
	for trial := range 12 {
		loc := a.startUpload(repo)
		bodies := [2][]byte{randBytes(t, 2<<20), randBytes(t, 2<<20)}
		var rs [2]response
		var wg sync.WaitGroup
		for i := range bodies {
			wg.Go(func() {
				rs[i] = a.do("PATCH", loc, bodies[i], "Content-Type", "application/octet-stream",
					"Content-Range", fmt.Sprintf("0-%d", len(bodies[i])-1))
			})
		}
		wg.Wait()
		won := -1
		for i, r := range rs {
			switch {
			case r.status == http.StatusAccepted && won < 0:
				won = i
			case r.status == http.StatusRequestedRangeNotSatisfiable && strings.Contains(strings.Join(r.codes(), ","), "RANGE_INVALID"):
			default:
				t.Fatalf("trial %d: PATCH %d: %s (the other: %s)", trial, i, r, rs[1-i])
			}
		}
		if won < 0 {
			t.Fatalf("trial %d: neither PATCH was taken: %s / %s", trial, rs[0], rs[1])
		}
		dg := digestOf(bodies[won])
		r := a.do("PUT", withQuery(rs[won].header.Get("Location"), "digest", dg), nil)
		a.expect(r, fmt.Sprintf("trial %d: PUT after the winning PATCH", trial), http.StatusCreated)
		sameBytes(t, "the winner's bytes", a.getBlob(repo, dg), bodies[won])
	}
}

// TestRegctlCopyWithoutMounting: with BLOB_MOUNTING off (ECR's default) a
// cross-repository mount starts a plain upload; regctl cancels that upload
// and pushes the blob, which must not make it back off (it took 26 times
// as long when cancel answered 405).
func TestRegctlCopyWithoutMounting(t *testing.T) {
	t.Parallel()
	regctl, crane := goTool(t, "regctl"), goTool(t, "crane")
	b := startBerth(t, "disk")
	ctx := testenv.Ctx(t, 5*time.Minute)
	c := newCLI(t, b.CACert).login(b)
	reg := host(b.URL)
	c.run(regctl, "registry", "set", "--tls", "enabled", "--cacert", string(readFile(t, b.CACert)), reg)
	im := newImage(t, c, 512<<10)
	src := reg + "/e2e/copy-src:v1"
	c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", src)
	copyTime := func(setting string, n int) time.Duration {
		if _, err := b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String(setting)}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		c.run(regctl, "image", "copy", src, fmt.Sprintf("%s/e2e/copy-%s-%d:v1", reg, strings.ToLower(setting), n))
		return time.Since(start)
	}
	var on, off time.Duration
	for n := range 2 {
		on += copyTime("ENABLED", n)
		off += copyTime("DISABLED", n)
	}
	t.Logf("regctl image copy: %v with BLOB_MOUNTING, %v without", on/2, off/2)
	if off > 2*on+2*time.Second {
		t.Fatalf("regctl image copy without mounting took %v, with %v", off/2, on/2)
	}
}
