package registry

import (
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/distribution/distribution/v3/registry/api/errcode"
)

// blobWriter carries the body of a blob GET between distribution and the
// client. It does two things distribution's own writer cannot:
//
//   - Big writes. distribution copies a blob with io.CopyN through a
//     ResponseWriter of its own that hides io.ReaderFrom, so every write is
//     32 KiB, a syscall each. blobWriter gathers them into writes of
//     blobWriteSize, and its ReadFrom reads that much at a time.
//   - No truncated 200. distribution opens the blob's reader lazily, after
//     it has sent 200 and the Content-Length; a storage failure on the
//     first read then left the client a 200 with no body. blobWriter holds
//     a 200/206 with a body back until the first body byte, and answers 503
//     UNAVAILABLE if the handler ends before one was written.
type blobWriter struct {
	w       http.ResponseWriter // berth's statusWriter
	pending int                 // status held back, 0 when sent or none
	buf     *[]byte             // gathered body bytes; nil until the first
	sent    bool                // a body byte went out
}

const blobWriteSize = 256 << 10

var blobBufPool = sync.Pool{New: func() any { b := make([]byte, 0, blobWriteSize); return &b }}

func (b *blobWriter) Header() http.Header { return b.w.Header() }

func (b *blobWriter) WriteHeader(code int) {
	if b.pending != 0 || b.sent {
		return
	}
	if code == http.StatusOK || code == http.StatusPartialContent {
		if n, err := strconv.ParseInt(b.w.Header().Get("Content-Length"), 10, 64); err == nil && n > 0 {
			b.pending = code
			return
		}
	}
	b.w.WriteHeader(code)
}

// start sends the held-back status before the first body byte.
func (b *blobWriter) start() {
	if b.pending != 0 {
		b.w.WriteHeader(b.pending)
		b.pending = 0
	}
	b.sent = true
}

func (b *blobWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b.start()
	if b.buf == nil {
		b.buf = blobBufPool.Get().(*[]byte)
	}
	buf := *b.buf
	if len(buf) == 0 && len(p) >= blobWriteSize {
		return b.w.Write(p) // already big: no copy
	}
	n := 0
	for len(p) > 0 {
		k := min(len(p), blobWriteSize-len(buf))
		buf = append(buf, p[:k]...)
		p, n = p[k:], n+k
		if len(buf) == blobWriteSize {
			*b.buf = buf
			if err := b.flushBuf(); err != nil {
				return n, err
			}
			buf = *b.buf
		}
	}
	*b.buf = buf
	return n, nil
}

// ReadFrom fills the gather buffer straight from r.
func (b *blobWriter) ReadFrom(r io.Reader) (int64, error) {
	if b.buf == nil {
		b.buf = blobBufPool.Get().(*[]byte)
	}
	var total int64
	for {
		buf := *b.buf
		n, err := r.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			b.start()
			*b.buf = buf[:len(buf)+n]
			total += int64(n)
			if len(*b.buf) == cap(*b.buf) {
				if ferr := b.flushBuf(); ferr != nil {
					return total, ferr
				}
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (b *blobWriter) flushBuf() error {
	if b.buf == nil || len(*b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

func (b *blobWriter) Flush() {
	if b.pending != 0 {
		return // nothing to flush before the first body byte
	}
	_ = b.flushBuf()
	if f, ok := b.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (b *blobWriter) Unwrap() http.ResponseWriter { return b.w }

// finish runs after the handler: it sends what is gathered, or, when a
// body was promised but not one byte of it could be read, the 503.
func (b *blobWriter) finish() {
	if b.pending != 0 {
		h := b.w.Header()
		for _, k := range []string{"Content-Length", "Content-Range", "Content-Type", "Etag", "Accept-Ranges", "Last-Modified"} {
			h.Del(k)
		}
		b.pending = 0
		serveError(b.w, errcode.ErrorCodeUnavailable.WithDetail("storage failed before the first byte of the blob; retry"))
	} else {
		_ = b.flushBuf()
	}
	if b.buf != nil {
		*b.buf = (*b.buf)[:0]
		blobBufPool.Put(b.buf)
		b.buf = nil
	}
}
