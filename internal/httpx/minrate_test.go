package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// outcome is what the handler saw of the body.
type outcome struct {
	n       int64
	err     error
	elapsed time.Duration
	ctxErr  error // the request's context after the handler's work
}

// server serves h2 or HTTP/1.1 over real connections; handle reads the
// body (its result goes to got) after the middleware chain mw.
func server(t *testing.T, h2 bool, mw func(http.Handler) http.Handler, handle func(w http.ResponseWriter, r *http.Request) outcome) (*httptest.Server, chan outcome) {
	t.Helper()
	got := make(chan outcome, 1)
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := handle(w, r)
		got <- o
		if o.err != nil {
			http.Error(w, o.err.Error(), http.StatusRequestTimeout)
			return
		}
		fmt.Fprintf(w, "%d", o.n)
	}))
	srv := httptest.NewUnstartedServer(h)
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, got
}

// readAll reads the whole body and times it.
func readAll(_ http.ResponseWriter, r *http.Request) outcome {
	start := time.Now()
	n, err := io.Copy(io.Discard, r.Body)
	return outcome{n: n, err: err, elapsed: time.Since(start)}
}

// trickle sends size bytes, one every gap, after first bytes at once.
func trickle(t *testing.T, srv *httptest.Server, first []byte, size int64, gap time.Duration) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		pw.Write(first)
		for i := int64(len(first)); i < size; i++ {
			time.Sleep(gap)
			if _, err := pw.Write([]byte{'x'}); err != nil {
				return
			}
		}
		pw.Close()
	}()
	t.Cleanup(func() { pw.CloseWithError(errors.New("test over")) })
	req, _ := http.NewRequest(http.MethodPut, srv.URL, pr)
	req.ContentLength = size
	go func() {
		if resp, err := srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
}

func wantSlow(t *testing.T, got chan outcome, min, max time.Duration) {
	t.Helper()
	select {
	case o := <-got:
		if !errors.Is(o.err, ErrSlowBody) || !errors.Is(o.err, os.ErrDeadlineExceeded) {
			t.Fatalf("body read: %d bytes, %v; want ErrSlowBody", o.n, o.err)
		}
		if o.elapsed < min || o.elapsed > max {
			t.Fatalf("cut after %v, want between %v and %v", o.elapsed, min, max)
		}
	case <-time.After(max + 5*time.Second):
		t.Fatalf("the body was not cut within %v", max)
	}
}

var fast = Rate{BytesPerSecond: 1000, Window: 500 * time.Millisecond}

func TestMinRateCutsTrickles(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct {
				name     string
				first    int
				gap      time.Duration
				min, max time.Duration
			}{
				// 10 bytes/s against 1000 bytes/s: the lead of one window
				// runs out after about a window.
				{name: "trickle", gap: 100 * time.Millisecond, min: 400 * time.Millisecond, max: 2 * time.Second},
				// A fast start buys at most one window: then silence.
				{name: "stall after a burst", first: 64 << 10, gap: time.Hour, min: 400 * time.Millisecond, max: 2 * time.Second},
			} {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					srv, got := server(t, h2, func(h http.Handler) http.Handler { return MinRate(h, fast) }, readAll)
					trickle(t, srv, bytes.Repeat([]byte("y"), c.first), int64(c.first)+1000, c.gap)
					wantSlow(t, got, c.min, c.max)
				})
			}
		})
	}
}

func TestMinRatePassesBodiesAtSpeed(t *testing.T) {
	t.Parallel()
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2"}[h2], func(t *testing.T) {
			t.Parallel()
			busy := func(w http.ResponseWriter, r *http.Request) outcome {
				// The handler stalls between reads for longer than the
				// window (a slow bucket): that is not the client's fault.
				buf := make([]byte, 1<<20)
				var n int64
				pauses := 0
				for {
					k, err := r.Body.Read(buf)
					n += int64(k)
					if err == io.EOF {
						break
					}
					if err != nil {
						return outcome{n: n, err: err}
					}
					if n > 1<<20 && pauses < 2 {
						pauses++
						time.Sleep(700 * time.Millisecond)
					}
				}
				// The body is in: a long answer must not see its request
				// cancelled by a deadline left on the connection.
				time.Sleep(time.Second)
				return outcome{n: n, ctxErr: r.Context().Err()}
			}
			srv, got := server(t, h2, func(h http.Handler) http.Handler { return MinRate(h, fast) }, busy)
			const size = 64 << 20
			resp, err := srv.Client().Post(srv.URL, "application/octet-stream", io.LimitReader(zeros{}, size))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			o := <-got
			if o.err != nil || o.n != size || o.ctxErr != nil || resp.StatusCode != 200 || string(b) != fmt.Sprint(size) {
				t.Fatalf("64 MiB at speed: read %d, %v, context %v; answer %d %q", o.n, o.err, o.ctxErr, resp.StatusCode, b)
			}
		})
	}
}

// TestLimitTightens: a handler's stricter rate applies under MinRate's
// looser one, and Limit works without MinRate too.
func TestLimitTightens(t *testing.T) {
	t.Parallel()
	loose := Rate{BytesPerSecond: 1, Window: time.Hour}
	for _, c := range []struct {
		name string
		mw   func(http.Handler) http.Handler
	}{
		{"under MinRate", func(h http.Handler) http.Handler { return MinRate(h, loose) }},
		{"alone", func(h http.Handler) http.Handler { return h }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, got := server(t, false, c.mw, func(w http.ResponseWriter, r *http.Request) outcome {
				Limit(w, r, fast)
				return readAll(w, r)
			})
			trickle(t, srv, nil, 1000, time.Hour)
			wantSlow(t, got, 400*time.Millisecond, 2*time.Second)
		})
	}
}

// TestNoBodyNoDeadline: requests without a body are untouched (a deadline
// would cancel a long GET through the server's background read).
func TestNoBodyNoDeadline(t *testing.T) {
	t.Parallel()
	srv, got := server(t, false, func(h http.Handler) http.Handler { return MinRate(h, fast) }, func(w http.ResponseWriter, r *http.Request) outcome {
		time.Sleep(time.Second)
		return outcome{ctxErr: r.Context().Err()}
	})
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if o := <-got; o.ctxErr != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %d, context %v", resp.StatusCode, o.ctxErr)
	}
}

// TestUnreadBodyIsNotWaitedFor: a handler that answers without reading
// leaves the rest of the body to the server, which must not wait for a
// silent client past the deadline before answering.
func TestUnreadBodyIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	slow := Rate{BytesPerSecond: 1, Window: time.Hour}
	srv, _ := server(t, false, func(h http.Handler) http.Handler { return MinRate(h, slow) }, func(w http.ResponseWriter, r *http.Request) outcome {
		return outcome{n: 0}
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte(strings.Repeat("z", 100)))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.URL, pr)
	req.ContentLength = 1000 // 900 bytes never come
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if d := time.Since(start); d > discardGrace+time.Second {
		t.Fatalf("the answer took %v (%v)", d, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestLateReadEndsTheConnection: a body found too late when a read starts
// (rather than by the timer during one) also ends the connection's reads,
// so the server does not wait for the client to send the rest before it
// answers. The clock is moved on by hand between two reads.
func TestLateReadEndsTheConnection(t *testing.T) {
	t.Parallel()
	srv, got := server(t, false, func(h http.Handler) http.Handler { return h }, func(w http.ResponseWriter, r *http.Request) outcome {
		Limit(w, r, fast)
		b := r.Body.(*body)
		one := make([]byte, 1)
		if _, err := b.Read(one); err != nil {
			return outcome{err: err}
		}
		b.mu.Lock()
		b.idleFrom = b.idleFrom.Add(-time.Hour) // as if the read had returned an hour late...
		b.deadline = b.deadline.Add(-2 * time.Hour)
		b.mu.Unlock()
		_, err := b.Read(one)
		return outcome{err: err}
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("x"))
	req, _ := http.NewRequest(http.MethodPut, srv.URL, pr)
	req.ContentLength = 1000 // 999 bytes never come
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if o := <-got; !errors.Is(o.err, ErrSlowBody) {
		t.Fatalf("second read: %v, want ErrSlowBody", o.err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the answer took %v (%v)", d, err)
	}
}
