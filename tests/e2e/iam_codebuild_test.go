package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestIAMCodeBuildPush is the CodeBuild path: the CI system holds a
// service credential for codebuild.amazonaws.com, assumes the project's
// service role (trusting that service, with AmazonEC2ContainerRegistry-
// PowerUser) with `aws sts assume-role`, logs Docker in with
// get-login-password and pushes; the role may not delete the repository,
// and the CLI says why in AWS's words.
func TestIAMCodeBuildPush(t *testing.T) {
	t.Parallel()
	docker, noDocker := dockerDaemon(t)
	o := testenv.BerthOptions{StrictECR: true}
	if docker != "" {
		o.ListenIP, o.Host = "::1", loopbackName(t)
	}
	b := startDiskBerth(t, o)
	admin := newAWSCLI(t, newCLI(t, b.CACert), b)
	admin.ok(nil, "ecr", "create-repository", "--repository-name", "ci/web")

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	b.IAM("create-role", "--role", "codebuild-web", "--trust", trust)
	b.IAM("attach-policy", "--role", "codebuild-web", "--policy", "AmazonEC2ContainerRegistryPowerUser")
	svcID, svcSecret := testenv.ParseKey(b.IAM("create-service-key", "--service", "codebuild.amazonaws.com"))
	roleARN := "arn:aws:iam::" + account + ":role/codebuild-web"

	ci := admin.as(svcID, svcSecret, "")
	// The service credential itself can do nothing but assume the role.
	ci.fails("AccessDeniedException", "ecr", "describe-repositories")
	session := "AWSCodeBuild-" + randHex(t, 8)
	id, secret, token := ci.assumeRole(roleARN, session)
	build := admin.as(id, secret, token)
	var who struct{ Arn, Account, UserId string }
	build.ok(&who, "sts", "get-caller-identity")
	sessionARN := "arn:aws:sts::" + account + ":assumed-role/codebuild-web/" + session
	if who.Arn != sessionARN || who.Account != account || !strings.HasPrefix(who.UserId, "AROA") || !strings.HasSuffix(who.UserId, ":"+session) {
		t.Errorf("get-caller-identity as the build = %+v, want Arn %s", who, sessionARN)
	}

	res := build.fails("AccessDeniedException", "ecr", "delete-repository", "--repository-name", "ci/web", "--force")
	want := "User: " + sessionARN + " is not authorized to perform: ecr:DeleteRepository on resource: arn:aws:ecr:us-east-1:" +
		account + ":repository/ci/web because no identity-based policy allows the ecr:DeleteRepository action"
	if !strings.Contains(res.stderr, want) {
		t.Errorf("delete-repository as the build: stderr\n%s\nlacks\n%s", res.stderr, want)
	}
	// Another principal's key cannot assume the role: its trust names the
	// service only.
	userID, userSecret := b.NewUser(account, "dev", "AmazonEC2ContainerRegistryFullAccess")
	res = admin.as(userID, userSecret, "").fails("AccessDenied", "sts", "assume-role", "--role-arn", roleARN, "--role-session-name", "x1")
	if want := "User: arn:aws:iam::" + account + ":user/dev is not authorized to perform: sts:AssumeRole on resource: " + roleARN; !strings.Contains(res.stderr, want) {
		t.Errorf("assume-role by a user the trust does not name: stderr %q lacks %q", res.stderr, want)
	}

	if docker == "" {
		t.Skip(noDocker)
	}
	reg := b.Addr
	c := build.c
	certs := filepath.Join("/etc/docker/certs.d", reg)
	if err := os.MkdirAll(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(certs) })
	if err := os.WriteFile(filepath.Join(certs, "ca.crt"), readFile(t, b.CACert), 0o644); err != nil {
		t.Fatal(err)
	}
	// Docker keeps logins in $DOCKER_CONFIG: a private one per test.
	c.env = append(c.env, "DOCKER_CONFIG="+c.path("docker"))
	login := fmt.Sprintf("set -o pipefail; '%s' ecr get-login-password --endpoint-url %s | '%s' login --username AWS --password-stdin %s",
		build.bin, build.endpoint, docker, reg)
	if out := c.run("bash", "-c", login).stdout; !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login as the build: %s", out)
	}
	data := randBytes(t, 32<<10)
	local := "berth-e2e/codebuild:" + randHex(t, 6)
	ref := reg + "/ci/web:build-1"
	t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", local, ref).Run() })
	c.run(docker, "import", c.write("rootfs.tar", makeTar(t, tarFile{name: "app.bin", data: data})), local)
	c.run(docker, "tag", local, ref)
	c.run(docker, "push", ref)
	var d struct{ ImageDetails []cliImageDetail }
	admin.ok(&d, "ecr", "describe-images", "--repository-name", "ci/web", "--image-ids", "imageTag=build-1")
	if len(d.ImageDetails) != 1 {
		t.Fatalf("describe-images after the build's push: %+v", d.ImageDetails)
	}
	// A repository the build role may push to but which does not exist:
	// ECR's NAME_UNKNOWN, not a denial.
	c.run(docker, "tag", local, reg+"/ci/missing:1")
	if r, err := c.try(docker, "push", reg+"/ci/missing:1"); err == nil || !strings.Contains(r.stderr+r.stdout, "does not exist") {
		t.Errorf("docker push to a missing repository: %v\n%s%s", err, r.stdout, r.stderr)
	}
	_ = exec.Command(docker, "rmi", "-f", reg+"/ci/missing:1").Run()
}
