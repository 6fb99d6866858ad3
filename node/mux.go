package node

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/berth-registry/berth/metrics"
)

// mainMux is the node's surface on http.addr: /v2/ (the registry), POST /
// and GET / (the ECR API, STS and IAM), /healthz, /readyz and /metrics. It is a mux of
// berth's own, never http.DefaultServeMux, where distribution registers
// debug handlers.
func mainMux(v2, api http.Handler, ready func(context.Context) error, m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v2/", v2)
	mux.Handle("POST /{$}", api)
	// STS (a Query service) also takes GET with the parameters in the
	// query string, as AWS's does; the API handler routes it.
	mux.Handle("GET /{$}", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { writeHealth(w, nil) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		writeHealth(w, ready(ctx))
	})
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

// apiMux is the surface on ecr.api_addr: the ECR API and STS alone.
func apiMux(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /{$}", api)
	mux.Handle("GET /{$}", api)
	return mux
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
