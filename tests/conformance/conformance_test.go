// Package conformance_test runs the OCI distribution-spec conformance suite
// ($BERTH_TOOLS/bin/conformance, from scripts/install-tools.sh) against a real
// `berth serve` over TLS with its generated CA, with every default check
// enabled (852+ checks: sha512 content, the referrers API, OCI-Subject,
// non-distributable layers, deletes), on MinIO and on local disk.
//
// Run:
//
//	go test ./tests/conformance/ -count=1 -v
package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/internal/testenv"
)

// deleteEnabled turns on DELETE on /v2, which the content-management checks need.
const deleteEnabled = "registry: {delete_enabled: true}\n"

func TestConformanceMinIO(t *testing.T) {
	bin := suite(t)
	m := testenv.StartMinIO(t)
	m.MakeBucket(t, "conformance")
	// As on ECR: no repository appears on push; the two the suite uses are
	// created through the API, and every request carries a login token.
	b := testenv.StartBerth(t, testenv.BerthOptions{
		Storage:   m.S3Storage("conformance", "berth"),
		Extra:     deleteEnabled,
		StrictECR: true,
	})
	runSuite(t, bin, b)
}

// The disk run takes a few seconds; it keeps the edge honest on the default
// storage too.
func TestConformanceDisk(t *testing.T) {
	bin := suite(t)
	b := testenv.StartBerth(t, testenv.BerthOptions{Extra: deleteEnabled, StrictECR: true})
	runSuite(t, bin, b)
}

func suite(t *testing.T) string {
	t.Helper()
	bin := testenv.ToolPath("conformance")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("OCI conformance suite not found at %s (%v): run scripts/install-tools.sh", bin, err)
	}
	return bin
}

var countLine = regexp.MustCompile(`^\s*(Disabled|Skip|Pass|FAIL|Error|Total)\.*:\s*(\d+)\s*$`)

// runSuite creates the suite's two repositories through the ECR API,
// enables blob mounting (ECR's BLOB_MOUNTING account setting, off by
// default: the suite's mount checks would fall back to plain uploads) and
// runs the suite against b (with b's login token), failing t unless it
// reports Pass.
func runSuite(t *testing.T, bin string, b *testenv.Berth) {
	t.Helper()
	ctx := testenv.Ctx(t, time.Minute)
	if _, err := b.ECR().PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")}); err != nil {
		t.Fatalf("PutAccountSetting BLOB_MOUNTING: %v", err)
	}
	for _, name := range []string{"conformance/repo1", "conformance/repo2"} {
		if _, err := b.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}); err != nil {
			t.Fatalf("CreateRepository %s: %v", name, err)
		}
	}
	// Kept when the test fails: report.html has every request and response.
	dir, err := os.MkdirTemp("", "berth-conformance-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		}
	})
	bundle := filepath.Join(dir, "ca-bundle.pem")
	if err := os.WriteFile(bundle, caBundle(t, b.CACert), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	// Its own directory: the suite reads ./oci-conformance.yaml when present.
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"OCI_REGISTRY="+b.Addr,
		"OCI_TLS=enabled",
		"SSL_CERT_FILE="+bundle, // the suite is a Go program: trusts berth's CA through this
		"OCI_REPO1=conformance/repo1",
		"OCI_REPO2=conformance/repo2",
		"OCI_RESULTS_DIR="+filepath.Join(dir, "results"),
		"OCI_LOG=warn",
		// Off by default in the suite; berth cancels uploads as distribution does.
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_USERNAME="+b.User,
		"OCI_PASSWORD="+b.Password,
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()

	// The suite exits 0 on its own configuration errors: only the result
	// line counts.
	passed := false
	var counts []string
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "OCI Conformance Result: Pass" {
			passed = true
		}
		if m := countLine.FindStringSubmatch(line); m != nil {
			counts = append(counts, m[1]+"="+m[2])
		}
	}
	t.Logf("OCI conformance on %s in %s: %s", b.Addr, time.Since(start).Round(100*time.Millisecond), strings.Join(counts, " "))
	if passed && runErr == nil {
		return
	}
	var failed []string
	for line := range strings.SplitSeq(stderr.String(), "\n") {
		if strings.Contains(line, "failed test") {
			failed = append(failed, line)
		}
	}
	t.Errorf("OCI conformance did not pass (exit: %v); %d failed test lines:\n%s", runErr, len(failed), strings.Join(failed, "\n"))
	if len(failed) == 0 {
		t.Logf("suite stdout (tail):\n%s\nstderr (tail):\n%s", tail(stdout.String(), 6000), tail(stderr.String(), 4000))
	}
	t.Logf("results kept in %s (report.html has every request and response); berth log (tail):\n%s", filepath.Join(dir, "results"), tail(b.Log(), 4000))
}

// caBundle is the system roots (where Go's SSL_CERT_FILE would have found
// them) plus berth's generated CA.
func caBundle(t *testing.T, caCert string) []byte {
	t.Helper()
	ca, err := os.ReadFile(caCert)
	if err != nil {
		t.Fatalf("berth CA: %v", err)
	}
	var out []byte
	for _, p := range []string{os.Getenv("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"} {
		if p == "" {
			continue
		}
		if b, err := os.ReadFile(p); err == nil {
			out = append(b, '\n')
			break
		}
	}
	return append(out, ca...)
}

// cleanEnv is the environment without the suite's own variables, so a stray
// OCI_* setting cannot change what is tested.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OCI_") || strings.HasPrefix(kv, "SSL_CERT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func tail(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("…%s", s[len(s)-n:])
	}
	return s
}
