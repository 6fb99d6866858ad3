package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jackc/pgx/v5"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestLifecycleThreeNodes runs lifecycle policies on three nodes of one
// registry (PostgreSQL, MinIO), in two accounts' registries: every image
// a policy selects is expired exactly once (by whichever node claimed the
// repository), no node logs an error, and the sweeps leave the
// authorization version (every node's policy cache) alone.
func TestLifecycleThreeNodes(t *testing.T) {
	t.Parallel()
	m := sharedMinIO(t)
	dsn := testenv.StartPostgres(t)
	nodes := testenv.StartCluster(t, 3, testenv.BerthOptions{
		Storage: m.S3Storage(newBucket(t, m), "berth"),
		Extra:   fmt.Sprintf("metadata: {engine: postgres, dsn: %q}\nlifecycle: {interval: 2s}\n", dsn),
	})
	ctx := testenv.Ctx(t, 5*time.Minute)
	const other = "111111111111"
	id, secret := nodes[0].NewUser(other, "admin2", "AdministratorAccess")
	clients := map[string]*ecr.Client{"own": nodes[0].ECR(), "other": nodes[1].ECRWith(id, secret, "")}

	const perRepo = 5
	repos := []struct{ account, name string }{{"own", "lc/a"}, {"own", "lc/b"}, {"other", "lc/c"}}
	for _, r := range repos {
		if _, err := clients[r.account].CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(r.name)}); err != nil {
			t.Fatal(err)
		}
		for i := range perRepo {
			tag := fmt.Sprintf("v%d", i)
			if r.account == "own" {
				b := nodes[i%len(nodes)]
				img, err := random.Image(256, 1)
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Write(ref(t, b, r.name, tag), img, regOpts(ctx, b)...); err != nil {
					t.Fatal(err)
				}
			} else {
				putImageAPI(ctx, t, clients[r.account], r.name, tag)
			}
			time.Sleep(10 * time.Millisecond) // distinct push times: the policy keeps the newest
		}
	}
	before := authzVersion(ctx, t, dsn)
	policy := `{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`
	for _, r := range repos {
		if _, err := clients[r.account].PutLifecyclePolicy(ctx, &ecr.PutLifecyclePolicyInput{
			RepositoryName: aws.String(r.name), LifecyclePolicyText: aws.String(policy)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range repos {
		waitFor(t, 90*time.Second, r.name+" down to one image", func() bool {
			out, err := clients[r.account].DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(r.name)})
			return err == nil && len(out.ImageDetails) == 1
		})
	}
	time.Sleep(5 * time.Second) // more sweeps: nothing more to expire, nothing twice

	expiredRE := regexp.MustCompile(`msg="lifecycle expired image" registry=(\d+) repository=(\S+) digest=(\S+)`)
	counts := map[string]int{}
	for _, b := range nodes {
		log := b.Log()
		for _, mm := range expiredRE.FindAllStringSubmatch(log, -1) {
			counts[mm[1]+"/"+mm[2]+"@"+mm[3]]++
		}
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("node %s logged an error: %s", b.Addr, line)
			}
		}
	}
	if len(counts) != len(repos)*(perRepo-1) {
		t.Errorf("%d images expired, want %d: %v", len(counts), len(repos)*(perRepo-1), counts)
	}
	sawOther := false
	for k, n := range counts {
		if n != 1 {
			t.Errorf("%s expired %d times", k, n)
		}
		sawOther = sawOther || strings.HasPrefix(k, other+"/")
	}
	if !sawOther {
		t.Error("the other account's registry was not swept")
	}
	if after := authzVersion(ctx, t, dsn); after != before {
		t.Errorf("lifecycle sweeps moved the authorization version %d → %d", before, after)
	}
	for _, r := range repos {
		pol, err := clients[r.account].GetLifecyclePolicy(ctx, &ecr.GetLifecyclePolicyInput{RepositoryName: aws.String(r.name)})
		if err != nil || pol.LastEvaluatedAt == nil || time.Since(*pol.LastEvaluatedAt) > time.Minute {
			t.Errorf("%s: lastEvaluatedAt %v, %v", r.name, pol.LastEvaluatedAt, err)
		}
	}
}

// authzVersion reads the authorization version from the store.
func authzVersion(ctx context.Context, t *testing.T, dsn string) int64 {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v int64
	if err := conn.QueryRow(ctx, "SELECT version FROM authz_state WHERE id = 1").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// putImageAPI pushes a small image through the ECR API alone (layer
// upload, PutImage), as a client of any account's registry can.
func putImageAPI(ctx context.Context, t *testing.T, c *ecr.Client, repo, tag string) string {
	t.Helper()
	upload := func(data []byte) string {
		up, err := c.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(repo)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadLayerPart(ctx, &ecr.UploadLayerPartInput{RepositoryName: aws.String(repo), UploadId: up.UploadId,
			LayerPartBlob: data, PartFirstByte: aws.Int64(0), PartLastByte: aws.Int64(int64(len(data) - 1))}); err != nil {
			t.Fatal(err)
		}
		d := digest.FromBytes(data).String()
		if _, err := c.CompleteLayerUpload(ctx, &ecr.CompleteLayerUploadInput{RepositoryName: aws.String(repo),
			UploadId: up.UploadId, LayerDigests: []string{d}}); err != nil {
			t.Fatal(err)
		}
		return d
	}
	cfg := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","created":%q,"rootfs":{"type":"layers","diff_ids":[]}}`, time.Now().Format(time.RFC3339Nano)))
	layer := []byte("layer " + tag + " " + time.Now().String())
	m, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": upload(cfg), "size": len(cfg)},
		"layers": []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": upload(layer), "size": len(layer)}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String(repo), ImageManifest: aws.String(string(m)), ImageTag: aws.String(tag)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Image.ImageId.ImageDigest)
}
