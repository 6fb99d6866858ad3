// Package regtest runs a whole berth node in process over TLS for tests:
// encrypted disk storage, SQLite metadata, the gate, the ECR API. Clients
// are the real ones (aws-sdk-go-v2's ECR client, HTTP with the login
// token).
package regtest

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/internal/testenv"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/node"
)

// Stack is a running in-process berth.
type Stack struct {
	// URL is https://127.0.0.1:port (the /v2 base and the API endpoint).
	URL  string
	Host string // 127.0.0.1:port: the public host
	// ECR is the real SDK client signing with the bootstrap admin key.
	ECR *ecr.Client
	// Store is the node's metadata store.
	Store metadata.Store
	// Token is a login token (password of user AWS) for /v2.
	Token string
	// HTTP trusts the server's certificate and sends no credentials.
	HTTP *http.Client
	// AccessKeyID and SecretAccessKey are the bootstrap admin key.
	AccessKeyID, SecretAccessKey string
	// RegistryID is the registry's id.
	RegistryID string
	Config     *config.Config
	Node       *node.Node
}

// New starts a stack; it stops at the end of the test.
func New(t testing.TB) *Stack { return NewWith(t, nil) }

// NewWith starts a stack after edit adjusts its configuration.
func NewWith(t testing.TB, edit func(*config.Config)) *Stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	creds := filepath.Join(dir, "admin.credentials")
	env := []string{
		"BERTH_DATA_DIR=" + dir,
		"BERTH_ECR_PUBLIC_HOST=" + ln.Addr().String(),
		"BERTH_ECR_BOOTSTRAP_CREDENTIALS_FILE=" + creds,
		"BERTH_ECR_REGISTRY_ID=123456789012",
	}
	c, err := config.Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(c)
	}
	ctx := context.Background()
	n, err := node.New(ctx, c, node.Options{Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(n.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		_ = n.Close()
	})
	s := &Stack{URL: srv.URL, Host: ln.Addr().String(), Store: n.Store, HTTP: srv.Client(),
		RegistryID: c.ECR.RegistryID, Config: c, Node: n}
	s.HTTP.Timeout = 2 * time.Minute
	s.AccessKeyID, s.SecretAccessKey = readCredentials(t, creds)
	s.ECR = s.Client(s.AccessKeyID, s.SecretAccessKey, "")
	s.Token = s.Login(t, s.ECR)
	return s
}

// Client is an SDK ECR client for the stack with the given credentials.
func (s *Stack) Client(id, secret, session string) *ecr.Client {
	return ecr.New(ecr.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, session),
		HTTPClient:   s.HTTP,
	})
}

// Login returns the password of a fresh login token from c.
func (s *Stack) Login(t testing.TB, c *ecr.Client) string {
	t.Helper()
	out, err := c.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		t.Fatal(err)
	}
	_, pass, _ := strings.Cut(string(raw), ":")
	return pass
}

// Do sends a /v2 request with the login token.
func (s *Stack) Do(t testing.TB, method, path string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.SetBasicAuth("AWS", s.Token)
	resp, err := s.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readCredentials(t testing.TB, path string) (id, secret string) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("bootstrap credentials: %v", err)
	}
	return testenv.ParseKey(string(raw))
}
