package pullthrough

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
)

// Blob GETs of a cache repository that lack the blob stream it from the
// upstream to the client while storing it (distribution's proxy tees the
// same way, registry/proxy/proxyblobstore.go), once across nodes: the GET
// that takes the blob's lease streams and stores; the others wait for it
// and serve the stored copy.

// DefaultWaitBound is Importer.WaitBound's default.
const DefaultWaitBound = time.Minute

const (
	// chunkSize is what is read from the upstream at a time; the last
	// chunk read is held back until the digest is verified.
	chunkSize = 256 << 10
	// pipeDepth chunks are queued for the store, so a client is not held
	// to the store's pace chunk by chunk.
	pipeDepth = 16
)

// DefaultStallTimeout is Importer.StallTimeout's default.
const DefaultStallTimeout = time.Minute

func (im *Importer) waitBound() time.Duration {
	if im.WaitBound > 0 {
		return im.WaitBound
	}
	return DefaultWaitBound
}

func (im *Importer) stallTimeout() time.Duration {
	if im.StallTimeout > 0 {
		return im.StallTimeout
	}
	return DefaultStallTimeout
}

// BrokenError is a blob answer that failed after its status was sent:
// the edge breaks the connection off, so the client sees a failed
// download, never a complete one of wrong bytes.
type BrokenError struct{ Err error }

func (e *BrokenError) Error() string { return "blob stream broken: " + e.Err.Error() }
func (e *BrokenError) Unwrap() error { return e.Err }

// HeadBlob is the size the upstream gives blob dgst of t's repository.
func (im *Importer) HeadBlob(ctx context.Context, t Target, dgst string) (int64, error) {
	u, err := im.Upstreams.Reused(ctx, t.Rule)
	if err != nil {
		return 0, err
	}
	return u.HeadBlob(ctx, t.Upstream, dgst)
}

// ServeBlob answers a GET of blob dgst of t's repository, which the cache
// lacks (the caller checked ecr:BatchImportUpstreamImage): with the lease
// it streams the upstream's bytes to w while storing them; when another
// fetch holds the lease it waits for it and reports local=true (the
// caller serves the stored copy), or, after WaitBound, streams without
// storing. Errors before anything was sent are the upstream's; after,
// a *BrokenError. It returns once the client has its answer; the store
// completes in the background, holding the lease, so a client that goes
// away does not stop it and the client's next request on the connection
// does not wait for it.
func (im *Importer) ServeBlob(ctx context.Context, t Target, dgst string, local Local, w http.ResponseWriter) (bool, error) {
	d, err := digest.Parse(dgst)
	if err != nil {
		return false, err
	}
	u, err := im.Upstreams.Reused(ctx, t.Rule)
	if err != nil {
		return false, err
	}
	deadline := time.Now().Add(im.waitBound())
	for {
		release, err := im.take(ctx, leaseName(t, "blob", dgst), false)
		if err != nil {
			return false, err
		}
		if release != nil {
			if ok, err := local.HasBlob(ctx, dgst); err != nil || ok {
				release()
				return ok, err
			}
			return false, im.tee(ctx, t, u, d, local, w, release)
		}
		if time.Now().After(deadline) {
			im.log().Warn("pull-through: blob still being fetched elsewhere; streaming it without storing", "repository", t.Repo, "digest", dgst)
			return false, im.stream(ctx, t, u, d, w)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(leasePoll):
		}
	}
}

// tee streams blob d to w and into local at once, under the blob's lease
// (release gives it back). It runs on a context of its own, so the store
// completes when the client leaves; a failed upstream or wrong bytes
// cancel the upload (nothing half-stored). It returns when the client
// has its answer; the store's end, and the lease's release, come in the
// background: on a kept-alive connection a client's next request is read
// only once this handler returns.
func (im *Importer) tee(ctx context.Context, t Target, u *Upstream, d digest.Digest, local Local, w http.ResponseWriter, release func()) error {
	bg, cancel := im.detach(ctx)
	rc, size, err := u.GetBlob(bg, t.Upstream, d.String())
	if err != nil {
		cancel()
		release()
		return err
	}
	defer rc.Close()
	p := newChunkPipe()
	stored := make(chan error, 1)
	go func() {
		err := local.PutBlob(bg, d.String(), size, p)
		p.stop()
		stored <- err
	}()
	err = im.copyVerified(w, im.stalling(rc, cancel), size, d, p)
	p.closeWrite(err)
	finish := func() {
		serr := <-stored
		cancel()
		release()
		if err == nil && serr != nil {
			// The client has its bytes; a later pull fetches them again.
			im.log().Warn("pull-through: storing a streamed blob failed", "repository", t.Repo, "digest", d, "error", serr)
		}
	}
	if !im.bg.goRun(finish) {
		finish() // the importer is closing: the store, cancelled, ends at once
	}
	return err
}

// stream streams blob d to w without storing it.
func (im *Importer) stream(ctx context.Context, t Target, u *Upstream, d digest.Digest, w http.ResponseWriter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, size, err := u.GetBlob(ctx, t.Upstream, d.String())
	if err != nil {
		return err
	}
	defer rc.Close()
	return im.copyVerified(w, im.stalling(rc, cancel), size, d, nil)
}

// copyVerified answers 200 with the blob read from r, giving each chunk
// to sink (until it refuses; nil: none) as well. The last chunk goes to
// the client only once the bytes are known to be d; a client's write
// error only ends the client's share.
func (im *Importer) copyVerified(w http.ResponseWriter, r io.Reader, size int64, d digest.Digest, sink *chunkPipe) error {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Etag", `"`+d.String()+`"`)
	if size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.WriteHeader(http.StatusOK)
	hs := newHasher(d.Algorithm().Hash())
	var pending *chunk
	defer func() { pending.release() }()
	var n int64
	client := true
	for {
		c := newChunk()
		k, err := io.ReadFull(r, c.buf[:])
		if k > 0 {
			c.data = c.buf[:k]
			hs.add(c)
			n += int64(k)
			im.count("bytes", int64(k))
			if sink != nil && !sink.send(c) {
				sink = nil
			}
			if pending != nil && client {
				_, werr := w.Write(pending.data)
				client = werr == nil
			}
			pending.release()
			pending = c
		} else {
			c.release()
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			hs.sum()
			return &BrokenError{Err: &UpstreamError{Err: err}}
		}
	}
	if hex.EncodeToString(hs.sum()) != d.Encoded() || (size >= 0 && n != size) {
		return &BrokenError{Err: &UpstreamError{Status: http.StatusBadGateway,
			Err: fmt.Errorf("upstream blob %s: %d bytes that are not that digest", d, n)}}
	}
	if pending != nil && client {
		if _, err := w.Write(pending.data); err == nil {
			// Send the tail now, not once the handlers around this one
			// (audit, metrics) are done with the request.
			_ = http.NewResponseController(w).Flush()
		}
	}
	return nil
}

// hasher digests a stream's chunks in a goroutine of its own, beside the
// reads from the upstream and the writes to the client.
type hasher struct {
	ch  chan *chunk
	out chan []byte
}

func newHasher(h hash.Hash) *hasher {
	hs := &hasher{ch: make(chan *chunk, pipeDepth), out: make(chan []byte, 1)}
	go func() {
		for c := range hs.ch {
			h.Write(c.data)
			c.release()
		}
		hs.out <- h.Sum(nil)
	}()
	return hs
}

// add digests c next, taking a share of it.
func (hs *hasher) add(c *chunk) {
	c.refs.Add(1)
	hs.ch <- c
}

// sum is the digest of the chunks added; it ends the hasher (call once).
func (hs *hasher) sum() []byte {
	close(hs.ch)
	return <-hs.out
}

// stallReader cancels a fetch whose upstream sends nothing for
// the importer's stall timeout.
type stallReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

func (im *Importer) stalling(r io.Reader, cancel context.CancelFunc) io.Reader {
	d := im.stallTimeout()
	return &stallReader{r: r, t: time.AfterFunc(d, cancel), d: d}
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.t.Reset(s.d)
	if err != nil {
		s.t.Stop()
	}
	return n, err
}

// chunkPool holds the buffers streams read into: a 64 MiB blob is 256
// chunks, which were each a fresh allocation (zeroed, then garbage).
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// chunk is one read from the upstream, shared by the client's write and
// the store's read: its buffer goes back to chunkPool when both are done
// with it (chunks still queued when a store stops are left to the
// garbage collector).
type chunk struct {
	buf  *[chunkSize]byte
	data []byte
	refs atomic.Int32
}

func newChunk() *chunk {
	c := &chunk{buf: chunkPool.Get().(*[chunkSize]byte)}
	c.refs.Store(1)
	return c
}

// release drops one holder's share (nil: none).
func (c *chunk) release() {
	if c != nil && c.refs.Add(-1) == 0 {
		chunkPool.Put(c.buf)
		c.buf, c.data = nil, nil
	}
}

// chunkPipe hands streamed chunks to the store: up to pipeDepth queue,
// so the client and the store proceed side by side.
type chunkPipe struct {
	ch   chan *chunk
	gone chan struct{}
	once sync.Once
	err  error
	cur  *chunk
	rest []byte // what the store has not read of cur
}

func newChunkPipe() *chunkPipe {
	return &chunkPipe{ch: make(chan *chunk, pipeDepth), gone: make(chan struct{})}
}

// send queues c, taking a share of it for the store; false once the
// store stopped reading.
func (p *chunkPipe) send(c *chunk) bool {
	c.refs.Add(1)
	select {
	case p.ch <- c:
		return true
	case <-p.gone:
		c.release()
		return false
	}
}

// closeWrite ends the stream: EOF, or err for the store's upload.
func (p *chunkPipe) closeWrite(err error) {
	if err == nil {
		err = io.EOF
	}
	p.err = err
	close(p.ch)
}

// stop says the store reads no more.
func (p *chunkPipe) stop() { p.once.Do(func() { close(p.gone) }) }

func (p *chunkPipe) Read(b []byte) (int, error) {
	for len(p.rest) == 0 {
		p.cur.release()
		p.cur = nil
		c, ok := <-p.ch
		if !ok {
			return 0, p.err
		}
		p.cur, p.rest = c, c.data
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}

// Broken reports whether err is a *BrokenError.
func Broken(err error) bool {
	var b *BrokenError
	return errors.As(err, &b)
}
