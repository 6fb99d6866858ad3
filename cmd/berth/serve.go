package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/tlsgen"
)

func serve(args []string) error {
	c, _, err := loadConfig("serve", args, func(fl *flag.FlagSet) {
		fl.Bool("plain-http", false, "serve plain HTTP (loopback only unless --allow-plain-non-loopback)")
		fl.Bool("allow-plain-non-loopback", false, "allow --plain-http on a non-loopback address")
		fl.String("addr", "", "listen address (overrides http.addr)")
		fl.String("data-dir", "", "data directory (overrides data_dir)")
	})
	if err != nil {
		return err
	}
	log := newLogger(c)
	// distribution finds extensions by name in process globals.
	registry.RegisterExtensions()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := metrics.New(version)
	drv, backend, _, desc, err := openStorage(ctx, c, m)
	if err != nil {
		return err
	}
	secret, err := httpSecret(c)
	if err != nil {
		return fmt.Errorf("http.secret: %w", err)
	}
	srv, err := registry.New(ctx, registry.Options{
		App: registry.AppOptions{Driver: drv, HTTPSecret: secret, DeleteEnabled: c.Registry.DeleteEnabled,
			PurgeAge: c.Registry.PurgeAge()},
		Metrics: m,
		Ready:   backend.Ready,
		Log:     log,
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: nil}
	ln, err := net.Listen("tcp", c.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	scheme := "https"
	if c.HTTP.PlainHTTP {
		scheme = "http"
	} else {
		cert, key := c.HTTP.TLSCert, c.HTTP.TLSKey
		if cert == "" {
			p := tlsgen.InDir(filepath.Join(c.DataDir, "tls"))
			made, err := tlsgen.Ensure(p, c.HTTP.Hosts)
			if err != nil {
				return fmt.Errorf("http.tls_cert: generating a certificate: %w", err)
			}
			cert, key = p.Cert, p.Key
			abs, _ := filepath.Abs(p.CACert)
			fmt.Fprintf(os.Stderr, "berth: TLS certificate %s (CA for clients: %s%s)\n", cert, abs,
				map[bool]string{true: ", newly made", false: ""}[made])
		}
		hs.TLSConfig = tlsConfig()
		ln, err = tlsListener(ln, hs.TLSConfig, cert, key)
		if err != nil {
			return fmt.Errorf("http.tls_cert: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "berth %s listening on %s://%s (storage: %s, encrypted at rest)\n", version, scheme, ln.Addr(), desc)
	log.Info("serving", "addr", ln.Addr().String(), "scheme", scheme, "storage", desc)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
