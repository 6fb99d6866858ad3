package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"gopkg.in/yaml.v3"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// BerthBinary builds cmd/berth once per test process and returns its path.
func BerthBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BERTH_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "berth-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "berth")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/berth")
		cmd.Dir = repoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/berth: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Berth is a running `berth serve` process.
type Berth struct {
	Addr    string // host:port
	URL     string // https://host:port (or http:// when plain)
	DataDir string
	CACert  string       // the generated CA (empty when plain)
	Config  string       // the config file it runs with
	Client  *http.Client // sends the login token on /v2 requests
	Region  string       // ecr.region

	// The bootstrap admin key, and the registry credentials (user AWS and
	// a login token) it logged in with.
	AccessKeyID, SecretAccessKey string
	User, Password               string

	createOnPush bool
	credFile     string // the bootstrap admin key

	t      testing.TB
	cmd    *exec.Cmd
	exited chan struct{}
	log    *strings.Builder
	mu     sync.Mutex
}

// BerthOptions configure StartBerth.
type BerthOptions struct {
	// Storage is the YAML of the storage section (default: disk).
	Storage string
	// Extra is appended to the config file verbatim (top-level keys).
	Extra string
	// Plain serves plain HTTP instead of TLS.
	Plain bool
	// DataDir reuses a data dir (restart); default a fresh temp dir.
	DataDir string
	// ListenIP is the address to listen on (default 127.0.0.1).
	ListenIP string
	// Host is the name clients use instead of the listen address; the
	// generated certificate covers it.
	Host string
	// PublicHost makes Host:port berth's ecr.public_host (an ECR-shaped
	// Host then gives every account a registry host of its own).
	PublicHost bool
	// StrictECR leaves out the ROOT CREATE_ON_PUSH template StartBerth
	// otherwise adds: pushes then need CreateRepository first, as on ECR.
	StrictECR bool
	// Region is the registry's region (ecr.region, set through the
	// environment; default us-east-1). The harness's clients sign for it.
	Region string
	// Shared is a directory of what every node of one registry shares:
	// the keyring, the token signing keys, the HTTP secret and the
	// bootstrap admin key (StartCluster sets it).
	Shared string
}

// S3Storage is the storage section for berth on m's bucket.
func (m *MinIO) S3Storage(bucket, prefix string) string {
	return fmt.Sprintf(`storage:
  backend: s3
  s3: {endpoint: %q, region: us-east-1, bucket: %q, prefix: %q, access_key: %q, secret_key: %q, secure: false, path_style: true}
`, m.Endpoint, bucket, prefix, m.AccessKey, m.SecretKey)
}

// StartBerth starts berth and waits until /readyz answers 200.
func StartBerth(t testing.TB, o BerthOptions) *Berth {
	t.Helper()
	BerthBinary(t) // build before the clock starts
	dir := o.DataDir
	if dir == "" {
		dir = t.TempDir()
	}
	listenIP, host := o.ListenIP, o.Host
	if listenIP == "" {
		listenIP = "127.0.0.1"
	}
	port := strconv.Itoa(FreePort())
	listen := net.JoinHostPort(listenIP, port)
	addr := listen
	hosts := "[]"
	if host != "" {
		addr = net.JoinHostPort(host, port)
		hosts = fmt.Sprintf("[%q]", host)
	}
	if o.PublicHost && host != "" {
		o.Extra += "\necr: {public_host: " + strconv.Quote(addr) + "}\n"
	}
	cfg := buildConfig(t, dir, listen, hosts, o)
	cfgPath := filepath.Join(t.TempDir(), "berth.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &Berth{Addr: addr, DataDir: dir, Config: cfgPath, t: t, log: &strings.Builder{}, createOnPush: !o.StrictECR,
		Region: o.Region, credFile: credentialsFile(dir)}
	if b.Region == "" {
		b.Region = "us-east-1"
	}
	if o.Shared != "" {
		b.credFile = credentialsFile(o.Shared)
	}
	b.URL = "https://" + addr
	if o.Plain {
		b.URL = "http://" + addr
	}
	b.start()
	t.Cleanup(b.Stop)
	return b
}

func (b *Berth) start() {
	t := b.t
	t.Helper()
	b.cmd = exec.Command(BerthBinary(t), "serve", "--config", b.Config)
	b.cmd.Env = append(os.Environ(), "BERTH_ECR_BOOTSTRAP_CREDENTIALS_FILE="+b.credFile,
		"BERTH_ECR_REGION="+b.Region)
	b.cmd.Stdout = b.logWriter()
	b.cmd.Stderr = b.logWriter()
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b.exited = make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(b.exited) }()
	if !strings.HasPrefix(b.URL, "http://") {
		b.CACert = filepath.Join(b.DataDir, "tls", "ca.crt")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-b.exited:
			t.Fatalf("berth exited during start:\n%s", b.Log())
		default:
		}
		if b.CACert == "" || fileExists(b.CACert) {
			if resp, err := b.baseClient().Get(b.URL + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					b.setupAuth(b.createOnPush)
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("berth not ready after 60s:\n%s", b.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill ends the process with SIGKILL (a crash: no shutdown at all).
func (b *Berth) Kill() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.exited:
		return
	default:
	}
	_ = b.cmd.Process.Kill()
	<-b.exited
}

// Start starts a stopped or killed server again (same data dir and port).
func (b *Berth) Start() { b.start() }

// Restart stops and starts the same server (same data dir and port).
func (b *Berth) Restart() {
	b.Stop()
	b.start()
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TLSConfig trusts the generated CA.
func (b *Berth) TLSConfig() *tls.Config {
	if b.CACert == "" {
		return nil
	}
	pem, err := os.ReadFile(b.CACert)
	if err != nil {
		b.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool}
}

// baseClient trusts b's CA and sends no credentials.
func (b *Berth) baseClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = b.TLSConfig()
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// Stop sends SIGTERM and waits for the process (SIGKILL after 10 s).
func (b *Berth) Stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.exited:
		return
	default:
	}
	stopProcess(b.cmd.Process, b.exited, 10*time.Second)
}

// stopProcess sends SIGTERM, then SIGKILL after grace, and waits for exited.
func stopProcess(p *os.Process, exited <-chan struct{}, grace time.Duration) {
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = p.Kill()
		<-exited
	}
}

// Stacks ends a running process with SIGQUIT, which makes the Go runtime
// print every goroutine's stack, and returns what it printed from then on:
// where a hung server is stuck. "" if the process has exited already.
func (b *Berth) Stacks() string {
	if b.cmd == nil || b.cmd.Process == nil {
		return ""
	}
	select {
	case <-b.exited:
		return ""
	default:
	}
	from := len(b.Log())
	_ = b.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
	return b.Log()[from:]
}

// Log is everything the process printed.
func (b *Berth) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.log.String()
}

type lockedWriter struct{ b *Berth }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	return w.b.log.Write(p)
}

func (b *Berth) logWriter() lockedWriter { return lockedWriter{b} }

// Ctx is a context bounded by d and the test's lifetime.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// buildConfig writes the YAML config of one node: the options' storage and
// extra sections merged with what StartBerth sets.
func buildConfig(t testing.TB, dir, listen, hosts string, o BerthOptions) string {
	t.Helper()
	storage := o.Storage
	if storage == "" {
		storage = "storage: {backend: disk}\n"
	}
	cfg := map[string]any{}
	for _, part := range []string{storage, o.Extra} {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(part), &m); err != nil {
			t.Fatalf("testenv: config part %q: %v", part, err)
		}
		for k, v := range m {
			cfg[k] = v
		}
	}
	section := func(name string) map[string]any {
		m, _ := cfg[name].(map[string]any)
		if m == nil {
			m = map[string]any{}
			cfg[name] = m
		}
		return m
	}
	cfg["data_dir"] = dir
	h := section("http")
	h["addr"], h["plain_http"] = listen, o.Plain
	var hs []string
	_ = yaml.Unmarshal([]byte(hosts), &hs)
	h["hosts"] = hs
	if _, ok := cfg["log"]; !ok {
		cfg["log"] = map[string]any{"level": "info"}
	}
	if o.Shared != "" {
		section("storage")["keyring"] = filepath.Join(o.Shared, "keyring.json")
		section("ecr")["token_keys"] = filepath.Join(o.Shared, "token-signing.json")
		h["secret"] = "cluster-test-secret-0123456789abcdef0123456789abcdef"
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// StartCluster starts n nodes of one registry: each on a port of its own
// with its own data dir and TLS material, sharing o's storage and metadata
// (o.Extra should name a PostgreSQL store) and the keys of a shared
// directory. Nodes start one after another: the first makes the bootstrap
// admin the others find.
func StartCluster(t testing.TB, n int, o BerthOptions) []*Berth {
	t.Helper()
	o.Shared = t.TempDir()
	nodes := make([]*Berth, n)
	for i := range nodes {
		nodes[i] = StartBerth(t, o)
	}
	return nodes
}
