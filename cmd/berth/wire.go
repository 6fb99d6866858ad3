package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
	"github.com/berth-registry/berth/storage/disk"
	"github.com/berth-registry/berth/storage/s3"
)

// loadConfig parses the common flags and loads the configuration.
func loadConfig(name string, args []string, extra func(*flag.FlagSet)) (*config.Config, *flag.FlagSet, error) {
	fl := flag.NewFlagSet("berth "+name, flag.ContinueOnError)
	path := fl.String("config", os.Getenv("BERTH_CONFIG"), "YAML config file (default: embedded defaults)")
	if extra != nil {
		extra(fl)
	}
	if err := fl.Parse(args); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", config.ErrUsage, err)
	}
	if fl.NArg() > 0 {
		return nil, nil, fmt.Errorf("%w: unexpected argument %q", config.ErrUsage, fl.Arg(0))
	}
	env := os.Environ()
	// Flags win over the file and the environment: they are the most
	// explicit ask.
	fl.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "plain-http":
			env = append(env, "BERTH_HTTP_PLAIN_HTTP="+f.Value.String())
		case "allow-plain-non-loopback":
			env = append(env, "BERTH_HTTP_ALLOW_PLAIN_NON_LOOPBACK="+f.Value.String())
		case "addr":
			env = append(env, "BERTH_HTTP_ADDR="+f.Value.String())
		case "data-dir":
			env = append(env, "BERTH_DATA_DIR="+f.Value.String())
		}
	})
	c, err := config.Load(*path, env)
	return c, fl, err
}

func newLogger(c *config.Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	// distribution logs through logrus, and every 4xx answer (a client's
	// miss or mistake) at error level: drop those, keep the rest.
	logrus.SetLevel(logrus.ErrorLevel)
	logrus.SetOutput(dropClientErrors{os.Stderr})
	if c.Log.Level == "debug" {
		logrus.SetLevel(logrus.DebugLevel)
	}
	if c.Log.Format == "json" {
		logrus.SetFormatter(&logrus.JSONFormatter{})
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// dropClientErrors filters distribution's "response completed with error"
// lines for 4xx statuses out of its log.
type dropClientErrors struct{ w io.Writer }

func (d dropClientErrors) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("http.response.status=4")) || bytes.Contains(p, []byte(`"http.response.status":4`)) {
		return len(p), nil
	}
	return d.w.Write(p)
}

// openBackend builds the configured backend.
func openBackend(ctx context.Context, c *config.Config) (storage.Backend, string, error) {
	switch c.Storage.Backend {
	case "s3":
		b, err := s3.New(ctx, c.Storage.S3)
		if err != nil {
			return nil, "", err
		}
		return b, fmt.Sprintf("s3 bucket %s at %s", c.Storage.S3.Bucket, c.Storage.S3.Endpoint), nil
	default:
		b, err := disk.New(c.Storage.Disk)
		if err != nil {
			return nil, "", err
		}
		return b, "disk at " + c.Storage.Disk.Root, nil
	}
}

// openStorage builds the encrypting driver over the configured backend.
func openStorage(ctx context.Context, c *config.Config, m *metrics.Metrics) (*storage.Driver, storage.Backend, *crypt.Keyring, string, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, nil, nil, "", fmt.Errorf("data_dir: %w", err)
	}
	kr, err := crypt.LoadOrCreateKeyring(c.Storage.Keyring)
	if err != nil {
		return nil, nil, nil, "", fmt.Errorf("storage.keyring: %w", err)
	}
	b, desc, err := openBackend(ctx, c)
	if err != nil {
		return nil, nil, nil, "", err
	}
	opts := storage.Options{Keyring: kr, Backend: b}
	if m != nil {
		name := b.Name()
		opts.Backend = storage.Instrument(b, func(op string, d time.Duration) {
			m.StorageOps.WithLabelValues(name, op).Observe(d.Seconds())
		})
		opts.OnAuthError = m.EncryptionErrors.Inc
	}
	d, err := storage.New(opts)
	return d, opts.Backend, kr, desc, err
}

// httpSecret returns the configured secret or one kept in the data dir.
func httpSecret(c *config.Config) (string, error) {
	if c.HTTP.Secret != "" {
		return c.HTTP.Secret, nil
	}
	p := filepath.Join(c.DataDir, "http-secret")
	b, err := os.ReadFile(p)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	r := make([]byte, 32)
	if _, err := rand.Read(r); err != nil {
		return "", err
	}
	s := hex.EncodeToString(r)
	return s, os.WriteFile(p, []byte(s+"\n"), 0o600)
}
