package s3

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/berth-registry/berth/internal/httpx"
	"github.com/berth-registry/berth/storage/crypt"
)

// Config configures the S3 backend. The yaml names are the config file's
// keys under storage.s3; Validate reports problems under those names.
type Config struct {
	// Endpoint is host[:port], or a URL whose scheme (http/https) decides
	// Secure.
	Endpoint string `yaml:"endpoint"`
	// Region is the bucket's region (default us-east-1). Always known, so
	// minio-go never asks the server with GetBucketLocation.
	Region string `yaml:"region"`
	Bucket string `yaml:"bucket"`
	// Prefix puts everything the backend stores under "<prefix>/", so
	// several registries (or other data) can share a bucket.
	Prefix string `yaml:"prefix"`
	// AccessKey and SecretKey (and SessionToken for temporary credentials)
	// sign requests. When both keys are empty the AWS environment variables
	// and then the EC2/ECS instance role are used.
	AccessKey    string `yaml:"access_key"`
	SecretKey    string `yaml:"secret_key"`
	SessionToken string `yaml:"session_token"`
	// Secure selects https.
	Secure bool `yaml:"secure"`
	// PathStyle forces path-style bucket addressing (host/bucket/key), which
	// MinIO and most self-hosted stores need; otherwise minio-go picks.
	PathStyle bool `yaml:"path_style"`
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile             string `yaml:"ca_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// PartSize is the size of the parts an upload sends while a request
	// streams past it. It is rounded up to whole sealed segments
	// (crypt.SlotSize) and to S3's 5 MiB minimum. The default, 255 segments
	// (~16 MiB, like minio-go's own parts), is the largest of which the
	// default PartMemory holds two (one filled while the other is sent);
	// larger parts cost the store less per byte. Every part of one upload but the last has the same size
	// (R2 requires it), decided by its first part and recorded in its
	// pending object, so nodes with another setting resume it as it began:
	// PartSize, or, when the upload's first request ends short of it, what
	// that request brought if that is at least 5 MiB (sent as the first
	// part instead of round-tripping through the pending object). The
	// largest upload is 10000 parts: about 155 GiB at the default.
	PartSize int64 `yaml:"part_size"`
	// UploadConcurrency is how many parts of one upload are sent at once
	// (default 3).
	UploadConcurrency int `yaml:"upload_concurrency"`
	// SpoolDir is a local directory where parts are filled before they are
	// sent (ciphertext only), so memory does not grow with part size times
	// concurrent uploads. Default <data_dir>/spool.
	SpoolDir string `yaml:"spool_dir"`
	// PartMemory is the budget, in bytes, of the memory all uploads of
	// this node fill parts in (default 32 MiB); parts past it go through
	// spool files in SpoolDir. In memory a part costs no local disk write
	// and read back, which was a sixth of a push's CPU; the budget keeps 32
	// concurrent pushes within ~150 MiB of RSS. Negative: always spool.
	PartMemory int64 `yaml:"part_memory"`
	// SignedPayloads makes minio-go sign the SHA-256 of every body berth
	// sends (streaming SigV4 over plain HTTP). Off by default: bodies are
	// sent as UNSIGNED-PAYLOAD, because every byte of them is ciphertext
	// whose AES-GCM tags authenticate it end to end (a changed byte fails the
	// read), and hashing it twice (berth signs, the store re-hashes to check)
	// was a fifth of a push's CPU. Turn it on for a store that refuses
	// unsigned payloads over plain HTTP. Over HTTPS minio-go sends unsigned
	// payloads either way (TLS protects them).
	SignedPayloads bool `yaml:"signed_payloads"`
}

const (
	defaultRegion      = "us-east-1"
	defaultPartSlots   = 255     // ~16 MiB: two parts fit the default part_memory
	minPartSize        = 5 << 20 // S3's minimum for every part but the last
	maxPartSize        = 5 << 30 // S3's maximum part size
	maxParts           = 10000   // S3's maximum part number
	defaultConcurrency = 3
	defaultPartMemory  = 32 << 20
	maxConcurrency     = 64
)

// Validate checks the configuration without contacting the server. Each
// problem names its field, e.g. "storage.s3.bucket: required".
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("storage.s3.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Endpoint == "" {
		bad("endpoint", "required")
	} else if _, _, err := c.endpoint(); err != nil {
		bad("endpoint", "%v", err)
	}
	if c.Bucket == "" {
		bad("bucket", "required")
	} else if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		bad("bucket", "%v", err)
	}
	if strings.Contains(c.Prefix, "//") || strings.Contains("/"+c.Prefix+"/", "/../") {
		bad("prefix", "%q must not contain empty or '..' segments", c.Prefix)
	}
	switch {
	case c.AccessKey != "" && c.SecretKey == "":
		bad("secret_key", "required when access_key is set")
	case c.AccessKey == "" && c.SecretKey != "":
		bad("access_key", "required when secret_key is set")
	case c.AccessKey == "" && c.SessionToken != "":
		bad("session_token", "needs access_key and secret_key")
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			bad("ca_file", "%v", err)
		}
	}
	if c.PartSize < 0 || c.PartSize > maxPartSize {
		bad("part_size", "%d is outside 0..%d (0 means the default)", c.PartSize, int64(maxPartSize))
	}
	if c.PartMemory > 1<<40 {
		bad("part_memory", "%d bytes is more than 1 TiB; is it a typo?", c.PartMemory)
	}
	if c.UploadConcurrency < 0 || c.UploadConcurrency > maxConcurrency {
		bad("upload_concurrency", "%d is outside 0..%d (0 means the default)", c.UploadConcurrency, maxConcurrency)
	}
	return errors.Join(errs...)
}

// endpoint splits Endpoint into the host:port minio-go wants and whether to
// use TLS. A URL's scheme must agree with Secure rather than silently win.
func (c Config) endpoint() (host string, secure bool, err error) {
	if !strings.Contains(c.Endpoint, "://") {
		if strings.ContainsAny(c.Endpoint, "/?#") {
			return "", false, fmt.Errorf("%q: want host[:port] or a URL", c.Endpoint)
		}
		return c.Endpoint, c.Secure, nil
	}
	u, err := url.Parse(c.Endpoint)
	if err != nil {
		return "", false, err
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", false, fmt.Errorf("%q: want scheme://host[:port] without path, query or user", c.Endpoint)
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		if c.Secure {
			return "", false, fmt.Errorf("%q is http but secure is true", c.Endpoint)
		}
		return u.Host, false, nil
	}
	return "", false, fmt.Errorf("%q: scheme must be http or https", c.Endpoint)
}

// partSize is PartSize rounded up to whole segments and to S3's minimum, so
// every part but the last holds whole sealed segments (ranged reads map a
// plaintext offset to a stored one by arithmetic alone).
func (c Config) partSize() int64 {
	ps := c.PartSize
	if ps == 0 {
		ps = defaultPartSlots * crypt.SlotSize
	}
	ps = max(ps, minPartSize)
	return (ps + crypt.SlotSize - 1) / crypt.SlotSize * crypt.SlotSize
}

// partMemory is the part pool's budget in bytes (0 when parts always
// spool).
func (c Config) partMemory() int64 {
	switch {
	case c.PartMemory < 0:
		return 0
	case c.PartMemory == 0:
		return defaultPartMemory
	}
	return c.PartMemory
}

func (c Config) region() string {
	if c.Region == "" {
		return defaultRegion
	}
	return c.Region
}

func (c Config) prefix() string {
	p := strings.Trim(c.Prefix, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

func (c Config) concurrency() int {
	if c.UploadConcurrency == 0 {
		return defaultConcurrency
	}
	return c.UploadConcurrency
}

// clientOptions builds minio-go options; retries is minio-go's MaxRetries
// (0 = its default of 10, 1 = no retry).
func (c Config) clientOptions(secure bool, retries int) (*minio.Options, error) {
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, err
	}
	if secure {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if c.CAFile != "" {
			pool, err := httpx.Roots(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("storage.s3.ca_file: %w", err)
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		tr.TLSClientConfig.InsecureSkipVerify = c.InsecureSkipVerify //nolint:gosec // operator's explicit choice
	} else {
		// Over TLS the body goes out a record (16 KiB) at a time anyway.
		tr.DialContext = bigWrites(tr.DialContext)
	}
	var creds *credentials.Credentials
	if c.AccessKey != "" {
		creds = credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	return &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Transport:    tr,
		Region:       c.region(),
		BucketLookup: lookup,
		MaxRetries:   retries,
	}, nil
}
