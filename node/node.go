// Package node assembles one berth node from its configuration: the
// encrypted storage, the metadata store, credentials and login tokens, the
// embedded registry behind its gate, and the ECR API. cmd/berth serves a
// Node on its listeners; tests build one in process.
package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/gc"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/lifecycle"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/storage"
)

// Options are what a Node needs besides its configuration.
type Options struct {
	Metrics *metrics.Metrics // nil: a fresh set
	Log     *slog.Logger     // nil: discard
	// Out receives the one-time bootstrap admin key when no
	// ecr.bootstrap_credentials_file is configured (default os.Stderr).
	Out io.Writer
}

// Node is one running berth.
type Node struct {
	Server *registry.Server
	// API serves POST /: the ECR JSON API and STS.
	API   http.Handler
	Store metadata.Store
	// StorageDesc says where blobs live, for the start-up line.
	StorageDesc string
	// Lifecycle applies lifecycle policies; cmd/berth runs it.
	Lifecycle *lifecycle.Runner
	// GC collects unreferenced blobs and abandoned uploads; cmd/berth
	// runs it.
	GC *gc.Collector

	cp  *controlPlane
	ttl time.Duration
	// handler serves http.addr; apiHandler ecr.api_addr.
	handler, apiHandler http.Handler
}

// New builds a node. Close releases it.
func New(ctx context.Context, c *config.Config, o Options) (*Node, error) {
	if o.Metrics == nil {
		o.Metrics = metrics.New("dev")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Out == nil {
		o.Out = os.Stderr
	}
	registry.RegisterExtensions()
	drv, backend, kr, desc, err := OpenStorage(ctx, c, o.Metrics)
	if err != nil {
		return nil, err
	}
	secret, err := HTTPSecret(c)
	if err != nil {
		return nil, fmt.Errorf("http.secret: %w", err)
	}
	cp, err := openControlPlane(ctx, c, kr, drv, secret, o.Log, o.Out)
	if err != nil {
		return nil, err
	}
	n := &Node{Store: cp.store, StorageDesc: desc, cp: cp}
	keys := newKeyHealth(drv, o.Metrics, o.Log)
	_ = keys.check(ctx) // logs and sets the gauge at start
	ptcMetrics(cp.gate.PullThrough, o.Metrics)
	srv, err := registry.New(ctx, registry.Options{
		App: registry.AppOptions{Driver: drv, HTTPSecret: secret, DeleteEnabled: c.Registry.DeleteEnabled,
			PurgeAge: c.Registry.PurgeAge(), Meta: cp.meta},
		Metrics: o.Metrics,
		Log:     o.Log,
		Gate:    cp.gate,
	})
	if err != nil {
		cp.Close()
		return nil, err
	}
	n.Server = srv
	n.API = cp.api(c, srv, secret, o.Log)
	ready := func(ctx context.Context) error {
		if err := cp.store.Ping(ctx); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		if err := backend.Ready(ctx); err != nil {
			return err
		}
		return keys.check(ctx)
	}
	n.handler = srv.Wrap(mainMux(srv.V2(), n.API, ready, o.Metrics))
	n.apiHandler = srv.Wrap(apiMux(n.API))
	name := nodeName()
	n.Lifecycle = cp.lifecycle(c.Lifecycle.Every(), name, o.Log)
	n.GC = &gc.Collector{Store: cp.store, Driver: drv, Interval: c.GC.Every(), PurgeAge: c.Registry.PurgeAge(),
		Node: name, Log: o.Log, Metrics: o.Metrics.GC}
	n.GC.Spool, _ = storage.Unwrap(backend).(gc.Spool)
	n.ttl = c.ECR.TTL()
	return n, nil
}

// nodeName names this process in leases: the host name and a random
// suffix, so a restarted node never mistakes its predecessor's claims for
// its own.
func nodeName() string {
	h, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b[:]))
}

// Reload reopens the audit log (for logrotate) and applies the
// declarative identity file again (SIGHUP).
func (n *Node) Reload(ctx context.Context, path string, log *slog.Logger) error {
	if n.cp.audit != nil {
		if err := n.cp.audit.Reopen(); err != nil {
			log.Error("SIGHUP: reopening the audit log", "error", err)
		}
	}
	return n.cp.ApplyFile(ctx, path, log)
}

// IAM is the node's identity service.
func (n *Node) IAM() *iam.Service { return n.cp.iam }

// PruneSessions removes STS sessions whose login tokens can no longer be
// valid, and leases that lapsed an hour ago (a crashed node's), every
// interval until ctx ends.
func (n *Node) PruneSessions(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if k, err := n.cp.iam.PruneSessions(ctx, n.ttl+time.Hour); err != nil {
			log.Warn("pruning sessions", "error", err)
		} else if k > 0 {
			log.Info("pruned expired sessions", "count", k)
		}
		if _, err := n.Store.PruneLeases(ctx, time.Now().Add(-time.Hour)); err != nil {
			log.Warn("pruning lapsed leases", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Handler is the node's whole HTTP surface (http.addr).
func (n *Node) Handler() http.Handler { return n.handler }

// APIHandler serves the ECR API and STS alone (ecr.api_addr), with the
// same metrics and panic recovery as Handler.
func (n *Node) APIHandler() http.Handler { return n.apiHandler }

// Close stops background work and closes the metadata store.
func (n *Node) Close() error {
	if im := n.cp.gate.PullThrough; im != nil {
		im.Close() // background imports end before the store closes
	}
	err := n.Server.Close()
	n.cp.Close()
	return err
}
