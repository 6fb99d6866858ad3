package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends broken requests with raw HTTP and checks berth answers
// each with the right status and registry error code, never a 5xx, and that
// nothing half-written becomes visible — on MinIO.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := startBerth(t, "minio")
	a := newAPI(t, b)
	const repo = "e2e/bad"

	t.Run("wrong digest on upload completion", func(t *testing.T) {
		a := a.with(t)
		data := randBytes(t, 64<<10)
		wrong := digestOf([]byte("not the content"))
		loc := a.startUpload(repo)
		r := a.do("PUT", withQuery(loc, "digest", wrong), data, "Content-Type", "application/octet-stream")
		expectError(t, "PUT ?digest=<wrong>", r, []int{400}, "DIGEST_INVALID")
		a.expectNoBlob(repo, wrong, digestOf(data))
	})

	t.Run("truncated upload", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			firstOK  int  // bytes PATCHed completely before the cut
			cutInPut bool // cut the final PUT's body instead of a PATCH
		}{
			{name: "PATCH cut short"},
			{name: "second PATCH cut short", firstOK: 96 << 10},
			{name: "PUT cut short", cutInPut: true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := a.with(t)
				data := randBytes(t, 256<<10)
				dg := digestOf(data)
				loc := a.startUpload(repo)
				if tc.firstOK > 0 {
					var r response
					loc, r = a.patch(loc, data[:tc.firstOK], 0)
					a.expect(r, "first PATCH", http.StatusAccepted)
				}
				rest := data[tc.firstOK:]
				if tc.cutInPut {
					t.Logf("cut PUT: %s", a.sendTruncated("PUT", withQuery(loc, "digest", dg), rest[:len(rest)/2], len(rest)))
					a.expectNoBlob(repo, dg)
					return
				}
				t.Logf("cut PATCH: %s", a.sendTruncated("PATCH", loc, rest[:len(rest)/2], len(rest)))
				a.expectNoBlob(repo, dg)
				r := a.do("PUT", withQuery(loc, "digest", dg), nil)
				expectError(t, "PUT after a cut PATCH", r, []int{400, 404},
					"DIGEST_INVALID", "SIZE_INVALID", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN")
				a.expectNoBlob(repo, dg)
			})
		}
		// The same content pushed properly afterwards is stored whole.
		a := a.with(t)
		data := randBytes(t, 256<<10)
		sameBytes(t, "clean push after cut uploads", a.getBlob(repo, a.pushBlob(repo, data, 2)), data)
	})

	t.Run("oversized manifest", func(t *testing.T) {
		a := a.with(t)
		body := mustJSON(t, ociManifest{SchemaVersion: 2, MediaType: mtOCIManifest,
			Config:      descriptor{MediaType: mtOCIConfig, Digest: digestOf([]byte("{}")), Size: 2},
			Layers:      []descriptor{},
			Annotations: map[string]string{"pad": strings.Repeat("x", 4<<20+1024)}})
		r := a.do("PUT", "/v2/"+repo+"/manifests/big", body, "Content-Type", mtOCIManifest)
		expectError(t, fmt.Sprintf("PUT manifest of %d bytes", len(body)), r, []int{400, 413}, "MANIFEST_INVALID", "SIZE_INVALID")
		a.expectNoManifest(repo, "big")
	})

	t.Run("malformed manifest", func(t *testing.T) {
		for _, tc := range []struct{ name, mediaType, body string }{
			{"truncated JSON", mtOCIManifest, `{"schemaVersion":2,"mediaType":"` + mtOCIManifest + `","config":{"mediaType":`},
			{"not JSON", mtOCIManifest, "this is not a manifest"},
			{"JSON array", mtOCIManifest, `[]`},
			{"docker v2 garbage", "application/vnd.docker.distribution.manifest.v2+json", `{"schemaVersion":2,`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := a.with(t)
				r := a.do("PUT", "/v2/"+repo+"/manifests/malformed", []byte(tc.body), "Content-Type", tc.mediaType)
				expectError(t, "PUT malformed manifest", r, []int{400}, "MANIFEST_INVALID")
				a.expectNoManifest(repo, "malformed")
			})
		}
	})

	t.Run("invalid repository name", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{"GET", "/v2/UPPER/Case/manifests/x"},
			{"GET", "/v2/a..b/manifests/x"},
			{"GET", "/v2/a..b/tags/list"},
			{"GET", "/v2/-lead/manifests/x"},
			{"GET", "/v2/ok/Bad_Repo/blobs/" + digestOf(nil)},
			{"GET", "/v2/" + strings.Repeat("a", 256) + "/manifests/x"},
			{"POST", "/v2/UPPER/blobs/uploads/"},
			{"PUT", "/v2/a..b/manifests/v1"},
		} {
			t.Run(tc.method+" "+tc.path[:min(len(tc.path), 40)], func(t *testing.T) {
				a := a.with(t)
				var body []byte
				if tc.method == "PUT" {
					body = []byte(`{"schemaVersion":2}`)
				}
				r := a.do(tc.method, tc.path, body, "Content-Type", mtOCIManifest)
				expectError(t, tc.method+" "+tc.path, r, []int{400, 404}, "NAME_INVALID", "NAME_UNKNOWN")
			})
		}
	})
}
