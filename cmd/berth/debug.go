package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveDebug serves Go's runtime profiles on addr (debug.pprof_addr, a
// loopback address: config.Validate sees to it), plain HTTP, until the
// process ends.
func serveDebug(addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug.pprof_addr: %w", err)
	}
	hs := &http.Server{Handler: pprofMux(), ReadHeaderTimeout: 30 * time.Second}
	log.Info("serving Go profiles", "addr", ln.Addr().String())
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug.pprof_addr listener", "error", err)
		}
	}()
	return hs, nil
}

// pprofMux routes net/http/pprof's handlers on a mux of its own: the
// package also registers them on http.DefaultServeMux, which berth never
// serves.
func pprofMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
