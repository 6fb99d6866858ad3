package metrics

import "github.com/prometheus/client_golang/prometheus"

// PullThrough are the pull-through cache's collectors (this node's work).
type PullThrough struct {
	Hits            prometheus.Counter
	Misses          prometheus.Counter
	UpstreamErrors  prometheus.Counter
	UpstreamLatency prometheus.Histogram
	BytesFetched    prometheus.Counter
}

func newPullThrough(r *prometheus.Registry) *PullThrough {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		r.MustRegister(c)
		return c
	}
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "berth_pull_through_upstream_seconds",
		Help: "Latency of requests to upstream registries (until the answer's headers).", Buckets: prometheus.DefBuckets})
	r.MustRegister(lat)
	return &PullThrough{
		Hits:            counter("berth_pull_through_hits_total", "Pulls of cache repositories served from the cache without fetching."),
		Misses:          counter("berth_pull_through_misses_total", "Pulls of cache repositories that imported from the upstream."),
		UpstreamErrors:  counter("berth_pull_through_upstream_errors_total", "Failed requests to upstream registries."),
		UpstreamLatency: lat,
		BytesFetched:    counter("berth_pull_through_bytes_fetched_total", "Blob bytes fetched from upstream registries."),
	}
}
