package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// System names, in table column order.
const (
	BerthS3   = "berth-s3"
	RefS3     = "ref-s3"
	BerthDisk = "berth-disk"
	RefDisk   = "ref-disk"
	MinIORaw  = "minio-raw"
)

// Systems is every system, in table column (and run) order.
var Systems = []string{BerthS3, RefS3, BerthDisk, RefDisk, MinIORaw}

// Env is where the bench keeps its files and processes; every process and
// the temp dir are torn down by CL.
type Env struct {
	Root  string // repository root
	Tmp   string // temp dir for data, configs and logs
	Tools string // directory of minio and registry binaries
	CL    *Cleanup
}

// ToolsBin is $BERTH_TOOLS/bin, BERTH_TOOLS defaulting to ~/.cache/berth/tools.
func ToolsBin() string {
	dir := os.Getenv("BERTH_TOOLS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "berth", "tools")
	}
	return filepath.Join(dir, "bin")
}

// EnsureTools runs scripts/install-tools.sh go when minio or registry is missing.
func (e *Env) EnsureTools(ctx context.Context) error {
	for _, b := range []string{"minio", "registry"} {
		if _, err := os.Stat(filepath.Join(e.Tools, b)); err != nil {
			return e.run(ctx, "bash", filepath.Join(e.Root, "scripts", "install-tools.sh"), "go")
		}
	}
	return nil
}

// BuildBerth builds ./cmd/berth into the temp dir and returns its path.
func (e *Env) BuildBerth(ctx context.Context) (string, error) {
	out := filepath.Join(e.Tmp, "berth")
	return out, e.run(ctx, "go", "build", "-o", out, "./cmd/berth")
}

func (e *Env) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = e.Root, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w", name, args, err)
	}
	return nil
}

// start starts a server process, registers its stop and waits for readyURL
// (a path; the address is prefixed).
func (e *Env) start(ctx context.Context, name, addr, readyPath string, env []string, bin string, args ...string) (*Proc, error) {
	p, err := StartProc(name, filepath.Join(e.Tmp, name+".log"), env, bin, args...)
	if err != nil {
		return nil, err
	}
	e.CL.Add(p.Stop)
	fmt.Fprintf(os.Stderr, "started %s, pid %d, on %s (log %s)\n", name, p.Pid(), addr, p.LogPath)
	return p, p.WaitHTTP(ctx, "http://"+addr+readyPath)
}

// MinIO is the MinIO server every S3 system shares, one bucket each.
type MinIO struct {
	Endpoint, AccessKey, SecretKey string
	Client                         *minio.Client
	Proc                           *Proc
}

// StartMinIO starts MinIO on a free port with its data in the temp dir.
func (e *Env) StartMinIO(ctx context.Context) (*MinIO, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	console, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	m := &MinIO{Endpoint: addr, AccessKey: "berthbench", SecretKey: randHex(16)}
	dir := filepath.Join(e.Tmp, "minio")
	env := []string{"MINIO_ROOT_USER=" + m.AccessKey, "MINIO_ROOT_PASSWORD=" + m.SecretKey,
		"MINIO_UPDATE=off", "MINIO_BROWSER=off"}
	if m.Proc, err = e.start(ctx, "minio", addr, "/minio/health/ready", env, filepath.Join(e.Tools, "minio"),
		"server", filepath.Join(dir, "data"), "--address", addr, "--console-address", console,
		"--certs-dir", filepath.Join(dir, "certs"), "--quiet"); err != nil {
		return nil, err
	}
	m.Client, err = minio.New(addr, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, ""),
		Region: "us-east-1"})
	return m, err
}

// MakeBucket creates a bucket.
func (m *MinIO) MakeBucket(ctx context.Context, name string) error {
	return m.Client.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"})
}

// Target is one system under test: a registry at Addr (host:port, plain
// HTTP) run by Proc, or, for minio-raw, a bucket reached through minio-go.
type Target struct {
	Name   string
	Addr   string
	Proc   *Proc
	MinIO  *MinIO
	Bucket string

	// Berth only: its data dir, an ECR client signing with its bootstrap
	// admin key, and the Authorization value (Basic, user AWS, a login
	// token) its registry requests carry. The reference runs anonymously.
	DataDir       string
	ECR           *ecr.Client
	Authorization string
	// Store is the MinIO process behind the target (s3 systems), whose
	// CPU a push or pull costs too.
	Store *Proc
	// Shadow is the same berth with iam.authorization off, measured
	// beside this one where the cost of authorization is the question.
	Shadow *Target
}

// StartBerth starts berth with --plain-http on a bucket of m, or on local
// disk when m is nil, with extra appended to its config, and logs in (see
// login).
func (e *Env) StartBerth(ctx context.Context, name, bin string, m *MinIO, extra string) (*Target, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	storage := "{backend: disk}"
	if m != nil {
		if err := m.MakeBucket(ctx, name); err != nil {
			return nil, err
		}
		storage = fmt.Sprintf("{backend: s3, s3: {endpoint: %s, region: us-east-1, bucket: %s, access_key: %s, "+
			"secret_key: %s, secure: false, path_style: true%s}}", m.Endpoint, name, m.AccessKey, m.SecretKey, s3Opts())
	}
	dataDir := filepath.Join(e.Tmp, name)
	cfg := fmt.Sprintf("data_dir: %s\nhttp: {addr: %s}\nstorage: %s\nregistry: {delete_enabled: true}\nlog: {level: error}\n%s",
		dataDir, addr, storage, extra)
	path := filepath.Join(e.Tmp, name+".yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	creds := filepath.Join(e.Tmp, name+".credentials")
	p, err := e.start(ctx, name, addr, "/readyz", []string{credentialsEnv + "=" + creds},
		bin, "serve", "--config", path, "--plain-http")
	if err != nil {
		return nil, err
	}
	t := &Target{Name: name, Addr: addr, Proc: p, DataDir: dataDir}
	if err := t.login(ctx, creds, bin, path); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, p.LogTail())
	}
	return t, nil
}

// s3Opts is ", " and BENCH_S3_OPTS (more keys of berth's storage.s3, e.g.
// "part_size: 10485760"), or "" when it is unset: a setting measured
// against the default without editing the bench.
func s3Opts() string {
	if o := os.Getenv("BENCH_S3_OPTS"); o != "" {
		return ", " + o
	}
	return ""
}

// StartReference starts distribution v3.1.2 with its s3 driver on a bucket
// of m, or its filesystem driver when m is nil (tooling.md §2 configs).
func (e *Env) StartReference(ctx context.Context, name string, m *MinIO) (*Target, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	driver := fmt.Sprintf("filesystem: {rootdirectory: %s}", filepath.Join(e.Tmp, name))
	if m != nil {
		if err := m.MakeBucket(ctx, name); err != nil {
			return nil, err
		}
		driver = fmt.Sprintf("s3: {accesskey: %s, secretkey: %s, region: us-east-1, regionendpoint: http://%s, "+
			"forcepathstyle: true, secure: false, bucket: %s, rootdirectory: /reg, chunksize: 5242880}",
			m.AccessKey, m.SecretKey, m.Endpoint, name)
	}
	cfg := fmt.Sprintf(`version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  %s
  delete: {enabled: true}
  redirect: {disable: true}
  cache: {blobdescriptor: inmemory}
http: {addr: %s, secret: %s}
health: {storagedriver: {enabled: false}}
`, driver, addr, randHex(16))
	path := filepath.Join(e.Tmp, name+".yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	p, err := e.start(ctx, name, addr, "/v2/", []string{"OTEL_TRACES_EXPORTER=none"},
		filepath.Join(e.Tools, "registry"), "serve", path)
	return &Target{Name: name, Addr: addr, Proc: p}, err
}

// RawTarget is minio-go straight to a bucket of m: the ceiling for S3 rows.
func RawTarget(ctx context.Context, m *MinIO) (*Target, error) {
	return &Target{Name: MinIORaw, MinIO: m, Bucket: MinIORaw}, m.MakeBucket(ctx, MinIORaw)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
