// Package httpx holds small pieces of HTTP plumbing shared by berth's
// listeners and edges.
package httpx

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// Rate is the slowest a request body may arrive. It works as Apache's
// mod_reqtimeout does (body=20,MinRate=500), with one difference: only time
// spent waiting for the client counts. While the handler is busy between
// two reads (writing to a slow bucket, say) the clock is stopped: TCP flow
// control, not the client, holds the bytes back then.
//
// A body starts Window ahead of its deadline; each byte read moves the
// deadline 1/BytesPerSecond later, but never more than Window ahead of
// now. So a body that stalls for Window, or that arrives slower than
// BytesPerSecond for long enough to use up its lead, fails with
// ErrSlowBody, and a body that keeps the rate never does, however large.
type Rate struct {
	BytesPerSecond int64
	Window         time.Duration
}

// Bulk is the rate every request body on berth's listeners is held to: a
// blob upload of any size at any usable speed passes (4 KiB/s is 32
// kbit/s); a body trickled a byte at a time is cut after about 30 s.
var Bulk = Rate{BytesPerSecond: 4 << 10, Window: 30 * time.Second}

// API is the rate of AWS API bodies (ECR JSON, STS forms): SDKs send them
// whole as soon as the headers are out, so the window is short.
var API = Rate{BytesPerSecond: 16 << 10, Window: 10 * time.Second}

// ErrSlowBody is what a body read fails with when the body arrives slower
// than its Rate. It is a timeout: errors.Is(err, os.ErrDeadlineExceeded).
var ErrSlowBody error = slowBody{}

type slowBody struct{}

func (slowBody) Error() string        { return "request body arrived slower than the minimum rate" }
func (slowBody) Timeout() bool        { return true }
func (slowBody) Is(target error) bool { return target == os.ErrDeadlineExceeded }

// stricter is the tighter of two rates.
func (r Rate) stricter(o Rate) Rate {
	return Rate{BytesPerSecond: max(r.BytesPerSecond, o.BytesPerSecond), Window: min(r.Window, o.Window)}
}

// MinRate holds every request body next sees to rate. It must see the
// server's own ResponseWriter (wrap the http.Server's Handler with it): a
// read blocked on a client past its deadline is ended through
// http.ResponseController, and when the handler returns without reading
// the whole body, what the server then discards of it must come within
// discardGrace.
func MinRate(next http.Handler, rate Rate) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := newBody(w, r.Body, rate)
		r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, b))
		r.Body = b
		next.ServeHTTP(w, r)
		b.finish()
	})
}

// Limit holds r's body to rate, before the handler reads it: it tightens
// the rate MinRate set further out, or, when there is none (a handler
// served on its own), wraps r.Body itself through w.
func Limit(w http.ResponseWriter, r *http.Request, rate Rate) {
	if b, ok := r.Context().Value(bodyKey{}).(*body); ok {
		b.tighten(rate)
		return
	}
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	r.Body = newBody(w, r.Body, rate)
}

type bodyKey struct{}

// body is a request body read under a moving deadline. The connection's
// own read deadline is left alone until a read blocked on the client
// overstays: then a timer sets it to now, which ends the read. (A deadline
// left in place would not do: on HTTP/2 it fires on a timer whether or
// not anyone reads, and on HTTP/1 a deadline passing after the body is in
// cancels the request through the server's background read.)
type body struct {
	rc   io.ReadCloser
	ctl  *http.ResponseController
	now  func() time.Time
	mu   sync.Mutex
	rate Rate

	deadline time.Time // when the body is too late
	idleFrom time.Time // when the last Read returned: the clock stops until the next
	reading  bool      // a Read is blocked on rc
	timer    *time.Timer
	aborted  bool  // the timer ended a read
	err      error // sticky: ErrSlowBody once too late
	done     bool  // EOF seen, or the handler is gone: no more deadlines
}

func newBody(w http.ResponseWriter, rc io.ReadCloser, rate Rate) *body {
	now := time.Now()
	b := &body{rc: rc, ctl: http.NewResponseController(w), rate: rate, now: time.Now,
		deadline: now.Add(rate.Window), idleFrom: now}
	b.timer = time.AfterFunc(time.Hour, b.expire)
	b.timer.Stop()
	return b
}

func (b *body) tighten(rate Rate) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate = b.rate.stricter(rate)
	b.deadline = minTime(b.deadline, b.now().Add(b.rate.Window))
}

// catchUp moves the deadline by the time the handler spent away from the
// body, within one window of now. Called with mu held.
func (b *body) catchUp(now time.Time) {
	b.deadline = minTime(b.deadline.Add(now.Sub(b.idleFrom)), now.Add(b.rate.Window))
	b.idleFrom = now
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	if b.err != nil || b.done {
		err := b.err
		b.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return b.rc.Read(p)
	}
	now := b.now()
	b.catchUp(now)
	if !now.Before(b.deadline) {
		// Too late already (the last read came back just after the
		// deadline, before the timer could end it): end the connection's
		// reads too, or the server's discard of the rest would wait for
		// the client.
		b.err = ErrSlowBody
		_ = b.ctl.SetReadDeadline(time.Now())
		b.mu.Unlock()
		return 0, b.err
	}
	b.reading = true
	b.timer.Reset(b.deadline.Sub(now))
	b.mu.Unlock()

	n, err := b.rc.Read(p)

	b.mu.Lock()
	defer b.mu.Unlock()
	b.reading = false
	b.timer.Stop()
	now = b.now()
	b.idleFrom = now
	if n > 0 && b.rate.BytesPerSecond > 0 {
		earned := time.Duration(int64(n) * int64(time.Second) / b.rate.BytesPerSecond)
		b.deadline = minTime(b.deadline.Add(earned), now.Add(b.rate.Window))
	}
	switch {
	case b.aborted || err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		b.err = ErrSlowBody
		return n, b.err
	case err == io.EOF:
		b.done = true
	}
	return n, err
}

// expire runs when a blocked read's time is up: it ends the read by
// moving the connection's read deadline to now.
func (b *body) expire() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.reading || b.done {
		return
	}
	if now := b.now(); now.Before(b.deadline) {
		b.timer.Reset(b.deadline.Sub(now))
		return
	}
	b.aborted = true
	_ = b.ctl.SetReadDeadline(time.Now())
}

// discardGrace bounds how long the server may wait, after a handler
// answered without reading the whole body, for the rest of it (Go's server
// discards up to 256 KiB to keep the connection; the answer waits for
// that). Only reuse of the connection is at stake: a client that cannot
// send the rest at once loses the connection, not the answer.
const discardGrace = 2 * time.Second

// finish runs as the handler returns (MinRate): what the server discards
// of an unread body must come within discardGrace and the body's deadline.
func (b *body) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done || b.err != nil {
		b.done = true
		return
	}
	b.done = true
	now := b.now()
	b.catchUp(now)
	_ = b.ctl.SetReadDeadline(minTime(b.deadline, now.Add(discardGrace)))
}

func (b *body) Close() error { return b.rc.Close() }

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
