package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// ---- helpers shared by the IAM scenario tests (prefix sc) -----------------

// scRepoARN is the ARN of a repository of the registry's own account.
func scRepoARN(repo string) string { return "arn:aws:ecr:us-east-1:" + account + ":repository/" + repo }

// scImplicit is AWS's denial for want of an allow; kind is
// "identity-based" or "resource-based".
func scImplicit(who, action, resource, kind string) string {
	return "User: " + who + " is not authorized to perform: " + action + " on resource: " + resource +
		" because no " + kind + " policy allows the " + action + " action"
}

// scExplicit is AWS's denial by a Deny statement of an identity policy.
func scExplicit(who, action, resource string) string {
	return "User: " + who + " is not authorized to perform: " + action + " on resource: " + resource +
		" with an explicit deny in an identity-based policy"
}

// scDockerDir is the DOCKER_CONFIG directory of c.
func scDockerDir(t *testing.T, c *cli) string {
	t.Helper()
	for _, kv := range c.env {
		if dir, ok := strings.CutPrefix(kv, "DOCKER_CONFIG="); ok {
			return dir
		}
	}
	t.Fatal("the cli has no DOCKER_CONFIG")
	return ""
}

// scWriteDockerConfig writes c's Docker config.json.
func scWriteDockerConfig(t *testing.T, c *cli, raw []byte) {
	t.Helper()
	dir := scDockerDir(t, c)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// scRegistryCLI is a cli (private HOME, berth's CA trusted) whose Docker
// config logs in to b as user with password, as `docker login` would.
func scRegistryCLI(t *testing.T, b *testenv.Berth, user, password string) *cli {
	t.Helper()
	c := newCLI(t, b.CACert)
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	scWriteDockerConfig(t, c, mustJSON(t, map[string]any{"auths": map[string]any{b.Addr: map[string]string{"auth": auth}}}))
	return c
}

// scToken is the login password GetAuthorizationToken (SDK) gives the
// holder of the key (session "" for long-lived keys).
func scToken(t *testing.T, b *testenv.Berth, id, secret, session string) string {
	t.Helper()
	user, password := b.Login(testenv.Ctx(t, time.Minute), b.ECRWith(id, secret, session))
	if user != "AWS" || password == "" {
		t.Fatalf("GetAuthorizationToken: user %q", user)
	}
	return password
}

// scImage is an image the admin pushed with crane: one gzip layer.
type scImage struct {
	ref, repo string
	layer     string // the layer's digest
	im        image
}

// scPushImage pushes a one-layer image of about size random bytes to
// b.Addr/repo:tag with crane (admin's Docker config); platform sets the
// config's os/architecture to linux/amd64 (the Docker daemon wants one).
func scPushImage(t *testing.T, admin *cli, crane string, b *testenv.Berth, repo, tag string, size int, platform bool) scImage {
	t.Helper()
	ref := b.Addr + "/" + repo + ":" + tag
	im := newImage(t, admin, size)
	admin.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", ref)
	if platform {
		admin.run(crane, "mutate", "--set-platform", "linux/amd64", ref)
	}
	m := parseManifest(t, []byte(admin.run(crane, "manifest", ref).stdout))
	if len(m.Layers) != 1 {
		t.Fatalf("%s: %d layers, want 1", ref, len(m.Layers))
	}
	return scImage{ref: ref, repo: repo, layer: m.Layers[0].Digest, im: im}
}

// scCranePull runs `crane pull --format oci` of img with c's credentials;
// when it succeeds the pulled layer must be the pushed one, byte for byte
// (else the test fails). The error is crane's, with its output.
func scCranePull(t *testing.T, c *cli, crane string, img scImage) error {
	t.Helper()
	dir := c.path("pull-" + randHex(t, 4))
	if _, err := c.try(crane, "pull", "--format", "oci", img.ref, dir); err != nil {
		return err
	}
	blob := readFile(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(img.layer, "sha256:")))
	img.im.checkGzipLayer(t, "crane pull "+img.ref, blob, img.layer)
	return nil
}

// scWantDenied turns a client's result into an error unless it failed
// with the registry's DENIED and exactly msg (as crane prints it:
// "<METHOD> <url>: DENIED: <message>").
func scWantDenied(err error, msg string) error {
	if err == nil {
		return errors.New("succeeded, want DENIED: " + msg)
	}
	if !strings.Contains(err.Error(), ": DENIED: "+msg+"\n") {
		return fmt.Errorf("want DENIED: %s\ngot: %v", msg, err)
	}
	return nil
}

// scEventually calls f every 100 ms until it returns nil, for at most
// limit; it returns how long that took, or fails the test with f's last
// error.
func scEventually(t *testing.T, what string, limit time.Duration, f func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := f()
		if err == nil {
			d := time.Since(start)
			t.Logf("%s: after %v", what, d.Round(time.Millisecond))
			return d
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v: %v", what, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// scRaw sends one registry request with the given Authorization header
// and nothing else of the test's credentials.
func scRaw(t *testing.T, b *testenv.Berth, method, path, authz string) response {
	t.Helper()
	hc := &http.Client{Timeout: time.Minute}
	if b.CACert != "" {
		hc = clientFor(t, b.CACert)
	}
	a := api{t: t, base: b.URL, c: hc}
	return a.do(method, path, nil, "Authorization", authz, "Accept", mtOCIManifest)
}

// scExpectDenied checks r is 403 with the body {"errors":[{"code":"DENIED",
// "message":msg}]}.
func scExpectDenied(t *testing.T, what string, r response, msg string) {
	t.Helper()
	if r.status != http.StatusForbidden {
		t.Errorf("%s: status %d, want 403: %s", what, r.status, r)
		return
	}
	if code, got := registryError(t, r); code != "DENIED" || got != msg {
		t.Errorf("%s: %s %q\nwant DENIED %q", what, code, got, msg)
	}
}

// scAWSMessage is the message the aws CLI printed for a service error
// ("An error occurred (X) when calling the Y operation: <message>").
func scAWSMessage(stderr string) string {
	_, msg, ok := strings.Cut(stderr, " operation: ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(msg)
}

// scDenied runs an aws command that must fail with exception and exactly
// msg, and returns the message printed.
func scDenied(t *testing.T, a *awsCLI, exception, msg string, args ...string) string {
	t.Helper()
	res := a.fails(exception, args...)
	got := scAWSMessage(res.stderr)
	if got != msg {
		t.Errorf("aws %s:\n got  %q\n want %q", strings.Join(shorten(args), " "), got, msg)
	}
	return got
}

// ---- 2. cross-account pull ------------------------------------------------

// TestIAMCrossAccountPull: a user of account 222222222222 whose identity
// policy allows pulling arn:…:000000000000:repository/shared/* can pull
// only once the repository policy names its account (or itself), and not
// any more once its identity policy is gone; crane on /v2 and the ECR API
// (batch-get-image --registry-id) follow the same rules, in AWS's words.
func TestIAMCrossAccountPull(t *testing.T) {
	t.Parallel()
	const other = "222222222222"
	b := startDiskBerth(t, testenv.BerthOptions{Extra: "iam: {refresh: 1s}\n"})
	crane := goTool(t, "crane")
	admin := newCLI(t, b.CACert).login(b)
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	byAccount := scPushImage(t, admin, crane, b, "shared/by-account", "v1", 64<<10, false)
	byUser := scPushImage(t, admin, crane, b, "shared/by-user", "v1", 64<<10, false)

	b.IAM("create-account", "--account", other, "--name", "team-b")
	identity := `{"Version":"2012-10-17","Statement":[
	  {"Sid":"Login","Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"},
	  {"Sid":"PullShared","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],
	   "Resource":"arn:aws:ecr:us-east-1:000000000000:repository/shared/*"}]}`
	newUser := func(name string) (arn, id, secret string) {
		b.IAM("create-user", "--account", other, "--user", name)
		b.IAM("put-policy", "--account", other, "--user", name, "--name", "pull-shared", "--document", identity)
		id, secret = testenv.ParseKey(b.IAM("create-access-key", "--account", other, "--user", name))
		return "arn:aws:iam::" + other + ":user/" + name, id, secret
	}
	puller, pid, psecret := newUser("puller")
	bystander, oid, osecret := newUser("bystander")
	pc := scRegistryCLI(t, b, "AWS", scToken(t, b, pid, psecret, ""))
	// Cross-account clients (the ECS agent, the credential helper) name
	// the registry they pull from: that changes nothing about the token.
	if out, err := b.ECRWith(pid, psecret, "").GetAuthorizationToken(testenv.Ctx(t, time.Minute),
		//lint:ignore SA1019 the ECS agent and older clients still send registryIds; berth must answer them as ECR does
		&ecr.GetAuthorizationTokenInput{RegistryIds: []string{account}}); err != nil || len(out.AuthorizationData) != 1 {
		t.Errorf("GetAuthorizationToken --registry-ids %s by %s: %v", account, puller, err)
	}
	oc := scRegistryCLI(t, b, "AWS", scToken(t, b, oid, osecret, ""))
	pAWS := adminAWS.as(pid, psecret, "")
	batchGet := []string{"ecr", "batch-get-image", "--registry-id", account, "--repository-name", "shared/by-account", "--image-ids", "imageTag=v1"}

	// No repository policy names account B yet.
	for _, img := range []scImage{byAccount, byUser} {
		if err := scWantDenied(scCranePull(t, pc, crane, img), scImplicit(puller, "ecr:BatchGetImage", scRepoARN(img.repo), "resource-based")); err != nil {
			t.Errorf("crane pull %s before the repository policy: %v", img.repo, err)
		}
	}
	scDenied(t, pAWS, "AccessDeniedException", scImplicit(puller, "ecr:BatchGetImage", scRepoARN("shared/by-account"), "resource-based"), batchGet...)

	repoPolicy := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"TeamB","Effect":"Allow","Principal":{"AWS":"` + principal + `"},
		  "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
	}
	adminAWS.ok(nil, "ecr", "set-repository-policy", "--repository-name", "shared/by-account", "--policy-text", repoPolicy("arn:aws:iam::"+other+":root"))
	adminAWS.ok(nil, "ecr", "set-repository-policy", "--repository-name", "shared/by-user", "--policy-text", repoPolicy(puller))
	scEventually(t, "crane pull shared/by-account once its policy names account "+other, 5*time.Second, func() error {
		return scCranePull(t, pc, crane, byAccount)
	})
	scEventually(t, "crane pull shared/by-user once its policy names the user", 5*time.Second, func() error {
		return scCranePull(t, pc, crane, byUser)
	})
	// The account grant covers every user of B; the user grant only puller.
	if err := scCranePull(t, oc, crane, byAccount); err != nil {
		t.Errorf("another user of %s, repository policy naming the account: %v", other, err)
	}
	if err := scWantDenied(scCranePull(t, oc, crane, byUser), scImplicit(bystander, "ecr:BatchGetImage", scRepoARN("shared/by-user"), "resource-based")); err != nil {
		t.Errorf("another user of %s, repository policy naming puller only: %v", other, err)
	}
	var got struct {
		Images []struct {
			RegistryId, RepositoryName, ImageManifest string
			ImageId                                   struct{ ImageTag string }
		}
		Failures []any
	}
	pAWS.ok(&got, batchGet...)
	if len(got.Images) != 1 || len(got.Failures) != 0 || got.Images[0].RegistryId != account ||
		got.Images[0].RepositoryName != "shared/by-account" || parseManifest(t, []byte(got.Images[0].ImageManifest)).Layers[0].Digest != byAccount.layer {
		t.Errorf("batch-get-image --registry-id %s by %s: %+v", account, puller, got)
	}

	// Without an identity-based allow the repository policy is not enough.
	b.IAM("delete-policy", "--account", other, "--user", "puller", "--name", "pull-shared")
	scEventually(t, "crane pull denied after delete-policy", 5*time.Second, func() error {
		return scWantDenied(scCranePull(t, pc, crane, byAccount), scImplicit(puller, "ecr:BatchGetImage", scRepoARN("shared/by-account"), "identity-based"))
	})
	if err := scWantDenied(scCranePull(t, pc, crane, byUser), scImplicit(puller, "ecr:BatchGetImage", scRepoARN("shared/by-user"), "identity-based")); err != nil {
		t.Errorf("crane pull shared/by-user after delete-policy: %v", err)
	}
	scDenied(t, pAWS, "AccessDeniedException", scImplicit(puller, "ecr:BatchGetImage", scRepoARN("shared/by-account"), "identity-based"), batchGet...)
}

// ---- 3. tag-based deny ------------------------------------------------------

// TestIAMResourceTagDeny: FullAccess plus "Deny ecr:* where
// ecr:ResourceTag/env = prod" denies everything on a repository tagged
// env=prod (API and /v2, as an explicit deny) and nothing on an untagged
// one; removing the tag lifts the deny within seconds.
func TestIAMResourceTagDeny(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	crane := goTool(t, "crane")
	admin := newCLI(t, b.CACert).login(b)
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	prod := scPushImage(t, admin, crane, b, "app/prod", "v1", 32<<10, false)
	dev := scPushImage(t, admin, crane, b, "app/dev", "v1", 32<<10, false)
	prodManifest := admin.run(crane, "manifest", prod.ref).stdout
	devManifest := admin.run(crane, "manifest", dev.ref).stdout

	id, secret := b.NewUser(account, "dev", "AmazonEC2ContainerRegistryFullAccess")
	b.IAM("put-policy", "--user", "dev", "--name", "no-prod", "--document",
		`{"Version":"2012-10-17","Statement":[{"Sid":"DenyProd","Effect":"Deny","Action":"ecr:*","Resource":"*",
		  "Condition":{"StringEquals":{"ecr:ResourceTag/env":"prod"}}}]}`)
	adminAWS.ok(nil, "ecr", "tag-resource", "--resource-arn", scRepoARN("app/prod"), "--tags", "Key=env,Value=prod")
	user := "arn:aws:iam::" + account + ":user/dev"
	password := scToken(t, b, id, secret, "")
	dc := scRegistryCLI(t, b, "AWS", password)
	devAWS := adminAWS.as(id, secret, "")

	scEventually(t, "crane pull of the env=prod repository denied", 5*time.Second, func() error {
		return scWantDenied(scCranePull(t, dc, crane, prod), scExplicit(user, "ecr:BatchGetImage", scRepoARN("app/prod")))
	})
	scExpectDenied(t, "GET manifest of app/prod", scRaw(t, b, "GET", "/v2/app/prod/manifests/v1", basic("AWS", password)),
		scExplicit(user, "ecr:BatchGetImage", scRepoARN("app/prod")))
	scExpectDenied(t, "POST upload to app/prod", scRaw(t, b, "POST", "/v2/app/prod/blobs/uploads/", basic("AWS", password)),
		scExplicit(user, "ecr:InitiateLayerUpload", scRepoARN("app/prod")))
	scExpectDenied(t, "GET layer of app/prod", scRaw(t, b, "GET", "/v2/app/prod/blobs/"+prod.layer, basic("AWS", password)),
		scExplicit(user, "ecr:GetDownloadUrlForLayer", scRepoARN("app/prod")))
	scDenied(t, devAWS, "AccessDeniedException", scExplicit(user, "ecr:DescribeImages", scRepoARN("app/prod")),
		"ecr", "describe-images", "--repository-name", "app/prod")
	scDenied(t, devAWS, "AccessDeniedException", scExplicit(user, "ecr:BatchGetImage", scRepoARN("app/prod")),
		"ecr", "batch-get-image", "--repository-name", "app/prod", "--image-ids", "imageTag=v1")
	scDenied(t, devAWS, "AccessDeniedException", scExplicit(user, "ecr:PutImage", scRepoARN("app/prod")),
		"ecr", "put-image", "--repository-name", "app/prod", "--image-tag", "v2", "--image-manifest", prodManifest)

	// The untagged repository: FullAccess applies.
	if err := scCranePull(t, dc, crane, dev); err != nil {
		t.Errorf("crane pull of the untagged repository: %v", err)
	}
	var imgs struct {
		ImageDetails []struct{ ImageTags []string }
	}
	devAWS.ok(&imgs, "ecr", "describe-images", "--repository-name", "app/dev")
	if len(imgs.ImageDetails) != 1 {
		t.Errorf("describe-images app/dev: %+v", imgs)
	}
	var got struct {
		Images []struct{ ImageManifest string }
	}
	devAWS.ok(&got, "ecr", "batch-get-image", "--repository-name", "app/dev", "--image-ids", "imageTag=v1")
	if len(got.Images) != 1 || got.Images[0].ImageManifest != devManifest {
		t.Errorf("batch-get-image app/dev: %+v", got)
	}
	devAWS.ok(nil, "ecr", "put-image", "--repository-name", "app/dev", "--image-tag", "v2", "--image-manifest", devManifest)

	// Untagging (by the admin) lifts the deny.
	adminAWS.ok(nil, "ecr", "untag-resource", "--resource-arn", scRepoARN("app/prod"), "--tag-keys", "env")
	scEventually(t, "crane pull of app/prod after untag-resource", 5*time.Second, func() error {
		return scCranePull(t, dc, crane, prod)
	})
	devAWS.ok(&imgs, "ecr", "describe-images", "--repository-name", "app/prod")
	if len(imgs.ImageDetails) != 1 {
		t.Errorf("describe-images app/prod after untagging: %+v", imgs)
	}
}

// ---- 4. aws:SourceIp and aws:SecureTransport ------------------------------

// TestIAMSourceIPAndTLS: an allow conditioned on aws:SourceIp in another
// network allows nothing from loopback (API: AccessDeniedException, /v2:
// 403 DENIED) until the policy names loopback; a Deny on
// aws:SecureTransport=false changes nothing over TLS and denies every
// call of a berth serving plain HTTP, on both paths.
func TestIAMSourceIPAndTLS(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	plain := startDiskBerth(t, testenv.BerthOptions{Plain: true})
	crane := goTool(t, "crane")
	admin := newCLI(t, b.CACert).login(b)
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	img := scPushImage(t, admin, crane, b, "net/app", "v1", 16<<10, false)
	newAPI(t, plain).pushImage("net/app", "v1", makeTar(t, tarFile{name: "p.bin", data: randBytes(t, 4096)}), mtLayerTar, 1)
	plainAWS := newAWSCLI(t, newCLI(t, ""), plain)
	plainAWS.endpoint = plain.URL
	manifestPath := "/v2/net/app/manifests/v1"

	// aws:SourceIp.
	ipPolicy := func(cidrs ...string) string {
		return string(mustJSON(t, map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
			map[string]any{"Sid": "FromOffice", "Effect": "Allow", "Resource": "*",
				"Action":    []string{"ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"},
				"Condition": map[string]any{"IpAddress": map[string]any{"aws:SourceIp": cidrs}}},
		}}))
	}
	b.IAM("create-user", "--user", "office")
	b.IAM("put-policy", "--user", "office", "--name", "office-only", "--document", ipPolicy("10.99.0.0/16"))
	oid, osecret := testenv.ParseKey(b.IAM("create-access-key", "--user", "office"))
	office := "arn:aws:iam::" + account + ":user/office"
	opw := scToken(t, b, oid, osecret, "")
	oc := scRegistryCLI(t, b, "AWS", opw)
	oAWS := adminAWS.as(oid, osecret, "")
	scDenied(t, oAWS, "AccessDeniedException", scImplicit(office, "ecr:DescribeImages", scRepoARN("net/app"), "identity-based"),
		"ecr", "describe-images", "--repository-name", "net/app")
	scExpectDenied(t, "GET manifest from outside 10.99.0.0/16", scRaw(t, b, "GET", manifestPath, basic("AWS", opw)),
		scImplicit(office, "ecr:BatchGetImage", scRepoARN("net/app"), "identity-based"))
	if err := scWantDenied(scCranePull(t, oc, crane, img), scImplicit(office, "ecr:BatchGetImage", scRepoARN("net/app"), "identity-based")); err != nil {
		t.Errorf("crane pull from outside 10.99.0.0/16: %v", err)
	}
	b.IAM("put-policy", "--user", "office", "--name", "office-only", "--document", ipPolicy("127.0.0.0/8", "::1/128"))
	scEventually(t, "crane pull once the policy names loopback", 5*time.Second, func() error { return scCranePull(t, oc, crane, img) })
	oAWS.ok(nil, "ecr", "describe-images", "--repository-name", "net/app")

	// aws:SecureTransport: the same user and policy on both berths.
	const denyInsecure = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Action":"ecr:*","Resource":"*",
	  "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	ci := "arn:aws:iam::" + account + ":user/ci"
	type setup struct {
		id, secret, credUser, credPass string
	}
	prepare := func(s *testenv.Berth) setup {
		id, secret := s.NewUser(account, "ci", "AmazonEC2ContainerRegistryReadOnly")
		s.IAM("put-policy", "--user", "ci", "--name", "deny-insecure", "--document", denyInsecure)
		user, pass := scParseCredential(t, s.IAM("create-registry-credential", "--user", "ci", "--registry", s.Addr))
		return setup{id, secret, user, pass}
	}
	tl, pl := prepare(b), prepare(plain)

	// Over TLS the deny does not apply.
	adminAWS.as(tl.id, tl.secret, "").ok(nil, "ecr", "describe-images", "--repository-name", "net/app")
	if err := scCranePull(t, scRegistryCLI(t, b, "AWS", scToken(t, b, tl.id, tl.secret, "")), crane, img); err != nil {
		t.Errorf("crane pull over TLS with ci's login token: %v", err)
	}
	if err := scCranePull(t, scRegistryCLI(t, b, tl.credUser, tl.credPass), crane, img); err != nil {
		t.Errorf("crane pull over TLS with ci's registry credential: %v", err)
	}

	// Over plain HTTP it denies everything: no login token, no API call,
	// no /v2 request (here with a registry credential, which needs no
	// GetAuthorizationToken).
	pAWS := plainAWS.as(pl.id, pl.secret, "")
	scDenied(t, pAWS, "AccessDeniedException", scExplicit(ci, "ecr:DescribeImages", scRepoARN("net/app")),
		"ecr", "describe-images", "--repository-name", "net/app")
	scDenied(t, pAWS, "AccessDeniedException", scExplicit(ci, "ecr:GetAuthorizationToken", "*"), "ecr", "get-login-password")
	scExpectDenied(t, "GET manifest over plain HTTP", scRaw(t, plain, "GET", manifestPath, basic(pl.credUser, pl.credPass)),
		scExplicit(ci, "ecr:BatchGetImage", scRepoARN("net/app")))
	pc := scRegistryCLI(t, plain, pl.credUser, pl.credPass)
	_, err := pc.try(crane, "manifest", plain.Addr+"/net/app:v1")
	if err := scWantDenied(err, scExplicit(ci, "ecr:BatchGetImage", scRepoARN("net/app"))); err != nil {
		t.Errorf("crane manifest over plain HTTP: %v", err)
	}
}

// scParseCredential reads username and password from what `berth iam
// create-registry-credential` printed.
func scParseCredential(t *testing.T, out string) (user, password string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		switch k {
		case "username":
			user = v
		case "password":
			password = v
		}
	}
	if user == "" || password == "" {
		t.Fatalf("create-registry-credential printed no username/password:\n%s", out)
	}
	return user, password
}

// ---- 6. audit log -------------------------------------------------------------

// scAuditEvent is an audit line as a user reads it.
type scAuditEvent struct {
	EventTime, EventSource, EventName, SourceIPAddress string
	UserIdentity                                       struct{ Type, ARN, AccessKeyID string }
	Action                                             string
	Resources                                          []struct{ ARN string }
	Decision, DecidingPolicy, DecidingStatement        string
	ErrorCode, ErrorMessage                            string
}

// TestIAMAuditLog: allowed and denied calls on the ECR API, /v2 and STS
// leave one JSON line each in <data dir>/audit.log, CloudTrail-shaped,
// naming the deciding statement of allows and explicit denies, with the
// client's own error message for denials, and no secret anywhere.
func TestIAMAuditLog(t *testing.T) {
	t.Parallel()
	start := time.Now().Add(-time.Second)
	b := startDiskBerth(t, testenv.BerthOptions{})
	crane := goTool(t, "crane")
	admin := newCLI(t, b.CACert).login(b)
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	app := scPushImage(t, admin, crane, b, "audit/app", "v1", 16<<10, false)
	scPushImage(t, admin, crane, b, "audit/locked", "v1", 16<<10, false)

	id, secret := b.NewUser(account, "auditor", "AmazonEC2ContainerRegistryReadOnly")
	b.IAM("put-policy", "--user", "auditor", "--name", "no-locked", "--document",
		`{"Version":"2012-10-17","Statement":[{"Sid":"NoLockedPulls","Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"`+scRepoARN("audit/locked")+`"}]}`)
	user := "arn:aws:iam::" + account + ":user/auditor"
	b.IAM("create-role", "--role", "audit-reader", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Sid":"Auditor","Effect":"Allow","Principal":{"AWS":"`+user+`"},"Action":"sts:AssumeRole"}]}`)
	b.IAM("create-role", "--role", "builds-only", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	readerARN := "arn:aws:iam::" + account + ":role/audit-reader"
	buildsARN := "arn:aws:iam::" + account + ":role/builds-only"
	readOnly := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	inline := "inline policy no-locked of " + user

	me := adminAWS.as(id, secret, "")
	password := scToken(t, b, id, secret, "")
	mc := scRegistryCLI(t, b, "AWS", password)

	// ECR API: an allow, an implicit deny, an explicit deny.
	me.ok(nil, "ecr", "describe-images", "--repository-name", "audit/app")
	deleteMsg := scDenied(t, me, "AccessDeniedException", scImplicit(user, "ecr:DeleteRepository", scRepoARN("audit/app"), "identity-based"),
		"ecr", "delete-repository", "--repository-name", "audit/app", "--force")
	lockedMsg := scDenied(t, me, "AccessDeniedException", scExplicit(user, "ecr:BatchGetImage", scRepoARN("audit/locked")),
		"ecr", "batch-get-image", "--repository-name", "audit/locked", "--image-ids", "imageTag=v1")
	// /v2: a pull, a denied push start, a denied pull.
	if err := scCranePull(t, mc, crane, app); err != nil {
		t.Fatal(err)
	}
	r := scRaw(t, b, "POST", "/v2/audit/app/blobs/uploads/", basic("AWS", password))
	scExpectDenied(t, "POST upload as auditor", r, scImplicit(user, "ecr:InitiateLayerUpload", scRepoARN("audit/app"), "identity-based"))
	_, uploadMsg := registryError(t, r)
	r = scRaw(t, b, "GET", "/v2/audit/locked/manifests/v1", basic("AWS", password))
	scExpectDenied(t, "GET manifest of audit/locked", r, scExplicit(user, "ecr:BatchGetImage", scRepoARN("audit/locked")))
	_, lockedPullMsg := registryError(t, r)
	// A static registry credential of the same user.
	credUser, credPass := scParseCredential(t, b.IAM("create-registry-credential", "--user", "auditor", "--registry", b.Addr))
	if err := scCranePull(t, scRegistryCLI(t, b, credUser, credPass), crane, app); err != nil {
		t.Fatal(err)
	}
	// STS: an allowed and a refused AssumeRole.
	_, ssecret, stoken := me.assumeRole(readerARN, "audit-session")
	// (The exact STS wording is TestIAMProfileRoleArn's business; here the
	// log must repeat whatever the client was told.)
	assumeMsg := scAWSMessage(me.fails("AccessDenied", "sts", "assume-role", "--role-arn", buildsARN, "--role-session-name", "nope").stderr)
	if !strings.HasPrefix(assumeMsg, "User: "+user+" is not authorized to perform: sts:AssumeRole on resource: "+buildsARN) {
		t.Errorf("assume-role of a role not trusting the user: %q", assumeMsg)
	}

	logPath := filepath.Join(b.DataDir, "audit.log")
	var events []scAuditEvent
	var raw []byte
	scEventually(t, "audit log flushed", 3*time.Second, func() error {
		raw = readFile(t, logPath)
		events = events[:0]
		// Only whole lines: a flush may be under way.
		whole := string(raw[:strings.LastIndex(string(raw), "\n")+1])
		for i, line := range strings.Split(strings.TrimSuffix(whole, "\n"), "\n") {
			if line == "" {
				continue
			}
			var e scAuditEvent
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("audit line %d is not JSON: %v\n%s", i+1, err, line)
			}
			events = append(events, e)
		}
		for _, e := range events {
			if e.EventName == "AssumeRole" && e.Decision == "Deny" {
				return nil
			}
		}
		return errors.New("the denied AssumeRole is not in the log yet")
	})
	if fi, err := os.Stat(logPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log %s: mode %v (%v), want 0600", logPath, fi.Mode().Perm(), err)
	}
	end := time.Now().Add(time.Second)
	for i, e := range events {
		at, err := time.Parse(time.RFC3339Nano, e.EventTime)
		if err != nil || at.Before(start) || at.After(end) {
			t.Errorf("audit line %d: eventTime %q (%v) not within the test", i+1, e.EventTime, err)
		}
		if (e.Decision != "Allow" && e.Decision != "Deny") || e.Action == "" || e.UserIdentity.ARN == "" || e.SourceIPAddress != "127.0.0.1" {
			t.Errorf("audit line %d lacks decision, action, identity or source 127.0.0.1: %+v", i+1, e)
		}
	}
	find := func(what string, want scAuditEvent) {
		t.Helper()
		var hits []scAuditEvent
		for _, e := range events {
			if e.EventSource == want.EventSource && e.EventName == want.EventName && e.UserIdentity.ARN == want.UserIdentity.ARN &&
				(want.UserIdentity.AccessKeyID == "" || e.UserIdentity.AccessKeyID == want.UserIdentity.AccessKeyID) &&
				e.Action == want.Action && len(e.Resources) > 0 && e.Resources[0].ARN == want.Resources[0].ARN && e.Decision == want.Decision {
				hits = append(hits, e)
			}
		}
		if len(hits) != 1 {
			t.Errorf("%s: %d audit lines %s %s %s %s %s, want 1", what, len(hits), want.EventSource, want.EventName, want.UserIdentity.ARN, want.Action, want.Decision)
			return
		}
		h := hits[0]
		if h.DecidingPolicy != want.DecidingPolicy || h.ErrorCode != want.ErrorCode || h.ErrorMessage != want.ErrorMessage ||
			(want.DecidingStatement != "" && h.DecidingStatement != want.DecidingStatement) ||
			(want.DecidingPolicy != "" && h.DecidingStatement == "") || (want.DecidingPolicy == "" && h.DecidingStatement != "") {
			t.Errorf("%s: audit line\n%+v\nwant\n%+v", what, h, want)
		}
	}
	ev := func(source, name, who, action, resource, decision, policy, stmt, code, msg string) scAuditEvent {
		e := scAuditEvent{EventSource: source, EventName: name, Action: action, Decision: decision, DecidingPolicy: policy,
			DecidingStatement: stmt, ErrorCode: code, ErrorMessage: msg}
		e.UserIdentity.ARN = who
		e.Resources = []struct{ ARN string }{{resource}}
		return e
	}
	const srcAPI, reg, stsSrc = "ecr.amazonaws.com", "registry", "sts.amazonaws.com"
	find("describe-images", ev(srcAPI, "DescribeImages", user, "ecr:DescribeImages", scRepoARN("audit/app"), "Allow", readOnly, "", "", ""))
	find("delete-repository", ev(srcAPI, "DeleteRepository", user, "ecr:DeleteRepository", scRepoARN("audit/app"), "Deny", "", "", "AccessDenied", deleteMsg))
	find("batch-get-image of audit/locked", ev(srcAPI, "BatchGetImage", user, "ecr:BatchGetImage", scRepoARN("audit/locked"), "Deny", inline, "NoLockedPulls", "AccessDenied", lockedMsg))
	withKey := func(e scAuditEvent, key string) scAuditEvent { e.UserIdentity.AccessKeyID = key; return e }
	find("crane pull with the login token: manifest", withKey(ev(reg, "GET manifest", user, "ecr:BatchGetImage", scRepoARN("audit/app"), "Allow", readOnly, "", "", ""), id))
	find("crane pull with the registry credential: manifest", withKey(ev(reg, "GET manifest", user, "ecr:BatchGetImage", scRepoARN("audit/app"), "Allow", readOnly, "", "", ""), credUser))
	find("POST upload", ev(reg, "POST blob-upload", user, "ecr:InitiateLayerUpload", scRepoARN("audit/app"), "Deny", "", "", "AccessDenied", uploadMsg))
	find("GET manifest of audit/locked", ev(reg, "GET manifest", user, "ecr:BatchGetImage", scRepoARN("audit/locked"), "Deny", inline, "NoLockedPulls", "AccessDenied", lockedPullMsg))
	find("assume-role audit-reader", ev(stsSrc, "AssumeRole", user, "sts:AssumeRole", readerARN, "Allow", "trust policy of "+readerARN, "Auditor", "", ""))
	find("assume-role builds-only", ev(stsSrc, "AssumeRole", user, "sts:AssumeRole", buildsARN, "Deny", "", "", "AccessDenied", assumeMsg))
	var layerGets int
	for _, e := range events {
		if e.EventSource == reg && e.Action == "ecr:GetDownloadUrlForLayer" && e.Decision == "Allow" && e.UserIdentity.ARN == user {
			layerGets++
		}
	}
	if layerGets == 0 {
		t.Errorf("crane pull: no audit line for its blob GETs")
	}

	for name, s := range map[string]string{
		"admin secret key": b.SecretAccessKey, "admin login password": b.Password, "auditor secret key": secret,
		"auditor login password": password, "session secret key": ssecret, "session token": stoken, "registry credential password": credPass,
	} {
		if s != "" && strings.Contains(string(raw), s) {
			t.Errorf("the audit log contains the %s", name)
		}
	}
}

// ---- 7. declarative identity file ------------------------------------------

// TestIAMDeclarativeFile: the identity file named by iam.file is applied
// at start and on SIGHUP; `berth iam apply` of the same file changes
// nothing, and a file with a malformed policy is refused whole, in IAM's
// words.
func TestIAMDeclarativeFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "iam.yml")
	const v1 = `accounts:
  - id: "000000000000"
    users:
      - name: deployer
        tags: {team: web}
        inline:
          describe:
            Version: "2012-10-17"
            Statement:
              - Sid: Describe
                Effect: Allow
                Action: [ecr:DescribeRepositories]
                Resource: "*"
    roles:
      - name: builder
        trust:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::000000000000:user/deployer"}
              Action: sts:AssumeRole
        policies: [AmazonEC2ContainerRegistryReadOnly, AmazonECSTaskExecutionRolePolicy]
  - id: "444444444444"
    name: team-b
    managed_policies:
      - name: team-pull
        description: pull from the team's repositories
        document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:us-east-1:444444444444:repository/team-b/*"}]}'
    users:
      - name: reader
        policies: [AmazonEC2ContainerRegistryReadOnly, "arn:aws:iam::444444444444:policy/team-pull"]
`
	if err := os.WriteFile(file, []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startDiskBerth(t, testenv.BerthOptions{Extra: fmt.Sprintf("iam: {file: %q}\n", file)})
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	const (
		readOnly  = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
		powerUser = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
		deployer  = "arn:aws:iam::000000000000:user/deployer"
		builder   = "arn:aws:iam::000000000000:role/builder"
		execution = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
		teamPull  = "arn:aws:iam::444444444444:policy/team-pull"
	)
	// list prints KIND ARN ID POLICIES KEYS; row returns the POLICIES of arn.
	row := func(out, kind, arn string) (policies string, ok bool) {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == kind && f[1] == arn {
				if len(f) >= 4 && !strings.HasPrefix(f[3], "AKIA") && !strings.HasPrefix(f[3], "BRC") {
					return f[3], true
				}
				return "", true
			}
		}
		return "", false
	}
	out := b.IAM("list")
	if p, ok := row(out, "user", deployer); !ok || p != "inline:describe" {
		t.Errorf("berth iam list: deployer %v with policies %q, want inline:describe:\n%s", ok, p, out)
	}
	if p, ok := row(out, "role", builder); !ok || p != readOnly+","+execution {
		t.Errorf("berth iam list: builder %v with policies %q, want %s,%s:\n%s", ok, p, readOnly, execution, out)
	}
	other := b.IAM("list", "--account", "444444444444")
	if p, ok := row(other, "user", "arn:aws:iam::444444444444:user/reader"); !ok || p != teamPull+","+readOnly {
		t.Errorf("berth iam list --account 444444444444: reader %v with policies %q, want %s,%s:\n%s", ok, p, teamPull, readOnly, other)
	}
	if _, ok := row(other, "policy", teamPull); !ok {
		t.Errorf("berth iam list --account 444444444444 lacks the managed policy %s:\n%s", teamPull, other)
	}
	// What the file says works: deployer may describe and assume builder.
	did, dsecret := testenv.ParseKey(b.IAM("create-access-key", "--user", "deployer"))
	dAWS := adminAWS.as(did, dsecret, "")
	dAWS.ok(nil, "ecr", "describe-repositories")
	dAWS.assumeRole(builder, "from-file")

	// Edit: a new user, the role's policies changed; SIGHUP applies it.
	v2 := strings.Replace(v1, "        policies: [AmazonEC2ContainerRegistryReadOnly, AmazonECSTaskExecutionRolePolicy]\n",
		"        policies: [AmazonEC2ContainerRegistryPowerUser]\n", 1)
	v2 = strings.Replace(v2, "    roles:\n", "      - name: newcomer\n        policies: [AmazonEC2ContainerRegistryReadOnly]\n    roles:\n", 1)
	if v2 == v1 || strings.Count(v2, "newcomer") != 1 || !strings.Contains(v2, "PowerUser") {
		t.Fatalf("editing the file failed:\n%s", v2)
	}
	if err := os.WriteFile(file, []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	logged := len(b.Log())
	if err := b.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	scEventually(t, "SIGHUP applied the edited file", 5*time.Second, func() error {
		out := b.IAM("list")
		if p, ok := row(out, "user", "arn:aws:iam::000000000000:user/newcomer"); !ok || p != readOnly {
			return fmt.Errorf("newcomer %v policies %q:\n%s", ok, p, out)
		}
		if p, _ := row(out, "role", builder); p != powerUser {
			return fmt.Errorf("builder's policies %q, want %s:\n%s", p, powerUser, out)
		}
		return nil
	})
	scEventually(t, "berth logs what SIGHUP applied", 2*time.Second, func() error {
		if l := b.Log()[logged:]; !strings.Contains(l, "identity file applied") || !strings.Contains(l, "created=1 updated=1") {
			return errors.New("no \"identity file applied … created=1 updated=1\" in berth's log")
		}
		return nil
	})
	before := b.IAM("list")

	// Apply twice: nothing more to do.
	for i := 0; i < 2; i++ {
		_, stderr, err := b.TryIAM("apply", "--file", file)
		if err != nil || !strings.Contains(stderr, "applied "+file+": 0 created, 0 updated") {
			t.Errorf("berth iam apply of the applied file (%d): %v\n%s", i+1, err, stderr)
		}
	}

	// A malformed policy: refused by `berth iam apply` and by SIGHUP, and
	// nothing of the file is applied.
	bad := strings.Replace(v2, "              - Sid: Describe\n",
		"              - Sid: Describe\n                Principal: \"*\"\n", 1)
	bad = strings.Replace(bad, "      - name: newcomer\n", "      - name: intruder\n      - name: newcomer\n", 1)
	badPath := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(badPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := b.TryIAM("apply", "--file", badPath)
	if err == nil || !strings.Contains(stderr, "Policy document should not specify a principal.") {
		t.Errorf("berth iam apply of a policy with a Principal: %v, want MalformedPolicyDocument's \"Policy document should not specify a principal.\":\n%s", err, stderr)
	}
	if err := os.WriteFile(file, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	scEventually(t, "SIGHUP with the malformed file logged", 5*time.Second, func() error {
		if !strings.Contains(b.Log(), "identity file not applied") {
			return errors.New("no \"identity file not applied\" in berth's log")
		}
		return nil
	})
	if after := b.IAM("list"); after != before {
		t.Errorf("the malformed file changed identities:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	dAWS.ok(nil, "ecr", "describe-repositories")
}

// ---- 8. role_arn profiles ------------------------------------------------------

// TestIAMProfileRoleArn: an aws CLI profile with role_arn and
// source_profile assumes the role through berth's STS by itself and signs
// ECR calls with the session.
func TestIAMProfileRoleArn(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	adminAWS.ok(nil, "ecr", "create-repository", "--repository-name", "profile/app")
	b.IAM("create-user", "--user", "base")
	bid, bsecret := testenv.ParseKey(b.IAM("create-access-key", "--user", "base"))
	baseARN := "arn:aws:iam::" + account + ":user/base"
	roleARN := "arn:aws:iam::" + account + ":role/ci"
	b.IAM("create-role", "--role", "ci", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+baseARN+`"},"Action":"sts:AssumeRole"}]}`)
	b.IAM("attach-policy", "--role", "ci", "--policy", "AmazonEC2ContainerRegistryReadOnly")
	deployARN := "arn:aws:iam::" + account + ":role/deploy"
	b.IAM("create-role", "--role", "deploy", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	b.IAM("attach-policy", "--role", "deploy", "--policy", "AmazonEC2ContainerRegistryPowerUser")

	// The user's files, as `aws configure` leaves them, plus the profile.
	ac := adminAWS.with(t)
	c := *ac.c
	home := ""
	for _, kv := range c.env {
		if h, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = h
		}
	}
	creds := "[base]\naws_access_key_id = " + bid + "\naws_secret_access_key = " + bsecret + "\n"
	conf := "[profile base]\nregion = us-east-1\noutput = json\nmax_attempts = 1\n\n" +
		"[profile ci]\nrole_arn = " + roleARN + "\nsource_profile = base\nregion = us-east-1\noutput = json\nmax_attempts = 1\n\n" +
		"[profile deploy]\nrole_arn = " + deployARN + "\nsource_profile = base\nregion = us-east-1\noutput = json\nmax_attempts = 1\n"
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	// The assume-role provider's STS client is not told --endpoint-url;
	// AWS_ENDPOINT_URL sends it (and every other client) to berth.
	c.env = append(c.env, "AWS_ENDPOINT_URL="+b.URL)
	ac.c = &c

	var who struct{ Arn string }
	ac.ok(&who, "--profile", "ci", "sts", "get-caller-identity")
	prefix := "arn:aws:sts::" + account + ":assumed-role/ci/"
	if !strings.HasPrefix(who.Arn, prefix) {
		t.Fatalf("get-caller-identity --profile ci: %q, want %s<session>", who.Arn, prefix)
	}
	var repos struct {
		Repositories []struct{ RepositoryName string }
	}
	ac.ok(&repos, "--profile", "ci", "ecr", "describe-repositories")
	if len(repos.Repositories) != 1 || repos.Repositories[0].RepositoryName != "profile/app" {
		t.Errorf("describe-repositories --profile ci: %+v", repos)
	}
	// The session is the role's: it may not delete; base itself may not
	// even describe.
	scDenied(t, ac, "AccessDeniedException", scImplicit(who.Arn, "ecr:DeleteRepository", scRepoARN("profile/app"), "identity-based"),
		"--profile", "ci", "ecr", "delete-repository", "--repository-name", "profile/app")
	scDenied(t, ac, "AccessDeniedException", scImplicit(baseARN, "ecr:DescribeRepositories", scRepoARN("*"), "identity-based"),
		"--profile", "base", "ecr", "describe-repositories")
	// A profile whose role does not trust base: the CLI reports STS's
	// refusal of the automatic AssumeRole, in STS's words (which name no
	// reason, unlike ECR's).
	res := ac.fails("AccessDenied", "--profile", "deploy", "ecr", "describe-repositories")
	if !strings.Contains(res.stderr, "when calling the AssumeRole operation") {
		t.Errorf("--profile deploy: the failure is not the AssumeRole's:\n%s", res.stderr)
	}
	if got, want := scAWSMessage(res.stderr), "User: "+baseARN+" is not authorized to perform: sts:AssumeRole on resource: "+deployARN; got != want {
		t.Errorf("--profile deploy (trust names only codebuild.amazonaws.com):\n got  %q\n want %q", got, want)
	}
}
