package registry

import (
	"context"
	"net/http"
	"time"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
)

// uploadLeaseTTL is how long a writer's claim on an upload lasts without
// renewal: a node that dies mid-PATCH blocks the upload this long at most.
const uploadLeaseTTL = 30 * time.Second

// oneWriterPerUpload lets one request at a time write an upload (PATCH,
// or the PUT that completes it), across every node sharing the store: two
// writers resuming at the same offset would both append, and neither
// upload could complete. The loser gets 416 RANGE_INVALID, as for any
// chunk that does not follow what the upload holds; a client then asks
// for the upload's status and goes on from there.
func (s *Server) oneWriterPerUpload(next http.Handler) http.Handler {
	st := s.opts.Gate.Store
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st == nil || (r.Method != http.MethodPatch && r.Method != http.MethodPut) {
			next.ServeHTTP(w, r)
			return
		}
		m := routeOf(s.routes, r)
		id := m.vars["uuid"]
		if m.name != v2.RouteNameBlobUploadChunk || id == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		name, owner := "upload/"+id, "request/"+requestID(w.Header())
		got, err := st.AcquireLease(ctx, name, owner, uploadLeaseTTL)
		if err != nil {
			s.internalError(w, r, "claiming the upload", err)
			return
		}
		if !got {
			setAPIVersion(w)
			serveError(w, errcode.ErrorCodeRangeInvalid.WithDetail("another request is writing this upload; get its status and continue from there"))
			return
		}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(uploadLeaseTTL / 3)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					// A lost lease cannot stop a write in flight; the
					// offset check of the next request catches any clash.
					_, _ = st.RenewLease(context.WithoutCancel(ctx), name, owner, uploadLeaseTTL)
				}
			}
		}()
		defer func() {
			close(stop)
			<-done
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := st.ReleaseLease(rctx, name, owner); err != nil {
				s.opts.Log.Warn("releasing an upload lease", "upload", id, "error", err)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
