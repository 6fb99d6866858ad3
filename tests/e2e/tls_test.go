package e2e_test

import (
	"strings"
	"testing"
)

// TestClientsVerifyTLS makes sure the other tests are not vacuous about TLS:
// without berth's CA every client refuses berth's certificate (none of them
// silently falls back to skipping verification or to plain HTTP), and with
// the CA the same command works. (ctr and docker are checked in their own
// tests.)
func TestClientsVerifyTLS(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "disk")
	with, without := newCLI(t, b.CACert).login(b), newCLI(t, "").login(b)
	reg := host(b.URL)
	im := newImage(t, with, 4<<10)
	with.run(goTool(t, "crane"), "append", "--oci-empty-base", "-f", im.tarPath, "-t", reg+"/e2e/tls:v1")
	policy := with.write("policy.json", []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`))

	for _, tc := range []struct {
		tool string
		args func(c *cli) []string
	}{
		{"crane", func(*cli) []string { return []string{"digest", reg + "/e2e/tls:v1"} }},
		{"oras", func(*cli) []string { return []string{"manifest", "fetch", reg + "/e2e/tls:v1"} }},
		{"regctl", func(*cli) []string { return []string{"manifest", "get", reg + "/e2e/tls:v1"} }},
		{"skopeo", func(c *cli) []string {
			args := []string{"--policy", policy, "inspect", "--raw"}
			if c.certDir != "" {
				args = append(args, "--cert-dir", c.certDir)
			}
			return append(args, "docker://"+reg+"/e2e/tls:v1")
		}},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			bin := sysTool
			if tc.tool != "skopeo" {
				bin = goTool
			}
			path := bin(t, tc.tool)
			with, without := with.with(t), without.with(t)
			res, err := without.try(path, tc.args(without)...)
			if err == nil {
				t.Fatalf("%s without berth's CA succeeded; TLS is not verified:\n%s", tc.tool, res.stdout)
			}
			if msg := err.Error(); !strings.Contains(msg, "certificate") && !strings.Contains(msg, "x509") {
				t.Fatalf("%s without berth's CA: want a certificate error, got %v", tc.tool, err)
			}
			with.run(path, tc.args(with)...)
		})
	}
}
