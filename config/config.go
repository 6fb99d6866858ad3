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
	"strings"

	"github.com/berth-registry/berth/storage/disk"
	"github.com/berth-registry/berth/storage/s3"
)

// Config is everything `berth serve` reads.
type Config struct {
	// DataDir holds keys, certificates, secrets and (by default) the blobs.
	DataDir  string   `yaml:"data_dir"`
	HTTP     HTTP     `yaml:"http"`
	Storage  Storage  `yaml:"storage"`
	Registry Registry `yaml:"registry"`
	Log      Log      `yaml:"log"`
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
		DataDir:  "./berth-data",
		HTTP:     HTTP{Addr: "127.0.0.1:5000"},
		Storage:  Storage{Backend: "disk"},
		Registry: Registry{UploadPurgeAge: "168h"},
		Log:      Log{Level: "info", Format: "text"},
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
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// ErrUsage marks errors that should exit with status 2.
var ErrUsage = errors.New("usage")
