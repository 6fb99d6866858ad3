package pullthrough

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
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
// a *BrokenError. A client that goes away does not stop the store.
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
			defer release()
			if ok, err := local.HasBlob(ctx, dgst); err != nil || ok {
				return ok, err
			}
			return false, im.tee(ctx, t, u, d, local, w)
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

// tee streams blob d to w and into local at once. It runs on a context
// of its own, so the store completes when the client leaves; a failed
// upstream or wrong bytes cancel the upload (nothing half-stored).
func (im *Importer) tee(ctx context.Context, t Target, u *Upstream, d digest.Digest, local Local, w http.ResponseWriter) error {
	bg, cancel := im.detach(ctx)
	defer cancel()
	rc, size, err := u.GetBlob(bg, t.Upstream, d.String())
	if err != nil {
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
	err = im.copyVerified(w, im.stalling(rc, cancel), size, d, p.send)
	p.closeWrite(err)
	if serr := <-stored; err == nil && serr != nil {
		// The client has its bytes; a later pull fetches them again.
		im.log().Warn("pull-through: storing a streamed blob failed", "repository", t.Repo, "digest", d, "error", serr)
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
// to sink (until it refuses) as well. The last chunk goes to the client
// only once the bytes are known to be d; a client's write error only
// ends the client's share.
func (im *Importer) copyVerified(w http.ResponseWriter, r io.Reader, size int64, d digest.Digest, sink func([]byte) bool) error {
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Etag", `"`+d.String()+`"`)
	if size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
	}
	w.WriteHeader(http.StatusOK)
	hash := d.Algorithm().Hash()
	var pending []byte
	var n int64
	client := true
	for {
		buf := make([]byte, chunkSize)
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			c := buf[:k]
			hash.Write(c)
			n += int64(k)
			im.count("bytes", int64(k))
			if sink != nil && !sink(c) {
				sink = nil
			}
			if pending != nil && client {
				_, werr := w.Write(pending)
				client = werr == nil
			}
			pending = c
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return &BrokenError{Err: &UpstreamError{Err: err}}
		}
	}
	if hex.EncodeToString(hash.Sum(nil)) != d.Encoded() || (size >= 0 && n != size) {
		return &BrokenError{Err: &UpstreamError{Status: http.StatusBadGateway,
			Err: fmt.Errorf("upstream blob %s: %d bytes that are not that digest", d, n)}}
	}
	if pending != nil && client {
		if _, err := w.Write(pending); err == nil {
			// Send the tail now: the writers below gather small writes
			// until the handler returns, which tee's does only once the
			// store has caught up and committed.
			_ = http.NewResponseController(w).Flush()
		}
	}
	return nil
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

// chunkPipe hands streamed chunks to the store: up to pipeDepth queue,
// so the client and the store proceed side by side.
type chunkPipe struct {
	ch   chan []byte
	gone chan struct{}
	once sync.Once
	err  error
	cur  []byte
}

func newChunkPipe() *chunkPipe {
	return &chunkPipe{ch: make(chan []byte, pipeDepth), gone: make(chan struct{})}
}

// send queues c; false once the store stopped reading.
func (p *chunkPipe) send(c []byte) bool {
	select {
	case p.ch <- c:
		return true
	case <-p.gone:
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
	for len(p.cur) == 0 {
		c, ok := <-p.ch
		if !ok {
			return 0, p.err
		}
		p.cur = c
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Broken reports whether err is a *BrokenError.
func Broken(err error) bool {
	var b *BrokenError
	return errors.As(err, &b)
}
