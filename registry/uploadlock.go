package registry

import (
	"net/http"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
)

// oneWriterPerUpload lets one request at a time write an upload (PATCH,
// or the PUT that completes it), across every node sharing the store: two
// writers resuming at the same offset would both append, and neither
// upload could complete. The loser gets 416 RANGE_INVALID, as for any
// chunk that does not follow what the upload holds; a client then asks
// for the upload's status and goes on from there.
func (s *Server) oneWriterPerUpload(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch && r.Method != http.MethodPut {
			next.ServeHTTP(w, r)
			return
		}
		m := routeOf(s.routes, r)
		id := m.vars["uuid"]
		if m.name != v2.RouteNameBlobUploadChunk || id == "" {
			next.ServeHTTP(w, r)
			return
		}
		release, ok, err := s.opts.App.Meta.claimUpload(r.Context(), id, "request/"+requestID(w.Header()))
		if err != nil {
			s.internalError(w, r, "claiming the upload", err)
			return
		}
		if !ok {
			serveError(w, errcode.ErrorCodeRangeInvalid.WithDetail("another request is writing this upload; get its status and continue from there"))
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
