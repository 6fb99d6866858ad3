package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// The JSON the aws CLI prints, as far as the tests read it (encoding/json
// matches the camelCase keys case-insensitively).
type (
	cliRepository struct {
		RepositoryArn, RegistryId, RepositoryName, RepositoryUri, ImageTagMutability string
	}
	cliImageID struct {
		ImageDigest string `json:"imageDigest,omitempty"`
		ImageTag    string `json:"imageTag,omitempty"`
	}
	cliImageDetail struct {
		ImageDigest            string
		ImageTags              []string
		ImageSizeInBytes       int64
		ImageManifestMediaType string
	}
	cliImage struct {
		RegistryId, RepositoryName string
		ImageId                    cliImageID
		ImageManifest              string
		ImageManifestMediaType     string
	}
	cliFailure struct {
		ImageId                    cliImageID
		FailureCode, FailureReason string
	}
	cliTag struct{ Key, Value string }
)

// TestAWSCLI drives berth (strict ECR: no repository without
// CreateRepository; on MinIO) with the real aws CLI v1, the way a user's
// script does: repositories, login for Docker, put-image retagging, tag
// immutability, paging, image deletion by tag, policies, lifecycle preview,
// resource tags and repository deletion — checking exit codes, the
// exceptions named on stderr and the JSON printed.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	docker, noDocker := dockerDaemon(t)
	m := sharedMinIO(t)
	o := testenv.BerthOptions{StrictECR: true, Storage: m.S3Storage(newBucket(t, m), "berth")}
	if docker != "" {
		// The daemon verifies TLS only off 127.0.0.0/8 (see TestDocker).
		o.ListenIP, o.Host = "::1", loopbackName(t)
	}
	b := testenv.StartBerth(t, o)
	watchLog(t, b)
	ac := newAWSCLI(t, newCLI(t, b.CACert), b)
	reg := b.Addr

	// The repository the subtests share; each other one is made by the
	// subtest that uses it.
	var app struct{ Repository cliRepository }
	ac.ok(&app, "ecr", "create-repository", "--repository-name", "e2e/app", "--tags", "Key=team,Value=berth")
	checkCreated(t, b, app.Repository, "e2e/app", "MUTABLE")
	res := ac.fails("RepositoryAlreadyExistsException", "ecr", "create-repository", "--repository-name", "e2e/app")
	if want := "The repository with name 'e2e/app' already exists in the registry with id '" + account + "'"; !strings.Contains(res.stderr, want) {
		t.Errorf("create-repository twice: stderr %q lacks %q", res.stderr, want)
	}
	var described struct{ Repositories []cliRepository }
	ac.ok(&described, "ecr", "describe-repositories")
	if len(described.Repositories) != 1 || described.Repositories[0] != app.Repository {
		t.Errorf("describe-repositories printed %+v, want [%+v]", described.Repositories, app.Repository)
	}
	res = ac.fails("RepositoryNotFoundException", "ecr", "describe-repositories", "--repository-names", "e2e/nope")
	if want := "The repository with name 'e2e/nope' does not exist in the registry with id '" + account + "'"; !strings.Contains(res.stderr, want) {
		t.Errorf("describe-repositories of a missing one: stderr %q lacks %q", res.stderr, want)
	}

	v2 := newAPI(t, b)
	if docker == "" {
		// The Docker part pipes get-login-password into docker login; without
		// it, the password goes to /v2 directly.
		pw := strings.TrimSpace(ac.ok(nil, "ecr", "get-login-password").stdout)
		r := v2.do("GET", "/v2/", nil, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("AWS:"+pw)))
		v2.expect(r, "GET /v2/ with get-login-password's password", http.StatusOK)
	}

	// An image in e2e/app, pushed over /v2, for retagging and deletion.
	baseDigest, baseManifest := v2.pushImage("e2e/app", "v1", makeTar(t, tarFile{name: "a.bin", data: randBytes(t, 4096)}), mtLayerTar, 1)

	// The groups run at once, whatever -parallel says: each is a chain of
	// aws CLI processes (about a CPU-second each), so the slowest group
	// rather than the sum of pairs of them sets the test's time.
	groups := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"paging-lifecycle-delete", func(t *testing.T) { awsPagingLifecycle(t, ac.with(t), v2.with(t), b) }},
		{"retag-and-delete", func(t *testing.T) { awsRetagDelete(t, ac.with(t), v2.with(t), baseDigest, baseManifest) }},
		{"policy-and-tags", func(t *testing.T) { awsPolicyTags(t, ac.with(t), app.Repository.RepositoryArn) }},
		{"immutable", func(t *testing.T) { awsImmutable(t, ac.with(t), v2.with(t), b) }},
		{"docker", func(t *testing.T) {
			if docker == "" {
				t.Skip(noDocker)
			}
			awsDocker(t, ac.with(t), docker, reg)
		}},
	}
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		go func() { defer wg.Done(); t.Run(g.name, g.run) }()
	}
	wg.Wait()
}

// account is the registry id of a berth with the default configuration.
const account = "000000000000"

// checkCreated checks what create-repository printed; the repository URI
// is on the host GetAuthorizationToken's proxyEndpoint names.
func checkCreated(t *testing.T, b *testenv.Berth, got cliRepository, name, mutability string) {
	t.Helper()
	out, err := b.ECR().GetAuthorizationToken(testenv.Ctx(t, time.Minute), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	publicHost := strings.TrimPrefix(aws.ToString(out.AuthorizationData[0].ProxyEndpoint), "https://")
	want := cliRepository{
		RepositoryArn: "arn:aws:ecr:us-east-1:" + account + ":repository/" + name, RegistryId: account,
		RepositoryName: name, RepositoryUri: publicHost + "/" + name, ImageTagMutability: mutability,
	}
	if got != want {
		t.Errorf("create-repository %s printed\n  %+v\nwant\n  %+v", name, got, want)
	}
}

// awsDocker: get-login-password piped into docker login, then docker push
// and pull of an imported image; the bytes come back.
func awsDocker(t *testing.T, ac *awsCLI, docker, reg string) {
	c := ac.c
	certs := filepath.Join("/etc/docker/certs.d", reg)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certs) })
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), readFile(t, c.caFile), 0o644); err != nil {
		t.Fatal(err)
	}
	login := fmt.Sprintf("set -o pipefail; '%s' ecr get-login-password --endpoint-url %s | '%s' login --username AWS --password-stdin %s",
		ac.bin, ac.endpoint, docker, reg)
	if out := c.run("bash", "-c", login).stdout; !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login: %s", out)
	}

	data := randBytes(t, 64<<10)
	rootfs := c.write("rootfs.tar", makeTar(t, tarFile{name: "data.bin", data: data}))
	local := "berth-e2e/awscli:" + randHex(t, 6)
	name := reg + "/e2e/app"
	ref := name + ":docker"
	t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", local, ref).Run() })
	c.run(docker, "import", rootfs, local)
	c.run(docker, "tag", local, ref)
	c.run(docker, "push", ref)
	var before struct {
		ID          string
		RepoDigests []string
	}
	inspect(t, c, docker, ref, &before)
	if len(before.RepoDigests) != 1 {
		t.Fatalf("after push: RepoDigests %q", before.RepoDigests)
	}
	dg := strings.TrimPrefix(before.RepoDigests[0], name+"@")
	var d struct{ ImageDetails []cliImageDetail }
	ac.ok(&d, "ecr", "describe-images", "--repository-name", "e2e/app", "--image-ids", "imageTag=docker")
	if len(d.ImageDetails) != 1 || d.ImageDetails[0].ImageDigest != dg {
		t.Fatalf("describe-images e2e/app:docker = %+v, docker pushed %s", d.ImageDetails, dg)
	}

	c.run(docker, "rmi", local, ref)
	c.run(docker, "pull", ref)
	var after struct{ ID string }
	inspect(t, c, docker, ref, &after)
	if after.ID != before.ID {
		t.Fatalf("pulled image ID %s, pushed %s", after.ID, before.ID)
	}
	save := c.path("saved.tar")
	c.run(docker, "save", "-o", save, ref)
	files := tarFiles(t, readFile(t, save))
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("docker save manifest.json: %v %s", err, files["manifest.json"])
	}
	sameBytes(t, "pulled data.bin", tarEntry(t, files[manifest[0].Layers[0]], "data.bin"), data)
}

// awsRetagDelete: put-image with batch-get-image's manifest adds a tag to
// the same digest; batch-delete-image by tag removes the tag, and the last
// tag takes the image with it.
func awsRetagDelete(t *testing.T, ac *awsCLI, v2 api, dg string, manifest []byte) {
	out := ac.ok(nil, "ecr", "batch-get-image", "--repository-name", "e2e/app", "--image-ids", "imageTag=v1",
		"--query", "images[].imageManifest", "--output", "text").stdout
	got := strings.TrimSuffix(out, "\n")
	if got != string(manifest) {
		t.Fatalf("batch-get-image printed manifest\n%s\nwant\n%s", got, manifest)
	}
	var put struct{ Image cliImage }
	ac.ok(&put, "ecr", "put-image", "--repository-name", "e2e/app", "--image-tag", "v2", "--image-manifest", got)
	if put.Image.ImageId != (cliImageID{dg, "v2"}) || put.Image.ImageManifest != string(manifest) {
		t.Fatalf("put-image printed %+v, want digest %s tag v2 and the same manifest", put.Image, dg)
	}
	tagsOf := func() []string {
		var d struct{ ImageDetails []cliImageDetail }
		ac.ok(&d, "ecr", "describe-images", "--repository-name", "e2e/app", "--image-ids", "imageDigest="+dg)
		if len(d.ImageDetails) != 1 || d.ImageDetails[0].ImageDigest != dg {
			t.Fatalf("describe-images %s: %+v", dg, d.ImageDetails)
		}
		tags := d.ImageDetails[0].ImageTags
		slices.Sort(tags)
		return tags
	}
	r := v2.do("GET", "/v2/e2e/app/manifests/v2", nil, "Accept", mtOCIManifest)
	v2.expect(r, "GET e2e/app:v2", http.StatusOK)
	if r.header.Get("Docker-Content-Digest") != dg {
		t.Fatalf("GET e2e/app:v2: digest %q, want %s", r.header.Get("Docker-Content-Digest"), dg)
	}

	var del struct {
		ImageIds []cliImageID
		Failures []cliFailure
	}
	ac.ok(&del, "ecr", "batch-delete-image", "--repository-name", "e2e/app", "--image-ids", "imageTag=v2", "imageTag=nope")
	if !slices.Equal(del.ImageIds, []cliImageID{{dg, "v2"}}) || len(del.Failures) != 1 ||
		del.Failures[0].ImageId.ImageTag != "nope" || del.Failures[0].FailureCode != "ImageNotFound" {
		t.Fatalf("batch-delete-image v2 nope: %+v", del)
	}
	if tags := tagsOf(); !slices.Equal(tags, []string{"v1"}) {
		t.Fatalf("tags after deleting v2: %q, want [v1]", tags)
	}
	v2.expectNoManifest("e2e/app", "v2")
	v2.expect(v2.do("GET", "/v2/e2e/app/manifests/"+dg, nil, "Accept", mtOCIManifest), "GET by digest while v1 holds it", http.StatusOK)

	del.ImageIds, del.Failures = nil, nil
	ac.ok(&del, "ecr", "batch-delete-image", "--repository-name", "e2e/app", "--image-ids", "imageTag=v1")
	if !slices.Equal(del.ImageIds, []cliImageID{{dg, "v1"}}) || len(del.Failures) != 0 {
		t.Fatalf("batch-delete-image v1: %+v", del)
	}
	ac.fails("ImageNotFoundException", "ecr", "describe-images", "--repository-name", "e2e/app", "--image-ids", "imageDigest="+dg)
	v2.expectNoManifest("e2e/app", dg)
}

// awsImmutable: an IMMUTABLE repository keeps a tag on its first image.
func awsImmutable(t *testing.T, ac *awsCLI, v2 api, b *testenv.Berth) {
	const repo = "e2e/locked"
	var created struct{ Repository cliRepository }
	ac.ok(&created, "ecr", "create-repository", "--repository-name", repo, "--image-tag-mutability", "IMMUTABLE")
	checkCreated(t, b, created.Repository, repo, "IMMUTABLE")
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := makeTar(t, tarFile{name: "b.bin", data: randBytes(t, 2048)})
	cfgDg, layerDg := v2.pushBlob(repo, cfg, 1), v2.pushBlob(repo, layer, 1)
	mk := func(n string) string {
		return string(mustJSON(t, ociManifest{SchemaVersion: 2, MediaType: mtOCIManifest,
			Config:      descriptor{MediaType: mtOCIConfig, Digest: cfgDg, Size: int64(len(cfg))},
			Layers:      []descriptor{{MediaType: mtLayerTar, Digest: layerDg, Size: int64(len(layer))}},
			Annotations: map[string]string{"n": n}}))
	}
	first, second := mk("first"), mk("second")
	var put struct{ Image cliImage }
	ac.ok(&put, "ecr", "put-image", "--repository-name", repo, "--image-tag", "v1", "--image-manifest", first)
	if put.Image.ImageId != (cliImageID{digestOf([]byte(first)), "v1"}) {
		t.Fatalf("put-image: %+v", put.Image.ImageId)
	}
	ac.fails("ImageTagAlreadyExistsException", "ecr", "put-image", "--repository-name", repo, "--image-tag", "v1", "--image-manifest", second)
	r := v2.do("PUT", "/v2/"+repo+"/manifests/v1", []byte(second), "Content-Type", mtOCIManifest)
	expectError(t, "PUT e2e/locked:v1 over /v2", r, []int{http.StatusBadRequest}, "TAG_INVALID")
	r = v2.do("HEAD", "/v2/"+repo+"/manifests/v1", nil, "Accept", mtOCIManifest)
	if r.status != http.StatusOK || r.header.Get("Docker-Content-Digest") != digestOf([]byte(first)) {
		t.Errorf("e2e/locked:v1 after the refused pushes: %d %s, want the first image %s", r.status,
			r.header.Get("Docker-Content-Digest"), digestOf([]byte(first)))
	}
}

// awsPagingLifecycle pushes 120 tagged and 3 untagged images, pages through
// them every way the CLI offers, previews a lifecycle policy, and deletes
// the repository.
func awsPagingLifecycle(t *testing.T, ac *awsCLI, v2 api, b *testenv.Berth) {
	const repo, tagged, untagged, oldest = "e2e/many", 120, 3, 20
	var created struct{ Repository cliRepository }
	ac.ok(&created, "ecr", "create-repository", "--repository-name", repo)
	checkCreated(t, b, created.Repository, repo, "MUTABLE")
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	layer := makeTar(t, tarFile{name: "c.bin", data: randBytes(t, 1024)})
	cfgDg, layerDg := v2.pushBlob(repo, cfg, 1), v2.pushBlob(repo, layer, 1)
	mk := func(n string) []byte {
		return mustJSON(t, ociManifest{SchemaVersion: 2, MediaType: mtOCIManifest,
			Config:      descriptor{MediaType: mtOCIConfig, Digest: cfgDg, Size: int64(len(cfg))},
			Layers:      []descriptor{{MediaType: mtLayerTar, Digest: layerDg, Size: int64(len(layer))}},
			Annotations: map[string]string{"n": n}})
	}
	want := map[cliImageID]bool{} // every (digest, tag) list-images should print once
	tagOf := map[string]string{}  // digest → its tag ("" untagged)
	manifests := map[string][]byte{}
	var expiring []string
	for i := range tagged {
		if i == oldest {
			time.Sleep(1100 * time.Millisecond) // the oldest are older even at 1 s resolution
		}
		tag := fmt.Sprintf("p-%03d", i)
		body := mk(tag)
		dg := v2.putManifest(repo, tag, mtOCIManifest, body)
		want[cliImageID{dg, tag}], tagOf[dg], manifests[tag] = true, tag, body
		if i < oldest {
			expiring = append(expiring, dg)
		}
	}
	for i := range untagged {
		body := mk(fmt.Sprintf("untagged-%d", i))
		dg := v2.putManifest(repo, digestOf(body), mtOCIManifest, body)
		want[cliImageID{ImageDigest: dg}], tagOf[dg] = true, ""
	}

	// The server pages (or the CLI's paging below would prove nothing).
	ctx := testenv.Ctx(t, time.Minute)
	page, err := b.ECR().ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo), MaxResults: aws.Int32(30)})
	if err != nil {
		t.Fatalf("ListImages maxResults 30: %v", err)
	}
	if len(page.ImageIds) != 30 || page.NextToken == nil {
		t.Fatalf("ListImages maxResults 30: %d ids, nextToken %v", len(page.ImageIds), page.NextToken)
	}

	checkIDs := func(what string, ids []cliImageID) {
		t.Helper()
		seen := map[cliImageID]int{}
		for _, id := range ids {
			seen[id]++
		}
		for id, n := range seen {
			if _, ok := want[id]; !ok {
				t.Errorf("%s: unexpected image %+v", what, id)
			} else if n != 1 {
				t.Errorf("%s: %+v printed %d times", what, id, n)
			}
		}
		for id := range want {
			if seen[id] == 0 {
				t.Errorf("%s: %+v missing", what, id)
			}
		}
		if len(ids) != len(want) {
			t.Errorf("%s: %d image ids, want %d", what, len(ids), len(want))
		}
	}
	var list struct {
		ImageIds  []cliImageID
		NextToken string
	}
	ac.ok(&list, "ecr", "list-images", "--repository-name", repo)
	checkIDs("list-images", list.ImageIds)
	list.ImageIds = nil
	ac.ok(&list, "ecr", "list-images", "--repository-name", repo, "--page-size", "30")
	checkIDs("list-images --page-size 30", list.ImageIds)
	var all []cliImageID
	var sizes []int
	for token := ""; ; {
		args := []string{"ecr", "list-images", "--repository-name", repo, "--max-items", "50"}
		if token != "" {
			args = append(args, "--starting-token", token)
		}
		list.ImageIds, list.NextToken = nil, ""
		ac.ok(&list, args...)
		all, sizes = append(all, list.ImageIds...), append(sizes, len(list.ImageIds))
		if token = list.NextToken; token == "" || len(sizes) > 5 {
			break
		}
	}
	if !slices.Equal(sizes, []int{50, 50, 23}) {
		t.Errorf("list-images --max-items 50: pages of %v, want [50 50 23]", sizes)
	}
	checkIDs("list-images --max-items 50", all)

	// describe-images, auto-paginated over pages of 40.
	var details struct{ ImageDetails []cliImageDetail }
	ac.ok(&details, "ecr", "describe-images", "--repository-name", repo, "--page-size", "40")
	var ids []cliImageID
	for _, d := range details.ImageDetails {
		if len(d.ImageTags) > 1 || d.ImageManifestMediaType != mtOCIManifest || d.ImageSizeInBytes <= 0 {
			t.Errorf("describe-images: %+v", d)
		}
		id := cliImageID{ImageDigest: d.ImageDigest}
		if len(d.ImageTags) == 1 {
			id.ImageTag = d.ImageTags[0]
		}
		ids = append(ids, id)
	}
	checkIDs("describe-images --page-size 40", ids)

	// batch-get-image: the manifests as pushed, and a failure for a
	// missing tag.
	var got struct {
		Images   []cliImage
		Failures []cliFailure
	}
	ac.ok(&got, "ecr", "batch-get-image", "--repository-name", repo, "--image-ids", "imageTag=p-000", "imageTag=p-119", "imageTag=nope")
	if len(got.Images) != 2 || len(got.Failures) != 1 || got.Failures[0].ImageId.ImageTag != "nope" || got.Failures[0].FailureCode != "ImageNotFound" {
		t.Fatalf("batch-get-image: %d images, failures %+v", len(got.Images), got.Failures)
	}
	for _, im := range got.Images {
		body := manifests[im.ImageId.ImageTag]
		if im.ImageManifest != string(body) || im.ImageId.ImageDigest != digestOf(body) || im.ImageManifestMediaType != mtOCIManifest ||
			im.RepositoryName != repo {
			t.Errorf("batch-get-image %s: %+v", im.ImageId.ImageTag, im)
		}
	}

	// Lifecycle: untagged images older than a day (none yet) and all but the
	// newest 100 p-* images: the 20 oldest expire in the preview.
	policy := `{"rules":[` +
		`{"rulePriority":1,"description":"untagged after a day","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1},"action":{"type":"expire"}},` +
		`{"rulePriority":2,"description":"keep 100 p-","selection":{"tagStatus":"tagged","tagPrefixList":["p-"],"countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}}]}`
	var lp struct{ RepositoryName, LifecyclePolicyText string }
	ac.ok(&lp, "ecr", "put-lifecycle-policy", "--repository-name", repo, "--lifecycle-policy-text", policy)
	if lp.RepositoryName != repo || lp.LifecyclePolicyText != policy {
		t.Errorf("put-lifecycle-policy printed %+v", lp)
	}
	var start struct{ Status string }
	ac.ok(&start, "ecr", "start-lifecycle-policy-preview", "--repository-name", repo)
	if start.Status != "IN_PROGRESS" && start.Status != "COMPLETE" {
		t.Errorf("start-lifecycle-policy-preview: status %q", start.Status)
	}
	var preview struct {
		Status         string
		PreviewResults []struct {
			ImageTags           []string
			ImageDigest         string
			Action              struct{ Type string }
			AppliedRulePriority int
		}
		Summary struct{ ExpiringImageTotalCount int }
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		preview.PreviewResults = nil
		ac.ok(&preview, "ecr", "get-lifecycle-policy-preview", "--repository-name", repo)
		if preview.Status != "IN_PROGRESS" || time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if preview.Status != "COMPLETE" {
		t.Fatalf("get-lifecycle-policy-preview: status %q, want COMPLETE", preview.Status)
	}
	var expired []string
	for _, p := range preview.PreviewResults {
		expired = append(expired, p.ImageDigest)
		if p.Action.Type != "EXPIRE" || p.AppliedRulePriority != 2 || !slices.Equal(p.ImageTags, []string{tagOf[p.ImageDigest]}) {
			t.Errorf("preview result %+v (want action EXPIRE, rule 2, tags [%s])", p, tagOf[p.ImageDigest])
		}
	}
	slices.Sort(expired)
	slices.Sort(expiring)
	if !slices.Equal(expired, expiring) || preview.Summary.ExpiringImageTotalCount != oldest {
		var tags []string
		for _, d := range expired {
			tags = append(tags, tagOf[d])
		}
		t.Errorf("preview expires %d images %q (summary %d), want p-000…p-019", len(expired), tags, preview.Summary.ExpiringImageTotalCount)
	}
	// A preview deletes nothing.
	n := 0
	for p := ecr.NewListImagesPaginator(b.ECR(), &ecr.ListImagesInput{RepositoryName: aws.String(repo)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListImages: %v", err)
		}
		n += len(out.ImageIds)
	}
	if n != len(want) {
		t.Errorf("after the preview the repository lists %d images, want %d", n, len(want))
	}

	// Deleting the repository: not while it holds images, unless forced.
	ac.fails("RepositoryNotEmptyException", "ecr", "delete-repository", "--repository-name", repo)
	var gone struct{ Repository cliRepository }
	ac.ok(&gone, "ecr", "delete-repository", "--repository-name", repo, "--force")
	if gone.Repository.RepositoryName != repo {
		t.Errorf("delete-repository --force printed %+v", gone.Repository)
	}
	ac.fails("RepositoryNotFoundException", "ecr", "describe-repositories", "--repository-names", repo)
	r := v2.do("GET", "/v2/"+repo+"/manifests/p-119", nil, "Accept", mtOCIManifest)
	expectError(t, "GET a manifest of the deleted repository", r, []int{http.StatusNotFound}, "NAME_UNKNOWN")
}

// awsPolicyTags: repository policy text round-trips; resource tags are
// added, listed and removed on the repository ARN.
func awsPolicyTags(t *testing.T, ac *awsCLI, arn string) {
	policy := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "pull",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
      "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    }
  ]
}`
	var set, get struct{ RegistryId, RepositoryName, PolicyText string }
	ac.ok(&set, "ecr", "set-repository-policy", "--repository-name", "e2e/app", "--policy-text", policy)
	ac.ok(&get, "ecr", "get-repository-policy", "--repository-name", "e2e/app")
	for what, p := range map[string]string{"set-repository-policy": set.PolicyText, "get-repository-policy": get.PolicyText} {
		if p != policy {
			t.Errorf("%s printed policy text\n%s\nwant\n%s", what, p, policy)
		}
	}
	if get.RepositoryName != "e2e/app" || get.RegistryId != "000000000000" {
		t.Errorf("get-repository-policy: %+v", get)
	}

	tags := func() []cliTag {
		var out struct{ Tags []cliTag }
		ac.ok(&out, "ecr", "list-tags-for-resource", "--resource-arn", arn)
		slices.SortFunc(out.Tags, func(a, b cliTag) int { return strings.Compare(a.Key, b.Key) })
		return out.Tags
	}
	// team=berth came with create-repository.
	ac.ok(nil, "ecr", "tag-resource", "--resource-arn", arn, "--tags", "Key=stage,Value=test", "Key=owner,Value=e2e")
	if got := tags(); !slices.Equal(got, []cliTag{{"owner", "e2e"}, {"stage", "test"}, {"team", "berth"}}) {
		t.Errorf("tags after tag-resource: %+v", got)
	}
	ac.ok(nil, "ecr", "untag-resource", "--resource-arn", arn, "--tag-keys", "stage", "owner")
	if got := tags(); !slices.Equal(got, []cliTag{{"team", "berth"}}) {
		t.Errorf("tags after untag-resource: %+v", got)
	}
}
