package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./berth-data" || c.HTTP.Addr != "127.0.0.1:5000" || c.HTTP.PlainHTTP || c.Storage.Backend != "disk" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Storage.Disk.Root != filepath.Join("berth-data", "storage") || c.Storage.Keyring != filepath.Join("berth-data", "keys", "keyring.json") {
		t.Fatalf("derived: %+v", c.Storage)
	}
}

func TestErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        []string
		field      string
	}{
		{"unknown top key", "nope: 1\n", nil, "nope"},
		{"unknown nested key", "http:\n  adr: x\n", nil, "http.adr"},
		{"unknown s3 key", "storage:\n  s3:\n    bukket: b\n", nil, "storage.s3.bukket"},
		{"bad addr", "http: {addr: nohostport}\n", nil, "http.addr"},
		{"bad backend", "storage: {backend: tape}\n", nil, "storage.backend"},
		{"s3 without bucket", "storage: {backend: s3, s3: {endpoint: 127.0.0.1:9000}}\n", nil, "storage.s3.bucket"},
		{"plain http off loopback", "http: {addr: '0.0.0.0:5000', plain_http: true}\n", nil, "http.plain_http"},
		{"bad log level", "log: {level: loud}\n", nil, "log.level"},
		{"bad duration", "registry: {upload_purge_age: soon}\n", nil, "registry.upload_purge_age"},
		{"bad env bool", "", []string{"BERTH_HTTP_PLAIN_HTTP=maybe"}, "http.plain_http"},
		{"unknown env", "", []string{"BERTH_HTTP_ADRESS=x"}, "BERTH_HTTP_ADRESS"},
		{"cert without key", "http: {tls_cert: a.pem}\n", nil, "http.tls_cert"},
		{"pprof off loopback", "debug: {pprof_addr: '0.0.0.0:6060'}\n", nil, "debug.pprof_addr"},
		{"pprof without port", "", []string{"BERTH_DEBUG_PPROF_ADDR=127.0.0.1"}, "debug.pprof_addr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := ""
			if c.yaml != "" {
				path = write(t, c.yaml)
			}
			_, err := Load(path, c.env)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v, want a FieldError", err)
			}
			if !strings.Contains(err.Error(), c.field) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q does not name %s on one line", err, c.field)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	p := write(t, "http: {addr: '127.0.0.1:6000'}\nstorage: {backend: s3, s3: {endpoint: 'a:1', bucket: bkt}}\n")
	c, err := Load(p, []string{"BERTH_HTTP_ADDR=127.0.0.1:7000", "BERTH_STORAGE_S3_ACCESS_KEY=ak", "BERTH_STORAGE_S3_SECRET_KEY=sk",
		"BERTH_STORAGE_S3_PATH_STYLE=true", "BERTH_HTTP_HOSTS=a.example, b.example", "BERTH_TOOLS=/x",
		"BERTH_STORAGE_S3_SIGNED_PAYLOADS=true", "BERTH_STORAGE_S3_PART_MEMORY=16777216"})
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != "127.0.0.1:7000" || c.Storage.S3.AccessKey != "ak" || !c.Storage.S3.PathStyle ||
		!c.Storage.S3.SignedPayloads || c.Storage.S3.PartMemory != 16<<20 ||
		len(c.HTTP.Hosts) != 2 || c.HTTP.Hosts[1] != "b.example" {
		t.Fatalf("env not applied: %+v", c)
	}
}

func TestPlainHTTPLoopbackOrForced(t *testing.T) {
	if _, err := Load("", []string{"BERTH_HTTP_PLAIN_HTTP=true"}); err != nil {
		t.Fatalf("plain on loopback refused: %v", err)
	}
	if _, err := Load("", []string{"BERTH_HTTP_PLAIN_HTTP=true", "BERTH_HTTP_ADDR=0.0.0.0:5000",
		"BERTH_HTTP_ALLOW_PLAIN_NON_LOOPBACK=true"}); err != nil {
		t.Fatalf("forced plain refused: %v", err)
	}
}

// TestPprofOnLoopback: profiles are served on a loopback address (by name
// or number, v4 or v6); other addresses are refused in TestErrorsNameTheField.
func TestPprofOnLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:6060", "localhost:0", "[::1]:6060"} {
		c, err := Load("", []string{"BERTH_DEBUG_PPROF_ADDR=" + addr})
		if err != nil || c.Debug.PprofAddr != addr {
			t.Fatalf("%s: %v", addr, err)
		}
	}
}

// TestPullThroughDurations: the pull-through cache's wait bound and stall
// timeout default to the importer's (a minute each), take positive
// durations from the file or the environment, and refuse others naming
// the key.
func TestPullThroughDurations(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.PullThrough.Wait() != 0 || c.PullThrough.Stall() != 0 {
		t.Fatalf("defaults: wait %v, stall %v; want 0 (the importer's default)", c.PullThrough.Wait(), c.PullThrough.Stall())
	}
	c, err = Load(write(t, "pull_through: {wait_bound: 90s}\n"), []string{"BERTH_PULL_THROUGH_STALL_TIMEOUT=2m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.PullThrough.Wait().Seconds() != 90 || c.PullThrough.Stall().Minutes() != 2 {
		t.Fatalf("set: wait %v, stall %v", c.PullThrough.Wait(), c.PullThrough.Stall())
	}
	for _, bad := range []string{"wait_bound: 0s", "wait_bound: soon", "stall_timeout: -1m", "stall_timeout: 0"} {
		_, err := Load(write(t, "pull_through: {"+bad+"}\n"), nil)
		key, _, _ := strings.Cut(bad, ":")
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "pull_through."+key) {
			t.Errorf("%s: %v, want an error naming pull_through.%s", bad, err, key)
		}
	}
}
