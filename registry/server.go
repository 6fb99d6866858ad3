package registry

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/gorilla/mux"

	"github.com/berth-registry/berth/metrics"
)

// Options are the Server's typed dependencies.
type Options struct {
	App     AppOptions
	Metrics *metrics.Metrics
	// Ready reports whether storage is reachable (/readyz).
	Ready func(context.Context) error
	Log   *slog.Logger
	// Gate configures authentication and ECR semantics on /v2. With a nil
	// Gate.Store the registry serves anonymously (the registry core's own
	// tests); berth serve always wires it.
	Gate GateOptions
	// API serves POST / (the ECR JSON API; STS with the IAM issue).
	API http.Handler
}

// Server is berth's HTTP handler.
type Server struct {
	app     *handlers.App
	opts    Options
	routes  *mux.Router
	handler http.Handler
	v2      http.Handler // /v2 with gate, edge and App: in-process calls go here
}

// V2 is the /v2 handler (gate, edge, App) for in-process calls of the ECR
// API; requests must carry withInternal's mark or credentials.
func (s *Server) V2() http.Handler { return s.v2 }

// New builds the App and the mux around it.
func New(ctx context.Context, o Options) (*Server, error) {
	app, err := newApp(ctx, o.App)
	if err != nil {
		return nil, err
	}
	s := &Server{app: app, opts: o, routes: v2.Router()}
	mux := http.NewServeMux() // never http.DefaultServeMux: distribution registers debug handlers there
	v2h := s.refuseDeletes(s.checkNames(s.oneWriterPerUpload(s.edge(app))))
	if o.Gate.Store != nil {
		v2h = s.gate(v2h)
	}
	s.v2 = s.hideInternalErrors(v2h)
	mux.Handle("/v2/", s.v2)
	if o.API != nil {
		mux.Handle("POST /{$}", o.API)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeHealth(w, nil) })
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", o.Metrics.Handler())
	s.handler = s.instrument(s.recoverPanics(mux))
	return s, nil
}

// Handler is the whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the App's background work (upload purger).
func (s *Server) Close() error { return s.app.Shutdown() }

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	var err error
	if s.opts.Ready != nil {
		err = s.opts.Ready(ctx)
	}
	writeHealth(w, err)
}

func writeHealth(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
}

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
			if _, internal := internalFrom(r.Context()); !internal {
				setAPIVersion(w)
				writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "The operation is unsupported.", nil)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// writeError writes a registry (OCI distribution) error body.
func writeError(w http.ResponseWriter, status int, code, msg string, detail any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"code": code, "message": msg, "detail": detail}}})
}
