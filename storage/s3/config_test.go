package s3

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/storage/crypt"
)

func TestValidate(t *testing.T) {
	good := Config{Endpoint: "127.0.0.1:9000", Bucket: "registry", AccessKey: "a", SecretKey: "s"}
	if err := good.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "storage.s3.endpoint: required"},
		{"no bucket", func(c *Config) { c.Bucket = "" }, "storage.s3.bucket: required"},
		{"bad bucket", func(c *Config) { c.Bucket = "Bad_Bucket" }, "storage.s3.bucket:"},
		{"https url", func(c *Config) { c.Endpoint = "https://s3.example.com" }, ""},
		{"http url", func(c *Config) { c.Endpoint = "http://minio:9000/" }, ""},
		{"http url but secure", func(c *Config) { c.Endpoint = "http://minio:9000"; c.Secure = true }, "storage.s3.endpoint:"},
		{"url with path", func(c *Config) { c.Endpoint = "https://s3.example.com/bucket" }, "storage.s3.endpoint:"},
		{"host with path", func(c *Config) { c.Endpoint = "s3.example.com/bucket" }, "storage.s3.endpoint:"},
		{"ftp", func(c *Config) { c.Endpoint = "ftp://x" }, "storage.s3.endpoint:"},
		{"secret without access", func(c *Config) { c.AccessKey = "" }, "storage.s3.access_key:"},
		{"access without secret", func(c *Config) { c.SecretKey = "" }, "storage.s3.secret_key:"},
		{"no keys: env/IAM", func(c *Config) { c.AccessKey, c.SecretKey = "", "" }, ""},
		{"token alone", func(c *Config) { c.AccessKey, c.SecretKey, c.SessionToken = "", "", "t" }, "storage.s3.session_token:"},
		{"negative part size", func(c *Config) { c.PartSize = -1 }, "storage.s3.part_size:"},
		{"huge part size", func(c *Config) { c.PartSize = 6 << 30 }, "storage.s3.part_size:"},
		{"part memory off", func(c *Config) { c.PartMemory = -1 }, ""},
		{"huge part memory", func(c *Config) { c.PartMemory = 2 << 40 }, "storage.s3.part_memory:"},
		{"signed payloads", func(c *Config) { c.SignedPayloads = true }, ""},
		{"negative concurrency", func(c *Config) { c.UploadConcurrency = -1 }, "storage.s3.upload_concurrency:"},
		{"missing CA", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, "storage.s3.ca_file:"},
		{"prefix dots", func(c *Config) { c.Prefix = "a/../b" }, "storage.s3.prefix:"},
		{"prefix slashes", func(c *Config) { c.Prefix = "/a/b/" }, ""},
	} {
		c := good
		tc.mod(&c)
		err := c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		in, want int64
	}{
		{0, 255 * crypt.SlotSize}, // two fit the default part memory
		{1, 80 * crypt.SlotSize},  // S3's 5 MiB minimum, rounded up to whole slots
		{5 << 20, 80 * crypt.SlotSize},
		{100 * crypt.SlotSize, 100 * crypt.SlotSize},
		{100*crypt.SlotSize + 1, 101 * crypt.SlotSize},
	} {
		if got := (Config{PartSize: tc.in}).partSize(); got != tc.want {
			t.Errorf("partSize(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	c := Config{Prefix: "/a/b/"}
	if c.prefix() != "a/b/" || (Config{}).prefix() != "" {
		t.Errorf("prefix normalisation: %q", c.prefix())
	}
	if (Config{}).region() != "us-east-1" || (Config{}).concurrency() != 3 {
		t.Error("region/concurrency defaults")
	}
	for in, want := range map[int64]int64{0: 32 << 20, -1: 0, 1 << 20: 1 << 20} {
		if got := (Config{PartMemory: in}).partMemory(); got != want {
			t.Errorf("partMemory(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestNewTLSOptions(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Endpoint: "https://s3.example.com", Bucket: "bkt", CAFile: bad}
	if _, err := New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "storage.s3.ca_file") {
		t.Fatalf("New with a bad CA file: %v", err)
	}
	cfg.CAFile = ""
	cfg.InsecureSkipVerify = true
	b, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if b.PartSize() != 255*crypt.SlotSize || b.Name() != "s3" {
		t.Fatalf("PartSize %d, Name %s", b.PartSize(), b.Name())
	}
}

// TestDefaultPartsFitMemory: the default part memory holds two default
// parts, one filled while the other is sent, so a push alone never spools.
func TestDefaultPartsFitMemory(t *testing.T) {
	var c Config
	if n := c.partMemory() / c.partSize(); n != 2 {
		t.Fatalf("the default part memory holds %d default parts, want 2", n)
	}
}
