package registry

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/distribution/reference"

	"github.com/berth-registry/berth/ecrmodel"
)

// namedRoute matches /v2/ paths that are meant for a repository, whatever
// the name looks like, so a bad name gets NAME_INVALID rather than the
// router's plain-text "404 page not found".
var namedRoute = regexp.MustCompile(`^/v2/(.+)/(manifests|blobs|tags|referrers)(/.*)?$`)

const nameRule = "lowercase letters, digits and separators (. _ __ - /), at most 255 characters"

// validName reports whether name is a repository name berth serves (the
// OCI grammar, which is ECR's: distribution routes more, an upper-case
// first component parsing as a domain).
func validName(name string) bool { return ecrmodel.ValidRegistryPath(name) }

// checkNames answers requests whose repository name distribution would not
// route, or would route and then fail with a 500 (names over 255
// characters), with the registry error a client expects.
func (s *Server) checkNames(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/v2/" || p == "/v2" {
			next.ServeHTTP(w, r)
			return
		}
		if m := routeOf(s.routes, r); m.name != "" {
			if name, ok := m.vars["name"]; ok && !ecrmodel.RepositoryNameRE.MatchString(name) {
				writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name",
					map[string]string{"name": name, "rule": nameRule})
				return
			}
			if len(m.vars["name"]) > reference.RepositoryNameTotalLengthMax {
				writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name",
					"repository name must not be more than 255 characters")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if _, _, ok := referrersPath(p); ok {
			next.ServeHTTP(w, r)
			return
		}
		if mm := namedRoute.FindStringSubmatch(p); mm != nil {
			writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name",
				map[string]string{"name": mm[1], "rule": nameRule})
			return
		}
		writeError(w, http.StatusNotFound, "UNSUPPORTED", "the operation is unsupported", map[string]string{"path": p})
	})
}

// hideInternalErrors keeps what a 5xx body from distribution would reveal
// about the storage (endpoint, bucket, keys, paths) in berth's log and
// gives the client the error code and a request id to quote instead.
func (s *Server) hideInternalErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		iw := &internalErrorWriter{ResponseWriter: w}
		next.ServeHTTP(iw, r)
		if iw.code == 0 {
			return
		}
		id := requestID(w.Header())
		var body struct {
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Detail  any    `json:"detail"`
			} `json:"errors"`
		}
		code, msg := "UNKNOWN", "unknown error"
		if json.Unmarshal(iw.buf.Bytes(), &body) == nil && len(body.Errors) > 0 {
			code, msg = body.Errors[0].Code, body.Errors[0].Message
		}
		s.opts.Log.Error("server error", "method", r.Method, "path", r.URL.Path, "status", iw.code,
			"request_id", id, "body", iw.buf.String())
		w.Header().Del("Content-Length")
		writeError(w, iw.code, code, msg+" (the registry log has the cause)", map[string]string{"request_id": id})
	})
}

// internalErrorWriter passes everything through until a 5xx status, then
// holds the body back.
type internalErrorWriter struct {
	http.ResponseWriter
	code  int // the held-back 5xx status
	wrote bool
	buf   bytes.Buffer
}

func (w *internalErrorWriter) WriteHeader(code int) {
	if w.wrote || w.code != 0 {
		return
	}
	if code >= 500 {
		w.code = code
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *internalErrorWriter) Write(p []byte) (int, error) {
	if w.code != 0 {
		if w.buf.Len() < 64<<10 {
			w.buf.Write(p)
		}
		return len(p), nil
	}
	w.wrote = true
	return w.ResponseWriter.Write(p)
}

func (w *internalErrorWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.code == 0 {
		f.Flush()
	}
}

func (w *internalErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestID returns the response's X-Request-Id, setting a fresh one.
func requestID(h http.Header) string {
	if id := h.Get("X-Request-Id"); id != "" {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	h.Set("X-Request-Id", id)
	return id
}
