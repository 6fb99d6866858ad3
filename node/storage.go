package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
	"github.com/berth-registry/berth/storage/disk"
	"github.com/berth-registry/berth/storage/s3"
)

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

// OpenStorage builds the encrypting driver over the configured backend.
func OpenStorage(ctx context.Context, c *config.Config, m *metrics.Metrics) (*storage.Driver, storage.Backend, *crypt.Keyring, string, error) {
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

// HTTPSecret returns the configured secret or one kept in the data dir.
func HTTPSecret(c *config.Config) (string, error) {
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
