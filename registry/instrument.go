package registry

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// routeName names a request for metrics without unbounded label values;
// /v2/ requests come back carrying their route match for the handlers
// below.
func (s *Server) routeName(r *http.Request) (*http.Request, string) {
	p := r.URL.Path
	switch {
	case p == "/healthz", p == "/readyz", p == "/metrics":
		return r, strings.TrimPrefix(p, "/")
	case p == "/" && r.Header.Get("X-Amz-Target") != "":
		return r, "ecr-api"
	case !strings.HasPrefix(p, "/v2/"):
		return r, "other"
	case strings.Contains(p, "/referrers/"):
		return r, "referrers"
	}
	r, rm := withRoute(s.routes, r)
	if rm.name == "" {
		return r, "v2-other"
	}
	return r, rm.name
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

// statusWriter records the status and body bytes of a response. It keeps
// http.Flusher and io.ReaderFrom reachable (blob GETs use sendfile-like
// copies through ReaderFrom).
type statusWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	// Through Write with a big buffer: http.response's own ReadFrom would
	// copy 32 KiB at a time.
	buf := blobBufPool.Get().(*[]byte)
	defer blobBufPool.Put(buf)
	n, err := io.CopyBuffer(writerOnly{w}, r, (*buf)[:cap(*buf)])
	return n, err
}

// writerOnly hides everything but Write (so io.CopyBuffer uses the buffer).
type writerOnly struct{ io.Writer }

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) instrument(next http.Handler) http.Handler {
	m := s.opts.Metrics
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, route := s.routeName(r)
		var body *countingBody
		if r.Body != nil && r.Body != http.NoBody {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
		sw := &statusWriter{ResponseWriter: w}
		if route == "blob" && r.Method == http.MethodGet {
			bw := &blobWriter{w: sw}
			next.ServeHTTP(bw, r)
			bw.finish()
		} else {
			next.ServeHTTP(sw, r)
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.Requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
		m.Latency.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
		if body != nil {
			m.BytesIn.WithLabelValues(route).Add(float64(body.n))
		}
		m.BytesOut.WithLabelValues(route).Add(float64(sw.n))
	})
}
