package metrics

import "github.com/prometheus/client_golang/prometheus"

// GC are the garbage collector's collectors. Counters are this node's
// work; gauges are the registry-wide queue as this node last read it.
type GC struct {
	BlobsDeleted   prometheus.Counter
	BytesReclaimed prometheus.Counter
	LinksRemoved   prometheus.Counter
	ReviewFailures prometheus.Counter
	UploadsPurged  prometheus.Counter
	QueueDepth     prometheus.Gauge
	QueueDue       prometheus.Gauge
	BytesAwaiting  prometheus.Gauge
	OldestDue      prometheus.Gauge
}

func newGC(r *prometheus.Registry) *GC {
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		r.MustRegister(c)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
		r.MustRegister(g)
		return g
	}
	return &GC{
		BlobsDeleted:   counter("berth_gc_blobs_deleted_total", "Blobs this node deleted from storage (unreferenced)."),
		BytesReclaimed: counter("berth_gc_bytes_reclaimed_total", "Bytes of blobs this node deleted from storage."),
		LinksRemoved:   counter("berth_gc_links_removed_total", "Repository links to blobs this node removed."),
		ReviewFailures: counter("berth_gc_review_failures_total", "Reviews this node postponed because storage or the store failed."),
		UploadsPurged:  counter("berth_gc_uploads_purged_total", "Abandoned uploads this node aborted."),
		QueueDepth:     gauge("berth_gc_queue_depth", "Blobs queued for review, registry-wide."),
		QueueDue:       gauge("berth_gc_queue_due", "Queued reviews that are due, registry-wide."),
		BytesAwaiting:  gauge("berth_gc_bytes_awaiting_review", "Known sizes of the blobs queued for review."),
		OldestDue:      gauge("berth_gc_oldest_due_seconds", "How long the oldest due review has waited (0: none)."),
	}
}
