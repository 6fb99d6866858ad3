package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/testenv"
)

// The registry's answers in ECR's words.
const (
	msgExpired    = "Your authorization token has expired. Reauthenticate and try again."
	msgBadSig     = "The request signature we calculated does not match the signature you provided."
	msgUnknownKey = "The security token included in the request is invalid."
)

// startDiskBerth starts berth on disk with o and watches its log.
func startDiskBerth(t *testing.T, o testenv.BerthOptions) *testenv.Berth {
	t.Helper()
	b := testenv.StartBerth(t, o)
	watchLog(t, b)
	return b
}

// defaultProxyEndpoint is https://<public host> of a berth on a loopback
// address without ecr.public_host: localhost and its port.
func defaultProxyEndpoint(b *testenv.Berth) string {
	_, port, _ := net.SplitHostPort(b.Addr)
	return "https://localhost:" + port
}

// basic is a Basic Authorization header value.
func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// rawGet sends GET path with the given Authorization header (none when
// empty) and no other credentials.
func rawGet(t *testing.T, b *testenv.Berth, path, authz string) response {
	t.Helper()
	a := api{t: t, base: b.URL, c: clientFor(t, b.CACert)}
	if authz == "" {
		return a.do("GET", path, nil)
	}
	return a.do("GET", path, nil, "Authorization", authz, "Accept", mtOCIManifest)
}

// registryError is the first error of a registry error body.
func registryError(t *testing.T, r response) (code, message string) {
	t.Helper()
	var e struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.Unmarshal(r.body, &e); err != nil || len(e.Errors) == 0 {
		t.Fatalf("not a registry error body: %s", r)
	}
	return e.Errors[0].Code, e.Errors[0].Message
}

// expectChallenge checks r is ECR's answer to a request without valid
// credentials, byte for byte.
func expectChallenge(t *testing.T, what string, r response, proxyEndpoint string) {
	t.Helper()
	want := map[string]string{
		"Www-Authenticate":                `Basic realm="` + proxyEndpoint + `/",service="ecr.amazonaws.com"`,
		"Docker-Distribution-Api-Version": "registry/2.0",
		"Content-Type":                    "text/plain; charset=utf-8",
	}
	if r.status != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401: %s", what, r.status, r)
		return
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s: %s %q, want %q", what, k, got, v)
		}
	}
	if string(r.body) != "Not Authorized\n" {
		t.Errorf("%s: body %q, want %q", what, r.body, "Not Authorized\n")
	}
}

// TestECRRegistryAuth: /v2 answers like ECR — a Basic challenge naming the
// public host without (valid) credentials, 200 with the user AWS and a
// login token.
func TestECRRegistryAuth(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	ctx := testenv.Ctx(t, time.Minute)
	out, err := b.ECR().GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	ad := out.AuthorizationData[0]
	pe := aws.ToString(ad.ProxyEndpoint)
	if pe != defaultProxyEndpoint(b) {
		t.Errorf("proxyEndpoint %q, want %s (the default public host)", pe, defaultProxyEndpoint(b))
	}
	token := aws.ToString(ad.AuthorizationToken)
	raw, _ := base64.StdEncoding.DecodeString(token)
	user, password, _ := strings.Cut(string(raw), ":")

	for _, c := range []struct{ name, path, authz string }{
		{"no credentials", "/v2/", ""},
		{"no credentials, a manifest", "/v2/e2e/auth/manifests/latest", ""},
		{"wrong password", "/v2/", basic("AWS", "not-a-token")},
		{"tampered token", "/v2/", basic("AWS", password[:len(password)-4]+"AAAA")},
		{"another user", "/v2/", basic("admin", password)},
		{"token as bearer", "/v2/", "Bearer " + password},
		{"access key as credentials", "/v2/", basic(b.AccessKeyID, b.SecretAccessKey)},
	} {
		t.Run(c.name, func(t *testing.T) {
			expectChallenge(t, c.name, rawGet(t, b, c.path, c.authz), pe)
		})
	}
	for _, c := range []struct{ name, authz string }{
		{"AWS and the token", basic(user, password)},
		{"the authorizationToken as is", "Basic " + token},
	} {
		r := rawGet(t, b, "/v2/", c.authz)
		if r.status != http.StatusOK || r.header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
			t.Errorf("GET /v2/ with %s: %s %v", c.name, r, r.header)
		}
	}
}

// TestECRStrictPush: without a creation template a push to a missing
// repository is NAME_UNKNOWN, as on ECR; with a CREATE_ON_PUSH template the
// same push creates it. Pulls never create repositories.
func TestECRStrictPush(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{StrictECR: true})
	crane := goTool(t, "crane")
	ctx := testenv.Ctx(t, time.Minute)
	c := newCLI(t, b.CACert).login(b)
	a := newAPI(t, b)
	wantMsg := func(repo string) string {
		return "The repository with name '" + repo + "' does not exist in the registry with id '000000000000'"
	}
	for _, req := range []struct{ method, path string }{
		{"POST", "/v2/e2e/strict/blobs/uploads/"},
		{"GET", "/v2/e2e/strict/manifests/v1"},
		{"HEAD", "/v2/e2e/strict/blobs/sha256:" + strings.Repeat("0", 64)},
	} {
		r := a.do(req.method, req.path, nil)
		if r.status != http.StatusNotFound || r.header.Get("Docker-Distribution-Api-Version") != "registry/2.0" {
			t.Errorf("%s %s: want 404 with the API version header, got %s", req.method, req.path, r)
			continue
		}
		if req.method == "HEAD" {
			continue
		}
		if code, msg := registryError(t, r); code != "NAME_UNKNOWN" || msg != wantMsg("e2e/strict") {
			t.Errorf("%s %s: %s %q, want NAME_UNKNOWN %q", req.method, req.path, code, msg, wantMsg("e2e/strict"))
		}
	}
	im := newImage(t, c, 4096)
	ref := b.Addr + "/e2e/strict:v1"
	if res, err := c.try(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", ref); err == nil {
		t.Fatalf("crane push to a missing repository succeeded:\n%s", res.stderr)
	} else if !strings.Contains(err.Error(), "NAME_UNKNOWN") || !strings.Contains(err.Error(), wantMsg("e2e/strict")) {
		t.Errorf("crane push to a missing repository: want NAME_UNKNOWN and ECR's message, got %v", err)
	}
	if _, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"e2e/strict"}}); apiErrorCode(err) != "RepositoryNotFoundException" {
		t.Fatalf("after the refused push: DescribeRepositories e2e/strict: %v", err)
	}

	b.AllowCreateOnPush(ctx)
	c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", ref)
	out, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"e2e/strict"}})
	if err != nil || len(out.Repositories) != 1 || aws.ToString(out.Repositories[0].RepositoryName) != "e2e/strict" {
		t.Fatalf("DescribeRepositories e2e/strict after CREATE_ON_PUSH: %v %+v", err, out)
	}
	pulled := c.path("pulled")
	c.run(crane, "pull", "--format", "oci", ref, pulled)

	// Pulling a missing repository still creates nothing.
	r := a.do("GET", "/v2/e2e/never/manifests/v1", nil, "Accept", mtOCIManifest)
	if code, msg := registryError(t, r); r.status != http.StatusNotFound || code != "NAME_UNKNOWN" || msg != wantMsg("e2e/never") {
		t.Errorf("GET a manifest of a missing repository: %s", r)
	}
	if _, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"e2e/never"}}); apiErrorCode(err) != "RepositoryNotFoundException" {
		t.Errorf("a pull created e2e/never: %v", err)
	}
}

// TestECRCraneToken: crane pushes and pulls with the login token from the
// SDK's GetAuthorizationToken in its Docker config; the bytes come back.
func TestECRCraneToken(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	crane := goTool(t, "crane")
	ctx := testenv.Ctx(t, time.Minute)
	// The credential helper names the registry; ECR answers one entry.
	//lint:ignore SA1019 the ECS agent and older clients still send registryIds; berth must answer them as ECR does
	out, err := b.ECR().GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: []string{"000000000000"}})
	if err != nil || len(out.AuthorizationData) != 1 {
		t.Fatalf("GetAuthorizationToken with registryIds: %v %+v", err, out)
	}
	ad := out.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(ad.AuthorizationToken))
	if err != nil || strings.Count(string(raw), ":") != 1 || !strings.HasPrefix(string(raw), "AWS:") {
		t.Fatalf("the token must decode to AWS:<password without a colon> (the aws CLI splits on ':'): %v", err)
	}
	if ttl := time.Until(aws.ToTime(ad.ExpiresAt)); ttl < 11*time.Hour+50*time.Minute || ttl > 12*time.Hour+time.Minute {
		t.Errorf("token expires in %v, want 12h", ttl)
	}
	b.User, b.Password, _ = strings.Cut(string(raw), ":")

	c := newCLI(t, b.CACert).login(b)
	im := newImage(t, c, 256<<10)
	ref := b.Addr + "/e2e/token:v1"
	c.run(crane, "append", "--oci-empty-base", "-f", im.tarPath, "-t", ref)
	m := parseManifest(t, []byte(c.run(crane, "manifest", ref).stdout))
	if len(m.Layers) != 1 {
		t.Fatalf("want 1 layer, got %d", len(m.Layers))
	}
	layer := m.Layers[0].Digest
	pulled := c.path("pulled")
	c.run(crane, "pull", "--format", "oci", ref, pulled)
	im.checkGzipLayer(t, "crane pull layer", readFile(t, filepath.Join(pulled, "blobs", "sha256", strings.TrimPrefix(layer, "sha256:"))), layer)
	im.checkGzipLayer(t, "crane blob", []byte(c.run(crane, "blob", b.Addr+"/e2e/token@"+layer).stdout), layer)
}

// TestECRTokenExpiry: with a 3-second token TTL the client sees ECR's
// "expired" denial after expiry (and berth's leeway), and a new login works
// again.
func TestECRTokenExpiry(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{Extra: "ecr: {token_ttl: 3s}\n"})
	crane := goTool(t, "crane")
	ctx := testenv.Ctx(t, time.Minute)
	login := func() time.Time {
		t.Helper()
		out, err := b.ECR().GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
		b.User, b.Password, _ = strings.Cut(string(raw), ":")
		exp := aws.ToTime(out.AuthorizationData[0].ExpiresAt)
		if ttl := time.Until(exp); ttl > 4*time.Second {
			t.Fatalf("token_ttl 3s, but the token expires in %v", ttl)
		}
		return exp
	}
	exp := login()
	a := newAPI(t, b)
	a.pushImage("e2e/expiry", "v1", makeTar(t, tarFile{name: "e.bin", data: randBytes(t, 1024)}), mtLayerTar, 1)
	c := newCLI(t, b.CACert).login(b)
	ref := b.Addr + "/e2e/expiry:v1"
	if time.Until(exp) > 500*time.Millisecond {
		r := rawGet(t, b, "/v2/e2e/expiry/manifests/v1", b.BasicAuth())
		if r.status != http.StatusOK && time.Now().Before(exp) {
			t.Fatalf("GET with a fresh token: %s", r)
		}
	} else {
		t.Logf("the push took the token's whole life; no check before expiry")
	}

	// berth verifies tokens with a 5 s leeway for clock differences between
	// nodes (auth/token), so a token works up to 5 s past expiresAt.
	const leeway = 5 * time.Second
	time.Sleep(time.Until(exp) + leeway + time.Second)
	_, err := c.try(crane, "pull", "--format", "oci", ref, c.path("pulled"))
	if err == nil {
		t.Errorf("crane pull %v after the token expired succeeded", time.Since(exp).Round(time.Millisecond))
	} else if !strings.Contains(err.Error(), msgExpired) {
		t.Errorf("crane pull with an expired token: want %q, got %v", msgExpired, err)
	}
	for _, p := range []string{"/v2/", "/v2/e2e/expiry/manifests/v1"} {
		r := rawGet(t, b, p, b.BasicAuth())
		if r.status != http.StatusForbidden || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s with an expired token: want 403 JSON, got %s", p, r)
			continue
		}
		if code, msg := registryError(t, r); code != "DENIED" || msg != msgExpired {
			t.Errorf("GET %s with an expired token: %s %q, want DENIED %q", p, code, msg, msgExpired)
		}
		if h := r.header.Get("Www-Authenticate"); h != "" {
			t.Errorf("GET %s with an expired token: a challenge %q (ECR says expired, not who are you)", p, h)
		}
	}

	login()
	c = newCLI(t, b.CACert).login(b)
	c.run(crane, "digest", ref)
}

// TestECRRevocation: deactivating an access key with `berth iam`
// ends its login tokens and its API calls within seconds; other keys are
// unaffected.
func TestECRRevocation(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	crane := goTool(t, "crane")
	ctx := testenv.Ctx(t, time.Minute)
	bin := testenv.BerthBinary(t)
	berth := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--config", b.Config)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("berth %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}
	var id, secret string
	for _, line := range strings.Split(berth("iam", "create-access-key", "--user", "berth-admin"), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	if id == "" || secret == "" || id == b.AccessKeyID {
		t.Fatalf("berth iam create-access-key printed no new key (id %q)", id)
	}
	a := newAPI(t, b)
	a.pushImage("e2e/revoke", "v1", makeTar(t, tarFile{name: "r.bin", data: randBytes(t, 1024)}), mtLayerTar, 1)

	key := b.ECRWith(id, secret, "")
	user, password := b.Login(ctx, key)
	dir := t.TempDir()
	cfg := mustJSON(t, map[string]any{"auths": map[string]any{b.Addr: map[string]string{
		"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))}}})
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, b.CACert)
	c.env = append(c.env, "DOCKER_CONFIG="+dir) // os/exec keeps the last of duplicate keys
	ref := b.Addr + "/e2e/revoke:v1"
	c.run(crane, "pull", "--format", "oci", ref, c.path("pulled"))
	if _, err := key.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Fatalf("DescribeRepositories with the new key: %v", err)
	}

	berth("iam", "update-access-key", "--id", id, "--status", "Inactive")
	start := time.Now()
	if list := berth("iam", "list-access-keys"); !strings.Contains(list, id) || !strings.Contains(list, "Inactive") {
		t.Errorf("iam list-access-keys after deactivate:\n%s", list)
	}
	const within = 7 * time.Second // the key cache lives 5 s
	var last response
	for {
		last = rawGet(t, b, "/v2/e2e/revoke/manifests/v1", basic(user, password))
		if last.status != http.StatusOK || time.Since(start) > within {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if last.status != http.StatusUnauthorized {
		t.Fatalf("%v after deactivating the key its token gets %s, want 401", time.Since(start).Round(time.Millisecond), last)
	}
	t.Logf("token refused %v after deactivation", time.Since(start).Round(time.Millisecond))
	expectChallenge(t, "revoked token", last, defaultProxyEndpoint(b))
	if _, err := c.try(crane, "digest", ref); err == nil {
		t.Error("crane with the revoked key's token succeeded")
	}

	var err error
	for {
		_, err = key.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		if err != nil || time.Since(start) > within {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("DescribeRepositories with the deactivated key: %v, want UnrecognizedClientException", err)
	}
	if _, err := key.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{}); apiErrorCode(err) != "UnrecognizedClientException" {
		t.Errorf("GetAuthorizationToken with the deactivated key: %v, want UnrecognizedClientException", err)
	}

	// The admin key and its token are unaffected.
	if _, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{}); err != nil {
		t.Errorf("the admin key after deactivating another: %v", err)
	}
	if r := rawGet(t, b, "/v2/e2e/revoke/manifests/v1", b.BasicAuth()); r.status != http.StatusOK {
		t.Errorf("the admin token after deactivating another key: %s", r)
	}
}

// otherSecret is s with its last character changed.
func otherSecret(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

// TestECRSigV4: the API's signature checks and validation, as the SDK
// and a hand-signed request see them.
func TestECRSigV4(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	ctx := testenv.Ctx(t, time.Minute)

	for _, c := range []struct {
		name, id, secret, code, msg string
	}{
		{"wrong secret", b.AccessKeyID, otherSecret(b.SecretAccessKey), "InvalidSignatureException", msgBadSig},
		{"unknown key id", "AKIA" + strings.Repeat("Q", 16), b.SecretAccessKey, "UnrecognizedClientException", msgUnknownKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.ECRWith(c.id, c.secret, "").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != c.code {
				t.Fatalf("DescribeRepositories: %v, want %s", err, c.code)
			}
			if !strings.Contains(ae.ErrorMessage(), c.msg) {
				t.Errorf("%s message %q, want it to contain %q", c.code, ae.ErrorMessage(), c.msg)
			}
		})
	}

	t.Run("clock skew", func(t *testing.T) {
		hc := clientFor(t, b.CACert)
		send := func(at time.Time) (int, string, string) {
			t.Helper()
			body := []byte(`{}`)
			req, err := http.NewRequestWithContext(ctx, "POST", b.URL+"/", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
			sum := sha256.Sum256(body)
			creds := aws.Credentials{AccessKeyID: b.AccessKeyID, SecretAccessKey: b.SecretAccessKey}
			if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecr", "us-east-1", at); err != nil {
				t.Fatal(err)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			_ = json.Unmarshal(buf.Bytes(), &e)
			code := e.Type
			if h := resp.Header.Get("X-Amzn-ErrorType"); h != "" {
				code = h
			}
			if i := strings.LastIndex(code, "#"); i >= 0 {
				code = code[i+1:]
			}
			code, _, _ = strings.Cut(code, ":")
			return resp.StatusCode, code, e.Message
		}
		if status, code, msg := send(time.Now()); status != http.StatusOK {
			t.Fatalf("hand-signed request now: %d %s %s", status, code, msg)
		}
		for _, c := range []struct {
			name   string
			at     time.Time
			prefix string
		}{
			{"20 minutes old", time.Now().Add(-20 * time.Minute), "Signature expired: "},
			{"20 minutes ahead", time.Now().Add(20 * time.Minute), "Signature not yet current: "},
		} {
			status, code, msg := send(c.at)
			if status != http.StatusBadRequest || code != "InvalidSignatureException" || !strings.HasPrefix(msg, c.prefix) {
				t.Errorf("%s: %d %s %q, want 400 InvalidSignatureException %q…", c.name, status, code, msg, c.prefix)
			}
		}
	})

	t.Run("repository names", func(t *testing.T) {
		const constraint = "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
		for _, c := range []struct{ name, msg string }{
			{"Upper/Case", "must satisfy regular expression"},
			{"a", "must have length greater than or equal to 2"},
			{strings.Repeat("a", 257), "must have length less than or equal to 256"},
			{"e2e//double", "must satisfy regular expression"},
			{"-lead", "must satisfy regular expression"},
			{"trail-", "must satisfy regular expression"},
			{"arn:aws:ecr:us-east-1:000000000000:repository/x", "must satisfy regular expression"},
		} {
			_, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(c.name)})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" {
				t.Errorf("CreateRepository %.40q: %v, want InvalidParameterException", c.name, err)
				continue
			}
			if !strings.Contains(ae.ErrorMessage(), constraint) || !strings.Contains(ae.ErrorMessage(), c.msg) {
				t.Errorf("CreateRepository %.40q: message %q, want %q…%q", c.name, ae.ErrorMessage(), constraint, c.msg)
			}
		}
		_, err := b.ECR().DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"Bad"}})
		if apiErrorCode(err) != "InvalidParameterException" {
			t.Errorf("DescribeRepositories [Bad]: %v, want InvalidParameterException", err)
		}
		if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("e2e/ok-name_1.x")}); err != nil {
			t.Errorf("CreateRepository of a valid name: %v", err)
		}
	})
}
