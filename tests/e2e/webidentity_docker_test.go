package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/auth/oidc/oidctest"
	"github.com/berth-registry/berth/internal/testenv"
)

// TestWebIdentityDockerPush is a CI job with no stored secret pushing
// with Docker: the aws CLI holds only an OIDC token file (IRSA's
// AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, as configure-aws-credentials
// and EKS set them), exchanges it with AssumeRoleWithWebIdentity, and
// `aws ecr get-login-password` under that session logs Docker in; the
// image goes up with `docker push` and comes back with `docker pull`,
// digest and bytes the same.
func TestWebIdentityDockerPush(t *testing.T) {
	t.Parallel()
	docker, noDocker := dockerDaemon(t)
	if docker == "" {
		t.Skip(noDocker)
	}
	is := oidctest.New(t, "")
	caFile := is.CAFile(t, t.TempDir())
	// The daemon verifies TLS only off 127.0.0.0/8 (see TestDocker).
	b := startDiskBerth(t, testenv.BerthOptions{ListenIP: "::1", Host: loopbackName(t), Extra: "iam: {oidc_ca_file: " + caFile + "}"})
	admin := newAWSCLI(t, newCLI(t, b.CACert), b)
	admin.ok(nil, "ecr", "create-repository", "--repository-name", "gha/app")
	b.IAM("create-oidc-provider", "--url", is.URL, "--client-id", "sts.amazonaws.com")
	provARN := "arn:aws:iam::" + account + ":oidc-provider/" + is.Host()
	roleARN := "arn:aws:iam::" + account + ":role/gha"
	b.IAM("create-role", "--role", "gha", "--trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+provARN+
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"`+is.Host()+`:aud":"sts.amazonaws.com"},"StringLike":{"`+is.Host()+`:sub":"repo:org/app:*"}}}]}`)
	b.IAM("attach-policy", "--role", "gha", "--policy", "AmazonEC2ContainerRegistryPowerUser")

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(is.Mint(t, is.GitHubClaims("org/app"))), 0o600); err != nil {
		t.Fatal(err)
	}
	ci := admin.with(t)
	c := *ci.c
	c.env = append(append([]string(nil), c.env...), "AWS_ROLE_ARN="+roleARN, "AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile,
		"AWS_ROLE_SESSION_NAME=GitHubActions", "AWS_ENDPOINT_URL="+b.URL, "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"DOCKER_CONFIG="+c.path("docker")) // Docker keeps logins there: a private one
	ci.c = &c
	var who struct{ Arn string }
	ci.ok(&who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:sts::"+account+":assumed-role/gha/GitHubActions" {
		t.Fatalf("get-caller-identity with only a web identity token: %q", who.Arn)
	}

	reg := b.Addr
	certs := filepath.Join("/etc/docker/certs.d", reg)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certs) })
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), readFile(t, b.CACert), 0o644); err != nil {
		t.Fatal(err)
	}
	login := fmt.Sprintf("set -o pipefail; '%s' ecr get-login-password --endpoint-url %s | '%s' login --username AWS --password-stdin %s",
		ci.bin, ci.endpoint, docker, reg)
	if out := c.run("bash", "-c", login).stdout; !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login with the web identity session's password: %s", out)
	}

	data := randBytes(t, 48<<10)
	local := "berth-e2e/webidentity:" + randHex(t, 6)
	name := reg + "/gha/app"
	ref := name + ":" + randHex(t, 4)
	t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", local, ref).Run() })
	c.run(docker, "import", c.write("rootfs.tar", makeTar(t, tarFile{name: "app.bin", data: data})), local)
	c.run(docker, "tag", local, ref)
	c.run(docker, "push", ref)
	var before struct {
		ID          string
		RepoDigests []string
	}
	inspect(t, &c, docker, ref, &before)
	if len(before.RepoDigests) != 1 {
		t.Fatalf("after push: RepoDigests %q", before.RepoDigests)
	}
	dg := strings.TrimPrefix(before.RepoDigests[0], name+"@")
	tag := strings.TrimPrefix(ref, name+":")
	var d struct{ ImageDetails []cliImageDetail }
	admin.ok(&d, "ecr", "describe-images", "--repository-name", "gha/app", "--image-ids", "imageTag="+tag)
	if len(d.ImageDetails) != 1 || d.ImageDetails[0].ImageDigest != dg {
		t.Fatalf("describe-images gha/app:%s = %+v, docker pushed %s", tag, d.ImageDetails, dg)
	}

	c.run(docker, "rmi", local, ref)
	c.run(docker, "pull", ref)
	var after struct {
		ID          string
		RepoDigests []string
	}
	inspect(t, &c, docker, ref, &after)
	if after.ID != before.ID || len(after.RepoDigests) != 1 || after.RepoDigests[0] != before.RepoDigests[0] {
		t.Fatalf("pulled %s %q, pushed %s %q", after.ID, after.RepoDigests, before.ID, before.RepoDigests)
	}
	save := c.path("saved.tar")
	c.run(docker, "save", "-o", save, ref)
	files := tarFiles(t, readFile(t, save))
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) != 1 {
		t.Fatalf("docker save manifest.json: %v %s", err, files["manifest.json"])
	}
	sameBytes(t, "pulled app.bin", tarEntry(t, files[manifest[0].Layers[0]], "app.bin"), data)
}
