package registry

import (
	"io"
	"net/http"
	"path"
	"strconv"

	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
)

// serveBlobBody answers a plain blob GET (no Range, no conditions) itself
// rather than through the App, and reports whether it did. distribution
// copies a blob's bytes three times on their way out: into fileReader's
// 4 MiB bufio.Reader, into io.CopyN's 32 KiB buffer (its ResponseWriter
// hides io.ReaderFrom), and into blobWriter's gather buffer to make the
// writes big. Here the driver's reader writes its decrypted chunks to the
// client straight from its own buffers (storage's pipeline WriteTo), one
// Write each.
//
// The answer is the App's: blobServer.ServeBlob's headers (ETag,
// Cache-Control, Docker-Content-Digest, Content-Type, Content-Length) and
// http.ServeContent's Accept-Ranges, from the same descriptor the App
// would stat; ranges and conditional requests still go to the App. When
// the blob is unknown or its reader cannot be opened it returns false
// before writing anything, and the App answers (its error, or the 503
// blobWriter turns a storage failure into).
func (e *edge) serveBlobBody(w http.ResponseWriter, r *http.Request, name, ref string) bool {
	d, err := digest.Parse(ref)
	if err != nil || e.ns == nil || r.Method != http.MethodGet || d.Algorithm() != digest.Canonical {
		return false
	}
	for _, h := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	ctx := r.Context()
	named, err := reference.WithName(name)
	if err != nil {
		return false
	}
	repo, err := e.ns.Repository(ctx, named)
	if err != nil {
		return false
	}
	desc, err := repo.Blobs(ctx).Stat(ctx, d)
	if err != nil || desc.Digest.Algorithm() != digest.Canonical {
		return false
	}
	rc, err := e.driver.Reader(ctx, blobDataPath(desc.Digest), 0)
	if err != nil {
		return false
	}
	defer rc.Close()
	h := w.Header()
	h.Set("Docker-Distribution-API-Version", "registry/2.0")
	h.Set("ETag", `"`+desc.Digest.String()+`"`)
	h.Set("Cache-Control", blobCacheControl)
	h.Set("Docker-Content-Digest", desc.Digest.String())
	h.Set("Content-Type", desc.MediaType)
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(desc.Size, 10))
	w.WriteHeader(http.StatusOK)
	// A failure part way leaves the body short of Content-Length, so the
	// client sees it, as with the App.
	_, _ = io.Copy(w, rc)
	return true
}

// blobCacheControl is distribution's for blobs (a year: content by digest
// never changes).
const blobCacheControl = "max-age=31536000"

// blobDataPath is where distribution keeps the bytes of blob d.
func blobDataPath(d digest.Digest) string {
	return path.Join(blobsRoot, d.Algorithm().String(), d.Encoded()[:2], d.Encoded(), "data")
}

const blobsRoot = "/docker/registry/v2/blobs"
