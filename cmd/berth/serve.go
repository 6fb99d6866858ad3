package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/internal/httpx"
	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/node"
	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/tlsgen"
)

func serve(args []string) error {
	c, _, err := loadConfig("serve", args, func(fl *flag.FlagSet) {
		fl.Bool("plain-http", false, "serve plain HTTP (loopback only unless --allow-plain-non-loopback)")
		fl.Bool("allow-plain-non-loopback", false, "allow --plain-http on a non-loopback address")
		fl.String("addr", "", "listen address (overrides http.addr)")
	})
	if err != nil {
		return err
	}
	log := newLogger(c)
	// distribution finds extensions by name in process globals: register
	// them here, once (node.New does too, idempotently, for tests).
	registry.RegisterExtensions()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	m := metrics.New(version)
	n, err := node.New(ctx, c, node.Options{Metrics: m, Log: log})
	if err != nil {
		return err
	}
	defer n.Close()
	go n.Lifecycle.Run(ctx)
	go n.GC.Run(ctx)
	go n.PruneSessions(ctx, time.Hour, log)
	go reloadOnHUP(ctx, n, c.IAM.File, log)

	// Every request body keeps a minimum rate (httpx.Bulk): a body
	// trickled a byte at a time must not hold a connection for ever. The
	// ECR API and STS tighten it for their own bodies.
	hs := &http.Server{Handler: httpx.MinRate(n.Handler(), httpx.Bulk), ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute}
	ln, err := net.Listen("tcp", c.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %w", err)
	}
	scheme := c.HTTP.Scheme()
	if !c.HTTP.PlainHTTP {
		cert, key := c.HTTP.TLSCert, c.HTTP.TLSKey
		if cert == "" {
			p := tlsgen.InDir(filepath.Join(c.DataDir, "tls"))
			made, err := tlsgen.Ensure(p, certHosts(c))
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
	fmt.Fprintf(os.Stderr, "berth %s listening on %s://%s (storage: %s, encrypted at rest; metadata: %s; registry %s in %s as %s)\n",
		version, scheme, ln.Addr(), n.StorageDesc, c.Metadata.Engine, c.ECR.RegistryID, c.ECR.Region, c.ECR.PublicHost)
	log.Info("serving", "addr", ln.Addr().String(), "scheme", scheme, "storage", n.StorageDesc)

	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	if c.ECR.APIAddr != "" {
		apiSrv, err := serveAPI(c, hs, n.APIHandler(), log)
		if err != nil {
			return err
		}
		defer apiSrv.Close()
	}
	if c.Debug.PprofAddr != "" {
		dbg, err := serveDebug(c.Debug.PprofAddr, log)
		if err != nil {
			return err
		}
		defer dbg.Close()
	}
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

// reloadOnHUP reopens the audit log and applies the identity file again
// on each SIGHUP; a bad file is logged and changes nothing.
func reloadOnHUP(ctx context.Context, n *node.Node, path string, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := n.Reload(ctx, path, log); err != nil {
				log.Error("SIGHUP: identity file not applied", "error", err)
			}
		}
	}
}

// certHosts are the names the generated certificate covers: http.hosts,
// the public host and, when the public host is ECR-shaped, every
// account's registry host (*.dkr.ecr.<region>.<domain>): each account's
// repositoryUri names its own host.
func certHosts(c *config.Config) []string {
	hosts := append([]string(nil), c.HTTP.Hosts...)
	h := c.ECR.PublicHostname()
	for _, n := range []string{h, ecrmodel.RegistryHostWildcard(h)} {
		if n != "" && !slices.Contains(hosts, n) {
			hosts = append(hosts, n)
		}
	}
	return hosts
}

// serveAPI serves the ECR API alone on ecr.api_addr (h: the node's API
// handler, wrapped like the main one), with the main listener's TLS
// settings.
func serveAPI(c *config.Config, main *http.Server, h http.Handler, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", c.ECR.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("ecr.api_addr: %w", err)
	}
	hs := &http.Server{Handler: httpx.MinRate(h, httpx.Bulk), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	if main.TLSConfig != nil {
		ln = tls.NewListener(ln, main.TLSConfig)
	}
	log.Info("serving the ECR API", "addr", ln.Addr().String())
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("ECR API listener", "error", err)
		}
	}()
	return hs, nil
}
