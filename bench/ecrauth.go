package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// RegistryID is the registry (account) id berth runs with by default.
const RegistryID = "000000000000"

// credentialsEnv names the file berth writes its bootstrap admin key to at
// first start (ecr.bootstrap_credentials_file).
const credentialsEnv = "BERTH_ECR_BOOTSTRAP_CREDENTIALS_FILE"

// benchRepositoryPolicy is the repository policy every bench repository
// is created with, so registry requests are decided as a CI job's are: an
// identity policy (PowerUser) and a repository policy, with a deny to look
// through.
const benchRepositoryPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"AccountPull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + RegistryID + `:root"},
  "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]},
 {"Sid":"NoDeletes","Effect":"Deny","Principal":"*","Action":["ecr:DeleteRepository","ecr:SetRepositoryPolicy"],
  "Condition":{"StringNotEquals":{"aws:PrincipalArn":"arn:aws:iam::` + RegistryID + `:user/berth-admin"}}}]}`

// login readies a berth target for the bench: it reads the bootstrap admin
// key from credsPath, adds the ROOT CREATE_ON_PUSH creation template (so
// pushes create their repositories, as on the reference registry, each
// with benchRepositoryPolicy), makes the CI user bench-ci with
// AmazonEC2ContainerRegistryPowerUser and ecr:CreateRepository through
// `berth iam` (bin, config) and fetches its login token for t's registry
// requests.
func (t *Target) login(ctx context.Context, credsPath, bin, config string) error {
	id, secret, err := readCredentials(ctx, credsPath)
	if err != nil {
		return err
	}
	t.ECR = NewECRClient(t.Addr, id, secret)
	_, err = t.ECR.CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix:           aws.String("ROOT"),
		AppliedFor:       []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
		RepositoryPolicy: aws.String(benchRepositoryPolicy),
	})
	var exists *types.TemplateAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("creating the ROOT CREATE_ON_PUSH template: %w", err)
	}
	ci, err := ciUser(ctx, t.Addr, bin, config)
	if err != nil {
		return err
	}
	out, err := ci.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return fmt.Errorf("GetAuthorizationToken: %w", err)
	}
	if len(out.AuthorizationData) == 0 {
		return errors.New("GetAuthorizationToken: no authorizationData")
	}
	tok := aws.ToString(out.AuthorizationData[0].AuthorizationToken)
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || !bytes.HasPrefix(raw, []byte("AWS:")) {
		return errors.New("GetAuthorizationToken: authorizationToken is not base64 of AWS:<password>")
	}
	// The token already is base64("AWS:" + password): the Basic value.
	t.Authorization = "Basic " + tok
	return nil
}

// ciUser makes the user bench-ci (PowerUser) with `berth iam` and returns
// an ECR client signing with its new key.
func ciUser(ctx context.Context, addr, bin, config string) (*ecr.Client, error) {
	iam := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bin, append(append([]string{"iam"}, args...), "--config", config)...).Output()
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			err = fmt.Errorf("berth iam %s: %w: %s", args[0], err, ee.Stderr)
		}
		return string(out), err
	}
	if _, err := iam("create-user", "--user", "bench-ci"); err != nil {
		return nil, err
	}
	if _, err := iam("attach-policy", "--user", "bench-ci", "--policy", "AmazonEC2ContainerRegistryPowerUser"); err != nil {
		return nil, err
	}
	// Pushes create their repositories from the ROOT template: that is
	// CreateRepository, which PowerUser lacks; so is the pull-through
	// rows' import from the upstream (BatchImportUpstreamImage).
	create := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:CreateRepository","ecr:BatchImportUpstreamImage"],"Resource":"*"}]}`
	if _, err := iam("put-policy", "--user", "bench-ci", "--name", "create-on-push", "--document", create); err != nil {
		return nil, err
	}
	out, err := iam("create-access-key", "--user", "bench-ci")
	if err != nil {
		return nil, err
	}
	id, secret := parseCredentials([]byte(out))
	if id == "" || secret == "" {
		return nil, errors.New("berth iam create-access-key printed no key")
	}
	return NewECRClient(addr, id, secret), nil
}

// readCredentials reads aws_access_key_id and aws_secret_access_key from a
// shared-credentials file, waiting up to 10 s for berth to write it.
func readCredentials(ctx context.Context, path string) (id, secret string, err error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := os.ReadFile(path)
		if err == nil {
			if id, secret = parseCredentials(raw); id != "" && secret != "" {
				return id, secret, nil
			}
		}
		if time.Now().After(deadline) {
			return "", "", fmt.Errorf("bootstrap credentials %s: missing or incomplete after 10 s (%v)", path, err)
		}
		select {
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// parseCredentials reads aws_access_key_id and aws_secret_access_key from
// shared-credentials text.
func parseCredentials(raw []byte) (id, secret string) {
	s := bufio.NewScanner(bytes.NewReader(raw))
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret
}

// NewECRClient is an aws-sdk-go-v2 ECR client for the plain-HTTP berth at
// addr, signing with the given key. It never retries, so that latencies
// and errors are the server's own.
func NewECRClient(addr, id, secret string) *ecr.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 64, 64
	return ecr.New(ecr.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + addr),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:   &http.Client{Transport: bodyCopier{tr}, Timeout: time.Minute},
		Retryer:      aws.NopRetryer{},
	})
}

// bodyCopier hands net/http a private copy of each request body. With
// smithy-go v1.28.9 on Go 1.26, a few percent of keep-alive calls fail with
// "deserialization failed ... use of closed network connection" (against
// any server: an httptest server shows it too): the transport's write loop
// finds the SDK's body wrapper already closed, fails the write and closes
// the connection under the response being read. The SDK's default retryer
// hides this by retrying; the bench does not retry, and the copy (a few
// hundred bytes of JSON) removes the race.
type bodyCopier struct{ base http.RoundTripper }

func (b bodyCopier) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return b.base.RoundTrip(r)
	}
	buf, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	return b.base.RoundTrip(r)
}
