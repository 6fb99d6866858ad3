package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// manifestTypes are the Content-Types the fuzzer picks from (by index).
var manifestTypes = []string{
	v1.MediaTypeImageManifest,
	v1.MediaTypeImageIndex,
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
	"application/json",
	"",
}

// FuzzManifestPut sends any manifest body under any of the manifest
// Content-Types to the whole /v2 edge (gate, guards, edge, App, metadata
// middleware): a client's manifest is never a 5xx, a refusal is a registry
// error with a code, and what is accepted pulls back byte for byte by the
// digest the PUT answered. Seeds: the cases below and
// testdata/fuzz/FuzzManifestPut.
func FuzzManifestPut(f *testing.F) {
	ts := startTestServer(f, AppOptions{Driver: inmemory.New(), HTTPSecret: "fuzz", PurgeAge: time.Hour})
	tr := &testRegistry{t: f, url: ts.url}
	cfg := tr.pushBlob("fuzz", []byte(`{"architecture":"amd64","os":"linux"}`), digest.SHA256)
	layer := tr.pushBlob("fuzz", []byte("a layer"), digest.SHA256)
	desc := func(mt string, d digest.Digest, size int) string {
		return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d}`, mt, d, size)
	}
	image := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[%s]}`, v1.MediaTypeImageManifest,
		desc(v1.MediaTypeImageConfig, cfg, 37), desc(v1.MediaTypeImageLayer, layer, 7))
	for _, seed := range []struct {
		typ  uint8
		body string
	}{
		{0, image},
		{0, `null`},
		{0, `{}`},
		{0, `{"schemaVersion":1}`},
		{0, `{"schemaVersion":2,"config":7}`},
		{0, fmt.Sprintf(`{"schemaVersion":2,"config":%s,"layers":[%s]}`, desc(v1.MediaTypeImageConfig, cfg, 36), desc(v1.MediaTypeImageLayer, layer, 7))},
		{0, fmt.Sprintf(`{"schemaVersion":2,"config":%s,"layers":[],"subject":{"digest":"sha256:00"}}`, desc(v1.MediaTypeImageConfig, cfg, 37))},
		{1, fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s]}`, v1.MediaTypeImageIndex, desc(v1.MediaTypeImageManifest, digest.FromString(image), len(image)))},
		{1, `{"schemaVersion":2,"manifests":[]}`},
		{2, fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":%s,"layers":[%s]}`,
			desc("application/vnd.docker.container.image.v1+json", cfg, 37), desc("application/vnd.docker.image.rootfs.diff.tar.gzip", layer, 7))},
		{3, `{"schemaVersion":2,"manifests":[{"digest":"sha512:` + string(bytes.Repeat([]byte("0"), 128)) + `","size":1}]}`},
		{4, `{"schemaVersion":1,"name":"fuzz","tag":"x","fsLayers":[],"signatures":[]}`},
		{5, image},
		{6, image},
	} {
		f.Add(seed.typ, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		mt := manifestTypes[int(typ)%len(manifestTypes)]
		tr := &testRegistry{t: t, url: ts.url}
		put := tr.putManifest("fuzz", "t", mt, body)
		if put.code >= 500 {
			t.Fatalf("PUT %s %q: %d %s", mt, body, put.code, put.body)
		}
		if put.code != http.StatusCreated {
			var e struct {
				Errors []struct{ Code, Message string } `json:"errors"`
			}
			if json.Unmarshal(put.body, &e) != nil || len(e.Errors) == 0 || e.Errors[0].Code == "" {
				t.Fatalf("PUT %s %q: %d, not a registry error: %s", mt, body, put.code, put.body)
			}
			return
		}
		d := put.header.Get("Docker-Content-Digest")
		get := tr.do(http.MethodGet, "/v2/fuzz/manifests/"+d, nil, "Accept", "*/*, "+mt)
		if get.code != http.StatusOK || !bytes.Equal(get.body, body) {
			t.Fatalf("PUT %s %q answered %s; GET by digest: %d %q", mt, body, d, get.code, get.body)
		}
	})
}
