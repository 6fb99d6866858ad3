// Package metrics holds berth's Prometheus collectors on a registry of its
// own, served together with distribution's (which lives on the default
// registry) by Handler.
package metrics

import (
	"net/http"
	"runtime"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are berth's collectors.
type Metrics struct {
	Registry         *prometheus.Registry
	Requests         *prometheus.CounterVec   // route, method, code
	Latency          *prometheus.HistogramVec // route, method
	BytesIn          *prometheus.CounterVec   // route
	BytesOut         *prometheus.CounterVec   // route
	EncryptionErrors prometheus.Counter
	StorageOps       *prometheus.HistogramVec // backend, op
	GC               *GC
	PullThrough      *PullThrough
	// KeyringReady is 1 while this node's keyring opens the registry's
	// objects, 0 when it does not (see /readyz).
	KeyringReady prometheus.Gauge
	// UnknownKeys counts reads of objects whose key-encryption key is not
	// in this node's keyring.
	UnknownKeys prometheus.Counter
}

// New registers berth's collectors on a fresh registry.
func New(version string) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "berth_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route", "method"}),
		BytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_request_bytes_total", Help: "Request body bytes read, by route.",
		}, []string{"route"}),
		BytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_response_bytes_total", Help: "Response body bytes written, by route.",
		}, []string{"route"}),
		EncryptionErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_storage_encryption_errors_total",
			Help: "Stored objects that failed authentication (tampered, truncated, wrong key).",
		}),
		KeyringReady: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "berth_keyring_ready",
			Help: "1 while this node's keyring opens what the registry stores; 0 when a key-encryption key is missing from it (rotated on another node).",
		}),
		UnknownKeys: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_keyring_unknown_key_total",
			Help: "Reads that failed because the object's key-encryption key is not in this node's keyring.",
		}),
		StorageOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "berth_storage_backend_seconds", Help: "Backend operation latency by backend and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"backend", "op"}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "berth_build_info", Help: "Build information; always 1.",
	}, []string{"version", "goversion"})
	build.WithLabelValues(version, runtime.Version()).Set(1)
	r.MustRegister(m.Requests, m.Latency, m.BytesIn, m.BytesOut, m.EncryptionErrors, m.StorageOps,
		m.KeyringReady, m.UnknownKeys, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.GC = newGC(r)
	m.PullThrough = newPullThrough(r)
	return m
}

// Handler serves berth's metrics and distribution's storage metrics
// (registry_storage_action_seconds, on the default registry).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{m.Registry, defaultOnlyDistribution{}}, promhttp.HandlerOpts{})
}

// defaultOnlyDistribution gathers distribution's registry_* families from
// the default registry, dropping the Go and process collectors it also
// carries, which berth's registry already has.
type defaultOnlyDistribution struct{}

func (defaultOnlyDistribution) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := prometheus.DefaultGatherer.Gather()
	out := mfs[:0]
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "registry_") {
			out = append(out, mf)
		}
	}
	return out, err
}
