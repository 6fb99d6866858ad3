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
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestIAMECSExecutionRole is the ECS task execution path: the ECS service
// (a service credential for ecs-tasks.amazonaws.com) assumes
// ecsTaskExecutionRole (AmazonECSTaskExecutionRolePolicy), gets a login
// token with the session's credentials as the agent does
// (GetAuthorizationToken with the registry id), and pulls the admin's
// image with crane and with containerd's ctr; the role may not push, and
// both crane and the raw /v2 answer say why in AWS's words.
func TestIAMECSExecutionRole(t *testing.T) {
	t.Parallel()
	ctrBin := sysTool(t, "ctr")
	b := startDiskBerth(t, testenv.BerthOptions{})
	crane := goTool(t, "crane")
	admin := newCLI(t, b.CACert).login(b)
	adminAWS := newAWSCLI(t, newCLI(t, b.CACert), b)
	img := scPushImage(t, admin, crane, b, "ecs/web", "v1", 256<<10, false)

	b.IAM("create-role", "--role", "ecsTaskExecutionRole", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	b.IAM("attach-policy", "--role", "ecsTaskExecutionRole", "--policy", "AmazonECSTaskExecutionRolePolicy")
	svcID, svcSecret := testenv.ParseKey(b.IAM("create-service-key", "--service", "ecs-tasks.amazonaws.com"))
	roleARN := "arn:aws:iam::" + account + ":role/ecsTaskExecutionRole"
	session := randHex(t, 16) // ECS names the session after the task id
	id, secret, token := adminAWS.as(svcID, svcSecret, "").assumeRole(roleARN, session)
	sessionARN := "arn:aws:sts::" + account + ":assumed-role/ecsTaskExecutionRole/" + session

	// The agent asks for exactly one authorization for the registry id.
	ctx := testenv.Ctx(t, time.Minute)
	//lint:ignore SA1019 the ECS agent and older clients still send registryIds; berth must answer them as ECR does
	out, err := b.ECRWith(id, secret, token).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{account}})
	if err != nil || len(out.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken as the execution role: %v %+v", err, out)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	user, password, ok := strings.Cut(string(raw), ":")
	if err != nil || !ok || user != "AWS" {
		t.Fatalf("authorizationToken does not decode to AWS:<password>: %v", err)
	}

	tc := scRegistryCLI(t, b, "AWS", password)
	if err := scCranePull(t, tc, crane, img); err != nil {
		t.Fatalf("crane pull with the execution role's token: %v", err)
	}

	sock := startContainerd(t)
	sysOnly := newCLI(t, "")
	hosts := hostsDir(t, b.Addr, b.CACert)
	ctr := func(args ...string) cmdResult {
		t.Helper()
		res, err := sysOnly.try(ctrBin, append([]string{"--address", sock, "--namespace", "ecs"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	ctr("images", "pull", "--user", "AWS:"+password, "--hosts-dir", hosts, img.ref)
	img.im.checkGzipLayer(t, "ctr content get (layer)", []byte(ctr("content", "get", img.layer).stdout), img.layer)

	// Pushing needs ecr:InitiateLayerUpload, which the role lacks.
	want := scImplicit(sessionARN, "ecr:InitiateLayerUpload", scRepoARN("ecs/web"), "identity-based")
	im2 := newImage(t, tc, 4096)
	_, err = tc.try(crane, "append", "--oci-empty-base", "-f", im2.tarPath, "-t", b.Addr+"/ecs/web:pushed")
	if e := scWantDenied(err, want); e != nil {
		t.Errorf("crane append as the execution role: %v", e)
	}
	scExpectDenied(t, "POST /v2/ecs/web/blobs/uploads/ with the role's token",
		scRaw(t, b, "POST", "/v2/ecs/web/blobs/uploads/", basic("AWS", password)), want)
	if r := scRaw(t, b, "GET", "/v2/ecs/web/manifests/pushed", b.BasicAuth()); r.status != http.StatusNotFound {
		t.Errorf("the refused push left a tag: GET manifest ecs/web:pushed as admin: %s", r)
	}
}

// TestIAMECSStaticCredential is the ECS EC2-launch path for a registry the
// control plane does not treat as ECR: `berth iam create-registry-
// credential --role ecsInstancePull` prints the ECS_ENGINE_AUTH_TYPE /
// ECS_ENGINE_AUTH_DATA lines, which as a Docker config let docker and
// crane pull (but not push, denied naming the role session of the
// credential); deleting the credential locks it out within seconds.
func TestIAMECSStaticCredential(t *testing.T) {
	t.Parallel()
	docker, noDocker := dockerDaemon(t)
	o := testenv.BerthOptions{}
	if docker != "" {
		o.ListenIP, o.Host = "::1", loopbackName(t)
	}
	b := startDiskBerth(t, o)
	crane := goTool(t, "crane")
	admin := newCLI(t, b.CACert).login(b)
	img := scPushImage(t, admin, crane, b, "ecs/app", "v1", 128<<10, true)

	b.IAM("create-role", "--role", "ecsInstancePull", "--trust",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	b.IAM("attach-policy", "--role", "ecsInstancePull", "--policy", "AmazonEC2ContainerRegistryReadOnly")
	out := b.IAM("create-registry-credential", "--role", "ecsInstancePull", "--registry", b.Addr)
	user, password := scParseCredential(t, out)
	var authType, authData string
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, "ECS_ENGINE_AUTH_TYPE="); ok {
			authType = v
		}
		if v, ok := strings.CutPrefix(line, "ECS_ENGINE_AUTH_DATA="); ok {
			authData = v
		}
	}
	if authType != "dockercfg" {
		t.Errorf("ECS_ENGINE_AUTH_TYPE=%q, want dockercfg:\n%s", authType, out)
	}
	var data map[string]map[string]*string
	if err := json.Unmarshal([]byte(authData), &data); err != nil {
		t.Fatalf("ECS_ENGINE_AUTH_DATA is not JSON: %v\n%s", err, out)
	}
	entry, ok := data["https://"+b.Addr]
	wantAuth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	if len(data) != 1 || !ok || entry["auth"] == nil || *entry["auth"] != wantAuth || entry["email"] == nil || *entry["email"] != "" || len(entry) != 2 {
		t.Errorf("ECS_ENGINE_AUTH_DATA=%s, want {\"https://%s\":{\"auth\":base64(username:password),\"email\":\"\"}}", authData, b.Addr)
	}

	// The agent hands ECS_ENGINE_AUTH_DATA to Docker as the "auths" of a
	// config.json.
	ec := newCLI(t, b.CACert)
	scWriteDockerConfig(t, ec, []byte(`{"auths": `+authData+`}`))
	if err := scCranePull(t, ec, crane, img); err != nil {
		t.Fatalf("crane pull with the ECS credential: %v", err)
	}
	sessionARN := "arn:aws:sts::" + account + ":assumed-role/ecsInstancePull/" + user
	want := scImplicit(sessionARN, "ecr:InitiateLayerUpload", scRepoARN("ecs/app"), "identity-based")
	im2 := newImage(t, ec, 4096)
	_, err := ec.try(crane, "append", "--oci-empty-base", "-f", im2.tarPath, "-t", b.Addr+"/ecs/app:pushed")
	if e := scWantDenied(err, want); e != nil {
		t.Errorf("crane append with the ECS credential: %v", e)
	}
	scExpectDenied(t, "POST upload with the ECS credential", scRaw(t, b, "POST", "/v2/ecs/app/blobs/uploads/", basic(user, password)), want)

	t.Run("docker", func(t *testing.T) {
		if docker == "" {
			t.Skip(noDocker)
		}
		certs := filepath.Join("/etc/docker/certs.d", b.Addr)
		if err := os.MkdirAll(certs, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(certs) })
		if err := os.WriteFile(filepath.Join(certs, "ca.crt"), readFile(t, b.CACert), 0o644); err != nil {
			t.Fatal(err)
		}
		dc := ec.with(t)
		t.Cleanup(func() { _ = exec.Command(docker, "rmi", "-f", img.ref).Run() })
		dc.run(docker, "pull", img.ref)
		var got struct {
			RepoDigests []string
			RootFS      struct{ Layers []string }
		}
		inspect(t, dc, docker, img.ref, &got)
		if !slices.Equal(got.RootFS.Layers, []string{digestOf(img.im.layerTar)}) {
			t.Errorf("docker pull: layers %q, want the diff ID %s of the pushed layer", got.RootFS.Layers, digestOf(img.im.layerTar))
		}
	})

	b.IAM("delete-registry-credential", "--id", user)
	scEventually(t, "the deleted credential refused", 6*time.Second, func() error {
		if r := scRaw(t, b, "GET", "/v2/", basic(user, password)); r.status != http.StatusUnauthorized {
			return fmt.Errorf("GET /v2/ with the deleted credential: %s", r)
		}
		return nil
	})
	r := scRaw(t, b, "GET", "/v2/ecs/app/manifests/v1", basic(user, password))
	if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("Www-Authenticate"), "Basic realm=") || string(r.body) != "Not Authorized\n" {
		t.Errorf("GET manifest with the deleted credential: want ECR's 401 challenge, got %s %v", r, r.header)
	}
	if err := scCranePull(t, ec, crane, img); err == nil || !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("crane pull with the deleted credential: want 401 Unauthorized, got %v", err)
	}
	if l := b.IAM("list"); strings.Contains(l, user) {
		t.Errorf("berth iam list still shows the deleted credential %s:\n%s", user, l)
	}
}
