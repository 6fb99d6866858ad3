package registry

import (
	"io"
	"net/http"
	"strconv"

	"github.com/berth-registry/berth/pullthrough"
)

// pullThroughBlob answers a blob GET or HEAD of a cache repository: from
// the cache when it has the blob (pull permissions suffice); otherwise,
// with ecr:BatchImportUpstreamImage, a HEAD from the upstream's HEAD and a
// GET streamed from the upstream while it is stored
// (pullthrough.Importer.ServeBlob).
func (s *Server) pullThroughBlob(w http.ResponseWriter, r *http.Request, t pullthrough.Target, local *localRepo, allow func() error) {
	mw := &missWriter{w: w, h: w.Header().Clone()}
	local.next.ServeHTTP(mw, r)
	if !mw.miss {
		return
	}
	dgst := routeOf(s.routes, r).vars["digest"]
	if err := allow(); err != nil {
		mw.replay()
		return
	}
	ctx := r.Context()
	im := s.opts.Gate.PullThrough
	if r.Method == http.MethodHead {
		size, err := im.HeadBlob(ctx, t, dgst)
		if err != nil {
			s.pullThroughError(w, r, t.Repo, dgst, err, "BLOB_UNKNOWN", "blob unknown to registry")
			return
		}
		setAPIVersion(w)
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Docker-Content-Digest", dgst)
		h.Set("Etag", `"`+dgst+`"`)
		if size >= 0 {
			h.Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	setAPIVersion(w)
	stored, err := im.ServeBlob(ctx, t, dgst, local, w)
	switch {
	case err == nil && stored:
		local.next.ServeHTTP(w, r) // another fetch stored it meanwhile
	case err == nil:
	case pullthrough.Broken(err):
		s.opts.Log.Warn("pull-through: blob stream failed", "repository", t.Repo, "digest", dgst, "error", err)
		// Break the answer off: the client must not take what it got
		// for the blob.
		panic(http.ErrAbortHandler)
	default:
		s.pullThroughError(w, r, t.Repo, dgst, err, "BLOB_UNKNOWN", "blob unknown to registry")
	}
}

// missWriter passes the cache's answer through unless it is a 404, which
// it keeps back (replay sends it) so the upstream can answer instead.
type missWriter struct {
	w     http.ResponseWriter
	h     http.Header
	code  int
	miss  bool
	body  []byte
	wrote bool
}

func (m *missWriter) Header() http.Header { return m.h }

func (m *missWriter) WriteHeader(code int) {
	if m.wrote || m.miss {
		return
	}
	if code == http.StatusNotFound {
		m.miss, m.code = true, code
		return
	}
	dst := m.w.Header()
	for k, v := range m.h {
		dst[k] = v
	}
	m.wrote = true
	m.w.WriteHeader(code)
}

func (m *missWriter) Write(p []byte) (int, error) {
	if !m.wrote && !m.miss {
		m.WriteHeader(http.StatusOK)
	}
	if m.miss {
		if len(m.body) < 64<<10 {
			m.body = append(m.body, p...)
		}
		return len(p), nil
	}
	return m.w.Write(p)
}

// ReadFrom keeps the copy path of the writer underneath (blob GETs).
func (m *missWriter) ReadFrom(r io.Reader) (int64, error) {
	if !m.wrote && !m.miss {
		m.WriteHeader(http.StatusOK)
	}
	if m.miss {
		return io.Copy(io.Discard, r)
	}
	return io.Copy(m.w, r)
}

func (m *missWriter) Flush() {
	if f, ok := m.w.(http.Flusher); ok && m.wrote {
		f.Flush()
	}
}

func (m *missWriter) Unwrap() http.ResponseWriter { return m.w }

// replay sends the kept 404.
func (m *missWriter) replay() {
	dst := m.w.Header()
	for k, v := range m.h {
		dst[k] = v
	}
	m.w.WriteHeader(m.code)
	_, _ = m.w.Write(m.body)
}
