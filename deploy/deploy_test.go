// Package deploy holds the example configuration and container files for
// running berth for real; its test keeps them valid as the schema moves.
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/berth-registry/berth/config"
)

func TestExampleConfigLoads(t *testing.T) {
	for _, f := range []string{"berth-s3.yml", "image/berth-s3.yml"} {
		c, err := config.Load(f, nil)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if c.Storage.Backend != "s3" || c.HTTP.PlainHTTP {
			t.Fatalf("%s: want s3 over TLS, got %+v", f, c)
		}
	}
	a, _ := os.ReadFile("berth-s3.yml")
	b, _ := os.ReadFile("image/berth-s3.yml")
	if !bytes.Equal(a, b) {
		t.Fatal("image/berth-s3.yml drifted from berth-s3.yml")
	}
}

// TestComposeValidates runs `docker compose config` (or docker-compose).
func TestComposeValidates(t *testing.T) {
	var cmd *exec.Cmd
	if exec.Command("docker", "compose", "version").Run() == nil {
		cmd = exec.Command("docker", "compose", "-f", "../docker-compose.yml", "config", "-q")
	} else if p, err := exec.LookPath("docker-compose"); err == nil {
		cmd = exec.Command(p, "-f", "../docker-compose.yml", "config", "-q")
	} else {
		t.Fatal("neither `docker compose` nor docker-compose is installed (scripts/install-tools.sh)")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
}
