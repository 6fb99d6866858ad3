package e2e_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestUploadPartSizesAcrossNodes: one blob upload whose PATCHes and final
// PUT go to two nodes configured with different storage.s3.part_size (as
// during a rolling config change) completes, and both nodes serve the
// exact bytes. The first PATCH (12 MiB, short of the default part size)
// decides the upload's part size; the 5 MiB node keeps it.
func TestUploadPartSizesAcrossNodes(t *testing.T) {
	t.Parallel()
	m := sharedMinIO(t)
	dsn := testenv.StartPostgres(t)
	storage := m.S3Storage(newBucket(t, m), "berth")
	o := testenv.BerthOptions{Shared: t.TempDir(), Storage: storage,
		Extra: fmt.Sprintf("metadata: {engine: postgres, dsn: %q}\n", dsn)}
	a := newAPI(t, testenv.StartBerth(t, o))
	o.Storage = strings.Replace(storage, "path_style: true}", "path_style: true, part_size: 5242880}", 1)
	if o.Storage == storage {
		t.Fatal("no part_size in the second node's storage section")
	}
	b := newAPI(t, testenv.StartBerth(t, o))

	const repo = "e2e/parts"
	for _, tc := range []struct {
		name   string
		chunks []int // PATCH sizes, alternating nodes from a
	}{
		{"mid-size first PATCH", []int{12 << 20, 8 << 20, 10<<20 + 123, 7 << 20}},
		{"small first PATCH", []int{1 << 20, 20 << 20, 3 << 20}},
	} {
		var data []byte
		for _, n := range tc.chunks {
			data = append(data, randBytes(t, n)...)
		}
		dg := digestOf(data)
		nodes := []api{a, b}
		loc := a.startUpload(repo)
		off := 0
		for i, n := range tc.chunks {
			var r response
			loc, r = nodes[i%2].patch(relative(t, loc), data[off:off+n], off)
			nodes[i%2].expect(r, fmt.Sprintf("%s: PATCH %d", tc.name, i), http.StatusAccepted)
			off += n
		}
		last := nodes[len(tc.chunks)%2]
		r := last.do("PUT", withQuery(relative(t, loc), "digest", dg), nil)
		last.expect(r, tc.name+": PUT", http.StatusCreated)
		for i, n := range nodes {
			sameBytes(t, fmt.Sprintf("%s: blob from node %d", tc.name, i), n.getBlob(repo, dg), data)
		}
	}
}

// relative is loc without scheme and host, so any node can take it.
func relative(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}
