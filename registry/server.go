package registry

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/gorilla/mux"

	"github.com/berth-registry/berth/metrics"
)

// Options are the Server's typed dependencies.
type Options struct {
	App     AppOptions
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Gate configures authentication and ECR semantics on /v2. With a nil
	// Gate.Store the registry serves anonymously (the registry core's own
	// tests); berth serve always wires it.
	Gate GateOptions
}

// Server is the registry: the embedded App behind berth's gate and edge.
// The node mounts V2 on its mux and wraps every listener with Wrap.
type Server struct {
	app    *handlers.App
	opts   Options
	routes *mux.Router
	v2     http.Handler
}

// V2 is the /v2/ handler: gate, edge and App.
func (s *Server) V2() http.Handler { return s.v2 }

// New builds the App and berth's handlers around it.
func New(ctx context.Context, o Options) (*Server, error) {
	app, err := newApp(ctx, o.App)
	if err != nil {
		return nil, err
	}
	s := &Server{app: app, opts: o, routes: v2.Router()}
	v2h := s.refuseDeletes(s.checkNames(s.oneWriterPerUpload(s.edge(app))))
	if o.Gate.Store != nil {
		v2h = s.gate(v2h)
	}
	s.v2 = s.hideInternalErrors(v2h)
	return s, nil
}

// Wrap is what every listener's handler gets: request metrics by route
// (berth_http_*) and panic recovery.
func (s *Server) Wrap(h http.Handler) http.Handler { return s.instrument(s.recoverPanics(h)) }

// Close stops the App's background work (upload purger).
func (s *Server) Close() error { return s.app.Shutdown() }

// recoverPanics turns a panic in a handler into a logged 500 instead of a
// dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.opts.Log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "UNKNOWN", "internal error", nil)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// refuseDeletes answers a client's DELETE on /v2 as distribution does with
// deletion disabled, unless registry.delete_enabled: ECR has no DELETE
// (BatchDeleteImage is the way). Upload cancels pass.
func (s *Server) refuseDeletes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Cancelling an upload is always allowed, as in distribution: it
		// deletes nothing anyone could pull.
		if r.Method == http.MethodDelete && !s.opts.App.DeleteEnabled && routeOf(s.routes, r).name != v2.RouteNameBlobUploadChunk {
			writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "The operation is unsupported.", nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeError is the one writer of berth's own registry (OCI distribution)
// error answers: the registry headers, the status and the error body.
func writeError(w http.ResponseWriter, status int, code, msg string, detail any) {
	setAPIVersion(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"code": code, "message": msg, "detail": detail}}})
}

// serveError answers a distribution error value (errcode.Error or
// ErrorCode) through writeError, with its code's status.
func serveError(w http.ResponseWriter, err error) {
	var e errcode.Error
	switch v := err.(type) {
	case errcode.Error:
		e = v
	case errcode.ErrorCode:
		e = v.WithDetail(nil)
	default:
		e = errcode.ErrorCodeUnknown.WithDetail(err.Error())
	}
	msg := e.Message
	if msg == "" {
		msg = e.Code.Message()
	}
	writeError(w, e.Code.Descriptor().HTTPStatusCode, e.Code.String(), msg, e.Detail)
}

func setAPIVersion(w http.ResponseWriter) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
}
