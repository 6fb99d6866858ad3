package testenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// credentialsFile is where StartBerth has berth write the bootstrap admin
// key (ecr.bootstrap_credentials_file).
func credentialsFile(dataDir string) string { return filepath.Join(dataDir, "admin.credentials") }

// loadAdmin reads the bootstrap admin key berth wrote at first start.
func (b *Berth) loadAdmin() {
	raw, err := os.ReadFile(b.credFile)
	if err != nil {
		b.t.Fatalf("bootstrap credentials: %v\n%s", err, b.Log())
	}
	b.AccessKeyID, b.SecretAccessKey = ParseKey(string(raw))
	if b.AccessKeyID == "" || b.SecretAccessKey == "" {
		b.t.Fatalf("bootstrap credentials file %s is incomplete", b.credFile)
	}
}

// ECR is an aws-sdk-go-v2 ECR client for b, signing with the bootstrap
// admin key.
func (b *Berth) ECR() *ecr.Client {
	return b.ECRWith(b.AccessKeyID, b.SecretAccessKey, "")
}

// ECRWith is an ECR client for b signing with the given credentials.
func (b *Berth) ECRWith(id, secret, session string) *ecr.Client {
	return ecr.New(ecr.Options{
		Region:       b.Region,
		BaseEndpoint: aws.String(b.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, session),
		HTTPClient:   b.baseClient(),
	})
}

// Login calls GetAuthorizationToken and returns the registry credentials
// it carries (user "AWS" and the login token).
func (b *Berth) Login(ctx context.Context, c *ecr.Client) (user, password string) {
	b.t.Helper()
	out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		b.t.Fatalf("GetAuthorizationToken: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		b.t.Fatal(err)
	}
	user, password, _ = strings.Cut(string(raw), ":")
	return user, password
}

// AllowCreateOnPush adds a CREATE_ON_PUSH creation template for every name
// (prefix ROOT), so pushes create their repositories as a plain registry
// would, and turns on cross-repository blob mounting (ECR's BLOB_MOUNTING
// setting) as a plain registry has it.
func (b *Berth) AllowCreateOnPush(ctx context.Context) {
	b.t.Helper()
	if _, err := b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")}); err != nil {
		b.t.Fatalf("enabling BLOB_MOUNTING: %v", err)
	}
	_, err := b.ECR().CreateRepositoryCreationTemplate(ctx, &ecr.CreateRepositoryCreationTemplateInput{
		Prefix:     aws.String("ROOT"),
		AppliedFor: []types.RCTAppliedFor{types.RCTAppliedForCreateOnPush},
	})
	var exists *types.TemplateAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		b.t.Fatalf("creating the ROOT creation template: %v", err)
	}
}

// DockerConfig writes a Docker config.json into dir with b's registry
// credentials (crane, oras, regctl, skopeo and docker read it).
func (b *Berth) DockerConfig(dir string) {
	b.t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(b.User + ":" + b.Password))
	cfg := map[string]any{"auths": map[string]any{b.Addr: map[string]string{"auth": auth}}}
	raw, _ := json.Marshal(cfg)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o600); err != nil {
		b.t.Fatal(err)
	}
}

// authTransport adds b's registry credentials to requests without any.
type authTransport struct {
	base http.RoundTripper
	b    *Berth
}

func (a authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") == "" && a.b.Password != "" && strings.HasPrefix(r.URL.Path, "/v2") {
		r = r.Clone(r.Context())
		r.SetBasicAuth(a.b.User, a.b.Password)
	}
	return a.base.RoundTrip(r)
}

// setupAuth loads the admin key, logs in, and makes b.Client send the
// token on /v2 requests.
func (b *Berth) setupAuth(createOnPush bool) {
	b.t.Helper()
	b.loadAdmin()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if createOnPush {
		b.AllowCreateOnPush(ctx)
	}
	b.User, b.Password = b.Login(ctx, b.ECR())
	b.Client = &http.Client{Transport: authTransport{base: b.baseClient().Transport, b: b}, Timeout: 5 * time.Minute}
}

// BasicAuth is the Authorization header value for b's login token.
func (b *Berth) BasicAuth() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(b.User+":"+b.Password))
}
