// Package config is berth's typed configuration: YAML, then BERTH_…
// environment overrides, then defaults, then validation. Every error names
// the offending field on one line.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/berth-registry/berth/storage/disk"
	"github.com/berth-registry/berth/storage/s3"
)

// Config is everything `berth serve` reads.
type Config struct {
	// DataDir holds keys, certificates, secrets and (by default) the blobs.
	DataDir     string      `yaml:"data_dir"`
	HTTP        HTTP        `yaml:"http"`
	Storage     Storage     `yaml:"storage"`
	Registry    Registry    `yaml:"registry"`
	ECR         ECR         `yaml:"ecr"`
	Metadata    Metadata    `yaml:"metadata"`
	IAM         IAM         `yaml:"iam"`
	Lifecycle   Lifecycle   `yaml:"lifecycle"`
	GC          GC          `yaml:"gc"`
	Audit       Audit       `yaml:"audit"`
	Log         Log         `yaml:"log"`
	PullThrough PullThrough `yaml:"pull_through"`
	Debug       Debug       `yaml:"debug"`
}

// Debug configures what operators use to look inside a running node.
type Debug struct {
	// PprofAddr serves Go's runtime profiles (net/http/pprof: CPU, heap,
	// goroutines, execution traces) over plain HTTP on this loopback
	// host:port; empty, the default, serves none. Profiles show the
	// program's internals, never on the registry's listener.
	PprofAddr string `yaml:"pprof_addr"`
}

// IAM configures identities and authorization.
type IAM struct {
	// File is a declarative file of accounts, users, roles and policies
	// applied at start and on SIGHUP ("" = none).
	File string `yaml:"file"`
	// Authorization is "enforce" (policies decide every request) or "off"
	// (every principal may do anything in its own account: only for
	// measuring what authorization costs).
	Authorization string `yaml:"authorization"`
	// Refresh is how often a node checks for policy changes.
	Refresh string `yaml:"refresh"`
	// OIDCCAFile is a PEM file of CA certificates trusted, besides the
	// system's, for OIDC issuers' discovery documents and JWKS (private
	// issuers, such as a self-hosted GitLab or a cluster's API server).
	OIDCCAFile string `yaml:"oidc_ca_file"`
}

// Lifecycle configures how lifecycle policies are applied.
type Lifecycle struct {
	// Interval is how often each repository's policy is applied (by one
	// node of the registry, whichever claims it first).
	Interval string `yaml:"interval"`
}

// GC configures online garbage collection.
type GC struct {
	// ReviewDelay is how long after a blob may have lost its last
	// reference it is reviewed (a client between its blob uploads and its
	// manifest PUT is safe for this long).
	ReviewDelay string `yaml:"review_delay"`
	// Interval is how often each node looks for due reviews and
	// abandoned uploads.
	Interval string `yaml:"interval"`
}

// Delay is the parsed ReviewDelay.
func (g GC) Delay() time.Duration { return validated(g.ReviewDelay) }

// Every is the parsed Interval.
func (g GC) Every() time.Duration { return validated(g.Interval) }

// Audit configures the audit log.
type Audit struct {
	// File receives one JSON line per authorization decision: a path,
	// "-" for standard output, or "off". Default <data_dir>/audit.log.
	File string `yaml:"file"`
}

// ECR is the Amazon ECR face of the registry.
type ECR struct {
	// RegistryID is the 12-digit account id of the registry.
	RegistryID string `yaml:"registry_id"`
	// Region is the AWS region berth presents (repository ARNs, hosts).
	Region string `yaml:"region"`
	// PublicHost is the host[:port] clients reach the registry at; it
	// makes repositoryUri and proxyEndpoint, and the generated certificate
	// covers it. It may be ECR-shaped (<id>.dkr.ecr.<region>.amazonaws.com)
	// for amazon-ecr-credential-helper. Default: http.addr with a loopback
	// address named "localhost".
	PublicHost string `yaml:"public_host"`
	// APIAddr optionally serves the ECR API on a listener of its own too
	// (it is always served at POST / on http.addr).
	APIAddr string `yaml:"api_addr"`
	// TokenTTL is how long login tokens live (ECR: 12h).
	TokenTTL string `yaml:"token_ttl"`
	// TokenKeys is the login-token signing key file (0600); every node of
	// one registry needs the same one.
	TokenKeys string `yaml:"token_keys"`
	// BootstrapCredentialsFile, when set, receives the bootstrap admin
	// access key (AWS shared-credentials format, 0600) instead of
	// standard error, at the first start only.
	BootstrapCredentialsFile string `yaml:"bootstrap_credentials_file"`
}

// Metadata selects the metadata store.
type Metadata struct {
	Engine string `yaml:"engine"` // sqlite | postgres
	// DSN is the SQLite file (default <data_dir>/metadata.db) or the
	// PostgreSQL URL.
	DSN string `yaml:"dsn"`
}

// HTTP is the listener.
type HTTP struct {
	Addr string `yaml:"addr"`
	// PlainHTTP serves without TLS; only on a loopback address unless
	// AllowPlainNonLoopback is set too.
	PlainHTTP             bool `yaml:"plain_http"`
	AllowPlainNonLoopback bool `yaml:"allow_plain_non_loopback"`
	// TLSCert and TLSKey name a certificate to serve. When both are empty
	// berth makes a CA and a server certificate in <data_dir>/tls.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Hosts are the names the generated certificate covers besides
	// localhost, 127.0.0.1 and ::1.
	Hosts []string `yaml:"hosts"`
	// Secret signs upload state; shared by every node of one registry.
	// Empty: a random one kept in <data_dir>/http-secret.
	Secret string `yaml:"secret"`
}

// Scheme is the scheme berth serves: "http" with PlainHTTP, else "https".
// URLs berth hands out for itself (GetDownloadUrlForLayer's) use it.
func (h HTTP) Scheme() string {
	if h.PlainHTTP {
		return "http"
	}
	return "https"
}

// Storage selects and configures the backend under the encrypting driver.
type Storage struct {
	Backend string      `yaml:"backend"` // disk | s3
	Disk    disk.Config `yaml:"disk"`
	S3      s3.Config   `yaml:"s3"`
	// Keyring is the key-encryption keyring file (0600). Every node of one
	// registry needs the same one.
	Keyring string `yaml:"keyring"`
}

// Registry tunes the embedded distribution registry.
type Registry struct {
	// DeleteEnabled allows DELETE of manifests, tags and blobs on /v2.
	DeleteEnabled bool `yaml:"delete_enabled"`
	// UploadPurgeAge is how old an abandoned upload must be to be purged.
	UploadPurgeAge string `yaml:"upload_purge_age"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// Default is the embedded default: HTTPS on 127.0.0.1:5000, local disk
// under ./berth-data.
func Default() Config {
	return Config{
		DataDir:   "./berth-data",
		HTTP:      HTTP{Addr: "127.0.0.1:5000"},
		Storage:   Storage{Backend: "disk"},
		Registry:  Registry{UploadPurgeAge: "168h"},
		ECR:       ECR{RegistryID: "000000000000", Region: "us-east-1", TokenTTL: "12h"},
		Metadata:  Metadata{Engine: "sqlite"},
		IAM:       IAM{Authorization: "enforce", Refresh: "1s"},
		Lifecycle: Lifecycle{Interval: "1h"},
		GC:        GC{ReviewDelay: "24h", Interval: "1m"},
		Log:       Log{Level: "info", Format: "text"},
	}
}

// Load reads path (may be empty: defaults only), applies environment
// overrides from env (os.Environ() form), fills derived defaults and
// validates.
func Load(path string, env []string) (*Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decodeStrict(b, &c); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(&c, env); err != nil {
		return nil, err
	}
	c.fillDerived()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) fillDerived() {
	if c.Storage.Disk.Root == "" {
		c.Storage.Disk.Root = filepath.Join(c.DataDir, "storage")
	}
	if c.Storage.S3.SpoolDir == "" {
		c.Storage.S3.SpoolDir = filepath.Join(c.DataDir, "spool")
	}
	if c.Metadata.Engine == "sqlite" && c.Metadata.DSN == "" {
		c.Metadata.DSN = filepath.Join(c.DataDir, "metadata.db")
	}
	if c.ECR.TokenKeys == "" {
		c.ECR.TokenKeys = filepath.Join(c.DataDir, "keys", "token-signing.json")
	}
	if c.ECR.PublicHost == "" {
		host, port, _ := net.SplitHostPort(c.HTTP.Addr)
		if a, err := netip.ParseAddr(host); host == "" || (err == nil && (a.IsLoopback() || a.IsUnspecified())) {
			host = "localhost"
		}
		c.ECR.PublicHost = net.JoinHostPort(host, port)
	}
	if c.Audit.File == "" {
		c.Audit.File = filepath.Join(c.DataDir, "audit.log")
	}
	if c.Storage.Keyring == "" {
		c.Storage.Keyring = filepath.Join(c.DataDir, "keys", "keyring.json")
	}
}

// FieldError is a validation failure of one field.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string {
	if e.Field == "" {
		return "config: " + e.Msg
	}
	return "config: " + e.Field + ": " + e.Msg
}

func bad(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

// Validate checks every field.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return bad("data_dir", "required")
	}
	host, port, err := net.SplitHostPort(c.HTTP.Addr)
	if err != nil || port == "" {
		return bad("http.addr", "%q is not host:port", c.HTTP.Addr)
	}
	if c.HTTP.PlainHTTP && !c.HTTP.AllowPlainNonLoopback && !isLoopback(host) {
		return bad("http.plain_http", "plain HTTP is only allowed on a loopback address (set http.allow_plain_non_loopback to force it on %q)", host)
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		return bad("http.tls_cert", "tls_cert and tls_key must be set together")
	}
	switch c.Storage.Backend {
	case "disk":
	case "s3":
		if err := c.Storage.S3.Validate(); err != nil {
			// Its messages already name storage.s3.<field>; keep one line.
			return &FieldError{Msg: strings.ReplaceAll(err.Error(), "\n", "; ")}
		}
	default:
		return bad("storage.backend", "%q is not one of disk, s3", c.Storage.Backend)
	}
	if _, err := parseDuration(c.Registry.UploadPurgeAge); err != nil {
		return bad("registry.upload_purge_age", "%v", err)
	}
	if !registryIDRE.MatchString(c.ECR.RegistryID) {
		return bad("ecr.registry_id", "%q is not 12 digits", c.ECR.RegistryID)
	}
	if !regionRE.MatchString(c.ECR.Region) {
		return bad("ecr.region", "%q is not a region name like us-east-1", c.ECR.Region)
	}
	if h, _, err := net.SplitHostPort(c.ECR.PublicHost); err != nil || h == "" {
		if strings.ContainsAny(c.ECR.PublicHost, "/ ") || c.ECR.PublicHost == "" {
			return bad("ecr.public_host", "%q is not host[:port]", c.ECR.PublicHost)
		}
	}
	if c.ECR.APIAddr != "" {
		if _, _, err := net.SplitHostPort(c.ECR.APIAddr); err != nil {
			return bad("ecr.api_addr", "%q is not host:port", c.ECR.APIAddr)
		}
	}
	if d, err := parseDuration(c.ECR.TokenTTL); err != nil || d < time.Second {
		return bad("ecr.token_ttl", "%q is not a duration of at least 1s", c.ECR.TokenTTL)
	}
	switch c.Metadata.Engine {
	case "sqlite":
	case "postgres":
		if c.Metadata.DSN == "" {
			return bad("metadata.dsn", "required for the postgres engine")
		}
	default:
		return bad("metadata.engine", "%q is not one of sqlite, postgres", c.Metadata.Engine)
	}
	switch c.IAM.Authorization {
	case "enforce", "off":
	default:
		return bad("iam.authorization", "%q is not one of enforce, off", c.IAM.Authorization)
	}
	if d, err := parseDuration(c.IAM.Refresh); err != nil || d <= 0 || d > time.Minute {
		return bad("iam.refresh", "%q is not a duration between 1ms and 1m", c.IAM.Refresh)
	}
	if d, err := parseDuration(c.Lifecycle.Interval); err != nil || d < time.Second {
		return bad("lifecycle.interval", "%q is not a duration of at least 1s", c.Lifecycle.Interval)
	}
	if d, err := parseDuration(c.GC.ReviewDelay); err != nil || d < 0 {
		return bad("gc.review_delay", "%q is not a duration (0 or more)", c.GC.ReviewDelay)
	}
	if err := c.PullThrough.validate(); err != nil {
		return err
	}
	if d, err := parseDuration(c.GC.Interval); err != nil || d < 100*time.Millisecond {
		return bad("gc.interval", "%q is not a duration of at least 100ms", c.GC.Interval)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	if c.Debug.PprofAddr != "" {
		host, port, err := net.SplitHostPort(c.Debug.PprofAddr)
		if err != nil || port == "" {
			return bad("debug.pprof_addr", "%q is not host:port", c.Debug.PprofAddr)
		}
		if !isLoopback(host) {
			return bad("debug.pprof_addr", "profiles are served on a loopback address only, not %q", host)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

var (
	registryIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// PublicHostname is PublicHost without its port.
func (e ECR) PublicHostname() string {
	if h, _, err := net.SplitHostPort(e.PublicHost); err == nil {
		return h
	}
	return e.PublicHost
}

// RefreshInterval is the parsed Refresh.
func (i IAM) RefreshInterval() time.Duration { return validated(i.Refresh) }

// Every is the parsed Interval.
func (l Lifecycle) Every() time.Duration { return validated(l.Interval) }

// TTL is the parsed TokenTTL.
func (e ECR) TTL() time.Duration { return validated(e.TokenTTL) }

// ErrUsage marks errors that should exit with status 2.
var ErrUsage = errors.New("usage")
