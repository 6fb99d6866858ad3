package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
)

func TestMain(m *testing.M) {
	logrus.SetOutput(io.Discard) // distribution logs every request through logrus
	os.Exit(m.Run())
}

// testRegistry is a Server on an in-memory driver behind httptest.
type testRegistry struct {
	t      testing.TB
	url    string
	driver storagedriver.StorageDriver
}

func newTestRegistry(t *testing.T) *testRegistry {
	t.Helper()
	drv := inmemory.New()
	url := startServer(t, AppOptions{Driver: drv, HTTPSecret: "edge-test", DeleteEnabled: true, PurgeAge: time.Hour})
	return &testRegistry{t: t, url: url, driver: drv}
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

// errCode is the code of the first registry error in the body.
func (r response) errCode() string {
	var e struct {
		Errors []struct{ Code string } `json:"errors"`
	}
	if json.Unmarshal(r.body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Code
}

func (tr *testRegistry) do(method, target string, body []byte, header ...string) response {
	tr.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = tr.url + target
	}
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		tr.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		tr.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tr.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// pushBlob uploads content (POST, then PUT ?digest=) and returns its digest.
func (tr *testRegistry) pushBlob(repo string, content []byte, alg digest.Algorithm) digest.Digest {
	tr.t.Helper()
	d := alg.FromBytes(content)
	start := tr.do(http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil)
	if start.code != http.StatusAccepted {
		tr.t.Fatalf("POST upload: %d %s", start.code, start.body)
	}
	loc, err := url.Parse(start.header.Get("Location"))
	if err != nil {
		tr.t.Fatal(err)
	}
	q := loc.Query()
	q.Set("digest", d.String())
	loc.RawQuery = q.Encode()
	put := tr.do(http.MethodPut, loc.String(), content, "Content-Type", "application/octet-stream")
	if put.code != http.StatusCreated {
		tr.t.Fatalf("PUT upload %s: %d %s", d, put.code, put.body)
	}
	if got := put.header.Get("Docker-Content-Digest"); got != d.String() {
		tr.t.Fatalf("PUT upload: Docker-Content-Digest %q, want %q", got, d)
	}
	return d
}

// headManifest is a HEAD that accepts OCI manifests and indexes.
func (tr *testRegistry) headManifest(repo, ref string) response {
	tr.t.Helper()
	return tr.do(http.MethodHead, "/v2/"+repo+"/manifests/"+ref, nil, "Accept", v1.MediaTypeImageManifest+", "+v1.MediaTypeImageIndex)
}

func (tr *testRegistry) putManifest(repo, ref, mediaType string, body []byte) response {
	tr.t.Helper()
	return tr.do(http.MethodPut, "/v2/"+repo+"/manifests/"+ref, body, "Content-Type", mediaType)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// image is an image manifest over blobs pushed to repo.
func (tr *testRegistry) image(repo string, alg digest.Algorithm, configType, artifactType string, subject *v1.Descriptor, annotations map[string]string) []byte {
	tr.t.Helper()
	cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
	if configType == v1.MediaTypeEmptyJSON {
		cfg = []byte("{}")
	}
	layer := []byte("layer of " + repo + " " + artifactType + time.Now().String())
	m := v1.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    v1.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       v1.Descriptor{MediaType: configType, Digest: tr.pushBlob(repo, cfg, alg), Size: int64(len(cfg))},
		Layers:       []v1.Descriptor{{MediaType: v1.MediaTypeImageLayer, Digest: tr.pushBlob(repo, layer, alg), Size: int64(len(layer))}},
		Subject:      subject,
		Annotations:  annotations,
	}
	return mustJSON(tr.t, m)
}

func (tr *testRegistry) referrers(repo string, subject digest.Digest, query string) (response, v1.Index) {
	tr.t.Helper()
	res := tr.do(http.MethodGet, "/v2/"+repo+"/referrers/"+subject.String()+query, nil)
	var idx v1.Index
	if res.code == http.StatusOK {
		if err := json.Unmarshal(res.body, &idx); err != nil {
			tr.t.Fatalf("referrers body: %v: %s", err, res.body)
		}
	}
	return res, idx
}

func digests(descs []v1.Descriptor) []string {
	var out []string
	for _, d := range descs {
		out = append(out, d.Digest.String())
	}
	slices.Sort(out)
	return out
}

func sorted(ds ...digest.Digest) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	slices.Sort(out)
	return out
}

const (
	sbomType   = "application/vnd.example.sbom"
	sigType    = "application/vnd.example.signature"
	configType = "application/vnd.example.config"
)

func TestReferrers(t *testing.T) {
	tr := newTestRegistry(t)
	const repo = "team/app"

	subjectBody := tr.image(repo, digest.SHA256, v1.MediaTypeImageConfig, "", nil, nil)
	put := tr.putManifest(repo, "v1", v1.MediaTypeImageManifest, subjectBody)
	if put.code != http.StatusCreated {
		t.Fatalf("PUT subject: %d %s", put.code, put.body)
	}
	if h := put.header.Get("OCI-Subject"); h != "" {
		t.Errorf("PUT of a manifest without subject: OCI-Subject %q", h)
	}
	subject := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromBytes(subjectBody), Size: int64(len(subjectBody))}

	// Three referrers: an artifact with artifactType, an image whose
	// artifactType comes from its config, and an index with artifactType.
	sbomBody := tr.image(repo, digest.SHA256, v1.MediaTypeEmptyJSON, sbomType, &subject, map[string]string{"org.example.kind": "sbom"})
	configBody := tr.image(repo, digest.SHA256, configType, "", &subject, nil)
	indexBody := mustJSON(t, v1.Index{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    v1.MediaTypeImageIndex,
		ArtifactType: sigType,
		Manifests:    []v1.Descriptor{subject},
		Subject:      &subject,
		Annotations:  map[string]string{"org.example.kind": "signature"},
	})
	sbom, byConfig, index := digest.FromBytes(sbomBody), digest.FromBytes(configBody), digest.FromBytes(indexBody)
	for _, p := range []struct {
		ref, mediaType string
		body           []byte
	}{
		{sbom.String(), v1.MediaTypeImageManifest, sbomBody},   // by digest
		{"with-config", v1.MediaTypeImageManifest, configBody}, // by tag
		{index.String(), v1.MediaTypeImageIndex, indexBody},    // an index
		{"sbom-again", v1.MediaTypeImageManifest, sbomBody},    // the same referrer again, by tag
	} {
		res := tr.putManifest(repo, p.ref, p.mediaType, p.body)
		if res.code != http.StatusCreated {
			t.Fatalf("PUT referrer %s: %d %s", p.ref, res.code, res.body)
		}
		if got := res.header.Get("OCI-Subject"); got != subject.Digest.String() {
			t.Errorf("PUT referrer %s: OCI-Subject %q, want %q", p.ref, got, subject.Digest)
		}
	}

	for _, tc := range []struct {
		name      string
		repo      string
		subject   string
		query     string
		method    string
		code      int
		errCode   string
		want      []string // digests, for 200
		filtered  bool
		checkDesc bool
	}{
		{name: "all", repo: repo, subject: subject.Digest.String(), code: 200, want: sorted(sbom, byConfig, index), checkDesc: true},
		{name: "artifactType of an artifact", repo: repo, subject: subject.Digest.String(), query: "?artifactType=" + url.QueryEscape(sbomType), code: 200, want: sorted(sbom), filtered: true},
		{name: "artifactType from the config", repo: repo, subject: subject.Digest.String(), query: "?artifactType=" + url.QueryEscape(configType), code: 200, want: sorted(byConfig), filtered: true},
		{name: "artifactType of an index", repo: repo, subject: subject.Digest.String(), query: "?artifactType=" + url.QueryEscape(sigType), code: 200, want: sorted(index), filtered: true},
		{name: "artifactType nobody has", repo: repo, subject: subject.Digest.String(), query: "?artifactType=application/x-none", code: 200, want: nil, filtered: true},
		{name: "unknown subject", repo: repo, subject: digest.FromString("nothing").String(), code: 200, want: nil},
		// ECR: a repository must exist, for referrers as for everything.
		{name: "unknown repository", repo: "no/such/repo", subject: subject.Digest.String(), code: 404, errCode: "NAME_UNKNOWN"},
		{name: "sha512 subject", repo: repo, subject: digest.SHA512.FromString("nothing").String(), code: 200, want: nil},
		{name: "invalid digest", repo: repo, subject: "sha256:xyz", code: 400, errCode: "DIGEST_INVALID"},
		{name: "tag instead of digest", repo: repo, subject: "latest", code: 400, errCode: "DIGEST_INVALID"},
		{name: "invalid name", repo: "Team/App", subject: subject.Digest.String(), code: 400, errCode: "NAME_INVALID"},
		{name: "POST", repo: repo, subject: subject.Digest.String(), method: http.MethodPost, code: 405, errCode: "UNSUPPORTED"},
		{name: "HEAD", repo: repo, subject: subject.Digest.String(), method: http.MethodHead, code: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			res := tr.do(method, "/v2/"+tc.repo+"/referrers/"+tc.subject+tc.query, nil)
			if res.code != tc.code {
				t.Fatalf("status %d, want %d: %s", res.code, tc.code, res.body)
			}
			if tc.errCode != "" {
				if got := res.errCode(); got != tc.errCode {
					t.Errorf("error code %q, want %q: %s", got, tc.errCode, res.body)
				}
				return
			}
			if ct := res.header.Get("Content-Type"); ct != v1.MediaTypeImageIndex {
				t.Errorf("Content-Type %q", ct)
			}
			if got := res.header.Get("OCI-Filters-Applied"); (got == "artifactType") != tc.filtered {
				t.Errorf("OCI-Filters-Applied %q, filtered %v", got, tc.filtered)
			}
			if method == http.MethodHead {
				if len(res.body) != 0 {
					t.Errorf("HEAD with a body: %s", res.body)
				}
				return
			}
			var idx v1.Index
			if err := json.Unmarshal(res.body, &idx); err != nil {
				t.Fatal(err)
			}
			if idx.SchemaVersion != 2 || idx.MediaType != v1.MediaTypeImageIndex {
				t.Errorf("not an OCI index: %s", res.body)
			}
			if !bytes.Contains(res.body, []byte(`"manifests":[`)) {
				t.Errorf("manifests is not a list: %s", res.body)
			}
			if got := digests(idx.Manifests); !slices.Equal(got, tc.want) {
				t.Errorf("referrers %v, want %v", got, tc.want)
			}
			if !tc.checkDesc {
				return
			}
			want := map[digest.Digest]v1.Descriptor{
				sbom:     {MediaType: v1.MediaTypeImageManifest, ArtifactType: sbomType, Size: int64(len(sbomBody)), Annotations: map[string]string{"org.example.kind": "sbom"}},
				byConfig: {MediaType: v1.MediaTypeImageManifest, ArtifactType: configType, Size: int64(len(configBody))},
				index:    {MediaType: v1.MediaTypeImageIndex, ArtifactType: sigType, Size: int64(len(indexBody)), Annotations: map[string]string{"org.example.kind": "signature"}},
			}
			for _, d := range idx.Manifests {
				w := want[d.Digest]
				if d.MediaType != w.MediaType || d.ArtifactType != w.ArtifactType || d.Size != w.Size || !mapsEqual(d.Annotations, w.Annotations) {
					t.Errorf("descriptor %+v, want %+v", d, w)
				}
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestReferrersDelete(t *testing.T) {
	tr := newTestRegistry(t)
	const repo = "team/app"
	subjectBody := tr.image(repo, digest.SHA256, v1.MediaTypeImageConfig, "", nil, nil)
	if res := tr.putManifest(repo, "v1", v1.MediaTypeImageManifest, subjectBody); res.code != http.StatusCreated {
		t.Fatalf("PUT subject: %d %s", res.code, res.body)
	}
	subject := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.FromBytes(subjectBody), Size: int64(len(subjectBody))}
	a := tr.image(repo, digest.SHA256, v1.MediaTypeEmptyJSON, sbomType, &subject, nil)
	b := tr.image(repo, digest.SHA256, v1.MediaTypeEmptyJSON, sigType, &subject, nil)
	da, db := digest.FromBytes(a), digest.FromBytes(b)
	for ref, body := range map[string][]byte{"a": a, db.String(): b} {
		if res := tr.putManifest(repo, ref, v1.MediaTypeImageManifest, body); res.code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", ref, res.code, res.body)
		}
	}

	// Deleting a tag leaves the manifest, and so its entry.
	if res := tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/a", nil); res.code != http.StatusAccepted {
		t.Fatalf("DELETE tag: %d %s", res.code, res.body)
	}
	if _, idx := tr.referrers(repo, subject.Digest, ""); !slices.Equal(digests(idx.Manifests), sorted(da, db)) {
		t.Fatalf("after tag delete: %v", digests(idx.Manifests))
	}

	// Deleting the manifest removes its entry, and only its entry.
	if res := tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/"+da.String(), nil); res.code != http.StatusAccepted {
		t.Fatalf("DELETE manifest: %d %s", res.code, res.body)
	}
	if _, idx := tr.referrers(repo, subject.Digest, ""); !slices.Equal(digests(idx.Manifests), sorted(db)) {
		t.Errorf("after delete: %v, want only %s", digests(idx.Manifests), db)
	}
	if res := tr.headManifest(repo, da.String()); res.code != http.StatusNotFound {
		t.Errorf("HEAD of the deleted manifest: %d", res.code)
	}
	// Deleting it again: 404.
	if res := tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/"+da.String(), nil); res.code != http.StatusNotFound || res.errCode() != "MANIFEST_UNKNOWN" {
		t.Errorf("second DELETE: %d %s", res.code, res.body)
	}
	// Deleting the subject does not touch its referrers (they are not
	// deleted with it).
	if res := tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/"+subject.Digest.String(), nil); res.code != http.StatusAccepted {
		t.Fatalf("DELETE subject: %d %s", res.code, res.body)
	}
	if _, idx := tr.referrers(repo, subject.Digest, ""); !slices.Equal(digests(idx.Manifests), sorted(db)) {
		t.Errorf("after subject delete: %v", digests(idx.Manifests))
	}
}

func TestManifestPutBadSubject(t *testing.T) {
	tr := newTestRegistry(t)
	const repo = "team/app"
	body := tr.image(repo, digest.SHA256, v1.MediaTypeEmptyJSON, sbomType,
		&v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: "sha256:not-hex", Size: 2}, nil)
	res := tr.putManifest(repo, "bad", v1.MediaTypeImageManifest, body)
	if res.code != http.StatusBadRequest || res.errCode() != "MANIFEST_INVALID" {
		t.Fatalf("PUT with an invalid subject digest: %d %s", res.code, res.body)
	}
	// Not stored.
	if res := tr.headManifest(repo, "bad"); res.code != http.StatusNotFound {
		t.Errorf("HEAD: %d", res.code)
	}
}

func TestSHA512(t *testing.T) {
	tr := newTestRegistry(t)
	const repo, other = "team/app", "team/other"

	// Blobs: upload, HEAD and GET answer with the sha512 digest.
	content := []byte("sha512 content")
	d := tr.pushBlob(repo, content, digest.SHA512)
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		res := tr.do(method, "/v2/"+repo+"/blobs/"+d.String(), nil)
		if res.code != http.StatusOK || res.header.Get("Docker-Content-Digest") != d.String() {
			t.Errorf("%s blob: %d, Docker-Content-Digest %q", method, res.code, res.header.Get("Docker-Content-Digest"))
		}
		if method == http.MethodGet && !bytes.Equal(res.body, content) {
			t.Errorf("GET blob: %q", res.body)
		}
	}

	// Mount into another repository by the sha512 digest.
	res := tr.do(http.MethodPost, "/v2/"+other+"/blobs/uploads/?mount="+url.QueryEscape(d.String())+"&from="+url.QueryEscape(repo), nil)
	if res.code != http.StatusCreated || res.header.Get("Docker-Content-Digest") != d.String() || !strings.HasSuffix(res.header.Get("Location"), "/"+d.String()) {
		t.Fatalf("mount: %d %v %s", res.code, res.header, res.body)
	}
	if res := tr.do(http.MethodGet, res.header.Get("Location"), nil); res.code != http.StatusOK || !bytes.Equal(res.body, content) || res.header.Get("Docker-Content-Digest") != d.String() {
		t.Errorf("GET mounted blob: %d %q %q", res.code, res.header.Get("Docker-Content-Digest"), res.body)
	}
	// A mount of what the source does not have falls back to an upload.
	missing := digest.SHA512.FromString("never pushed")
	if res := tr.do(http.MethodPost, "/v2/"+other+"/blobs/uploads/?mount="+url.QueryEscape(missing.String())+"&from="+url.QueryEscape(repo), nil); res.code != http.StatusAccepted {
		t.Errorf("mount of a missing blob: %d %s", res.code, res.body)
	}

	// Manifests by sha512.
	body := tr.image(repo, digest.SHA512, v1.MediaTypeImageConfig, "", nil, nil)
	md := digest.SHA512.FromBytes(body)
	canonical := digest.FromBytes(body)
	if res := tr.putManifest(repo, digest.SHA512.FromString("other content").String(), v1.MediaTypeImageManifest, body); res.code != http.StatusBadRequest || res.errCode() != "DIGEST_INVALID" {
		t.Errorf("PUT under the wrong sha512: %d %s", res.code, res.body)
	}
	res = tr.putManifest(repo, md.String(), v1.MediaTypeImageManifest, body)
	if res.code != http.StatusCreated || res.header.Get("Docker-Content-Digest") != md.String() || !strings.HasSuffix(res.header.Get("Location"), "/manifests/"+md.String()) {
		t.Fatalf("PUT by sha512: %d %v %s", res.code, res.header, res.body)
	}
	get := tr.do(http.MethodGet, "/v2/"+repo+"/manifests/"+md.String(), nil, "Accept", v1.MediaTypeImageManifest)
	if get.code != http.StatusOK || !bytes.Equal(get.body, body) || get.header.Get("Docker-Content-Digest") != md.String() || get.header.Get("Content-Type") != v1.MediaTypeImageManifest {
		t.Errorf("GET by sha512: %d %v", get.code, get.header)
	}
	// An index of sha512 manifests: its children are checked through the alias.
	idx := mustJSON(t, v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: []v1.Descriptor{{MediaType: v1.MediaTypeImageManifest, Digest: md, Size: int64(len(body)), Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	})
	idxd := digest.SHA512.FromBytes(idx)
	if res := tr.putManifest(repo, idxd.String(), v1.MediaTypeImageIndex, idx); res.code != http.StatusCreated {
		t.Fatalf("PUT index by sha512: %d %s", res.code, res.body)
	}

	// DELETE by sha512 removes the manifest under both digests.
	for _, ref := range []digest.Digest{idxd, md} {
		if res := tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/"+ref.String(), nil); res.code != http.StatusAccepted {
			t.Fatalf("DELETE %s: %d %s", ref, res.code, res.body)
		}
	}
	for _, ref := range []digest.Digest{md, canonical, idxd} {
		if res := tr.headManifest(repo, ref.String()); res.code != http.StatusNotFound {
			t.Errorf("HEAD %s after delete: %d", ref, res.code)
		}
	}
	if _, err := tr.driver.Stat(context.Background(), manifestLinkPath(repo, md)); !isPathNotFound(err) {
		t.Errorf("alias link left behind: %v", err)
	}
}

// A manifest pushed by sha256 and by sha512 is one manifest: deleting it by
// sha256 removes the sha512 name too.
func TestSHA512DeleteByCanonical(t *testing.T) {
	tr := newTestRegistry(t)
	const repo = "team/app"
	body := tr.image(repo, digest.SHA256, v1.MediaTypeImageConfig, "", nil, nil)
	md, canonical := digest.SHA512.FromBytes(body), digest.FromBytes(body)
	for _, ref := range []string{canonical.String(), md.String()} {
		if res := tr.putManifest(repo, ref, v1.MediaTypeImageManifest, body); res.code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", ref, res.code, res.body)
		}
	}
	// Read by sha512 first, so the App has it in its descriptor cache.
	if res := tr.headManifest(repo, md.String()); res.code != http.StatusOK {
		t.Fatalf("HEAD by sha512: %d", res.code)
	}
	if res := tr.do(http.MethodDelete, "/v2/"+repo+"/manifests/"+canonical.String(), nil); res.code != http.StatusAccepted {
		t.Fatalf("DELETE: %d %s", res.code, res.body)
	}
	for _, ref := range []digest.Digest{md, canonical} {
		if res := tr.headManifest(repo, ref.String()); res.code != http.StatusNotFound {
			t.Errorf("HEAD %s after delete: %d", ref, res.code)
		}
	}
}

func TestSinglePostUpload(t *testing.T) {
	tr := newTestRegistry(t)
	const repo = "team/app"
	for _, tc := range []struct {
		name    string
		content []byte
		dgst    string
		code    int
		errCode string
	}{
		{name: "sha256", content: []byte("one request"), dgst: digest.FromString("one request").String(), code: 201},
		{name: "sha512", content: []byte("one request"), dgst: digest.SHA512.FromString("one request").String(), code: 201},
		{name: "empty blob", content: []byte{}, dgst: digest.FromBytes(nil).String(), code: 201},
		{name: "wrong digest", content: []byte("one request"), dgst: digest.FromString("something else").String(), code: 400, errCode: "DIGEST_INVALID"},
		{name: "invalid digest", content: []byte("one request"), dgst: "sha256:nope", code: 400, errCode: "DIGEST_INVALID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tr.do(http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+url.QueryEscape(tc.dgst), tc.content, "Content-Type", "application/octet-stream")
			if res.code != tc.code {
				t.Fatalf("POST: %d, want %d: %s", res.code, tc.code, res.body)
			}
			if tc.errCode != "" {
				if res.errCode() != tc.errCode {
					t.Errorf("error %q, want %q", res.errCode(), tc.errCode)
				}
				return
			}
			if got := res.header.Get("Docker-Content-Digest"); got != tc.dgst {
				t.Errorf("Docker-Content-Digest %q, want %q", got, tc.dgst)
			}
			get := tr.do(http.MethodGet, res.header.Get("Location"), nil)
			if get.code != http.StatusOK || !bytes.Equal(get.body, tc.content) {
				t.Errorf("GET Location %s: %d %q", res.header.Get("Location"), get.code, get.body)
			}
		})
	}
}

func TestReferrersPath(t *testing.T) {
	for _, tc := range []struct {
		path, name, ref string
		ok              bool
	}{
		{"/v2/a/referrers/sha256:x", "a", "sha256:x", true},
		{"/v2/a/b/c/referrers/sha256:x", "a/b/c", "sha256:x", true},
		{"/v2/referrers/referrers/sha256:x", "referrers", "sha256:x", true},
		{"/v2/a/referrers/b/manifests/latest", "", "", false},
		{"/v2/a/referrers/", "", "", false},
		{"/v2/referrers/sha256:x", "", "", false},
		{"/v2/a/manifests/latest", "", "", false},
	} {
		name, ref, ok := referrersPath(tc.path)
		if name != tc.name || ref != tc.ref || ok != tc.ok {
			t.Errorf("%s: %q %q %v", tc.path, name, ref, ok)
		}
	}
}
