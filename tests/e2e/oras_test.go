package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestOras pushes files as an artifact with oras, attaches a signature-like
// artifact to it (subject), discovers the attachment through the referrers
// API and pulls both back — on MinIO.
func TestOras(t *testing.T) {
	t.Parallel()
	oras := goTool(t, "oras")
	b := startBerth(t, "minio")
	c := newCLI(t, b.CACert).login(b)
	a := newAPI(t, b)
	ref := host(b.URL) + "/e2e/oras"
	caFlag := []string{"--ca-file", b.CACert}
	const (
		artifactType = "application/vnd.berth.e2e.bundle"
		sigType      = "application/vnd.berth.e2e.signature"
	)

	files := map[string][]byte{
		"notes.txt": []byte("berth e2e " + randHex(t, 8) + "\n"),
		"data.bin":  randBytes(t, 512<<10),
	}
	for name, data := range files {
		c.write("in/"+name, data)
	}
	var pushed struct{ Digest string }
	// oras names the layers after the relative paths: run it in in/.
	out := c.in(c.path("in")).run(oras, append([]string{"push", ref + ":v1", "--artifact-type", artifactType, "--format", "json",
		"notes.txt:text/plain", "data.bin:application/octet-stream"}, caFlag...)...)
	if err := json.Unmarshal([]byte(out.stdout), &pushed); err != nil || pushed.Digest == "" {
		t.Fatalf("oras push output: %v\n%s", err, out.stdout)
	}

	// Pull into an empty directory and compare every file.
	c.run(oras, append([]string{"pull", "-o", c.path("out"), ref + ":v1"}, caFlag...)...)
	for name, data := range files {
		sameBytes(t, "oras pull "+name, readFile(t, c.path("out/"+name)), data)
	}
	m := parseManifest(t, a.do("GET", "/v2/e2e/oras/manifests/v1", nil, "Accept", mtOCIManifest).body)
	if m.ArtifactType != artifactType || len(m.Layers) != 2 {
		t.Fatalf("manifest: artifactType %q with %d layers, want %q with 2", m.ArtifactType, len(m.Layers), artifactType)
	}

	// Attach through the referrers API (no fallback tag).
	sig := []byte(`{"signed":"` + pushed.Digest + `","by":"e2e"}`)
	c.write("sig/sig.json", sig)
	var attached struct{ Digest string }
	out = c.in(c.path("sig")).run(oras, append([]string{"attach", "--distribution-spec", "v1.1-referrers-api", "--artifact-type", sigType,
		"--format", "json", ref + ":v1", "sig.json:application/json"}, caFlag...)...)
	if err := json.Unmarshal([]byte(out.stdout), &attached); err != nil || attached.Digest == "" {
		t.Fatalf("oras attach output: %v\n%s", err, out.stdout)
	}
	c.run(oras, append([]string{"pull", "-o", c.path("sigout"), ref + "@" + attached.Digest}, caFlag...)...)
	sameBytes(t, "oras pull attachment", readFile(t, c.path("sigout/sig.json")), sig)
	sm := parseManifest(t, a.do("GET", "/v2/e2e/oras/manifests/"+attached.Digest, nil, "Accept", mtOCIManifest).body)
	if sm.Subject == nil || sm.Subject.Digest != pushed.Digest {
		t.Fatalf("attachment's subject is %+v, want %s", sm.Subject, pushed.Digest)
	}

	// The referrers API lists the attachment (raw, then through oras).
	r := a.do("GET", "/v2/e2e/oras/referrers/"+pushed.Digest, nil)
	if r.status != http.StatusOK {
		t.Errorf("GET referrers: want 200 with an image index, got %s", r)
	} else {
		var idx struct {
			MediaType string       `json:"mediaType"`
			Manifests []descriptor `json:"manifests"`
		}
		if err := json.Unmarshal(r.body, &idx); err != nil {
			t.Errorf("GET referrers: %v\n%s", err, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != mtOCIIndex || idx.MediaType != mtOCIIndex {
			t.Errorf("GET referrers: Content-Type %q, mediaType %q, want %s", ct, idx.MediaType, mtOCIIndex)
		}
		found := false
		for _, d := range idx.Manifests {
			found = found || (d.Digest == attached.Digest && d.ArtifactType == sigType)
		}
		if !found {
			t.Errorf("GET referrers does not list %s (%s):\n%s", attached.Digest, sigType, r.body)
		}
	}
	var disc struct {
		Referrers []descriptor `json:"referrers"`
	}
	out = c.run(oras, append([]string{"discover", "--distribution-spec", "v1.1-referrers-api", "--format", "json", ref + ":v1"}, caFlag...)...)
	if err := json.Unmarshal([]byte(out.stdout), &disc); err != nil {
		t.Fatalf("oras discover output: %v\n%s", err, out.stdout)
	}
	if len(disc.Referrers) != 1 || disc.Referrers[0].Digest != attached.Digest || disc.Referrers[0].ArtifactType != sigType {
		t.Errorf("oras discover: got %+v, want exactly %s (%s)", disc.Referrers, attached.Digest, sigType)
	}
}
