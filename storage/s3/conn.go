package s3

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
)

// Request bodies on plain-HTTP connections to the store. net/http sends a
// body with a Content-Length through an io.LimitedReader, which hides the
// body's WriterTo, so the connection's ReadFrom copied parts out 32 KiB at
// a time: 512 write syscalls per 16 MiB part, about a fifth of berth's CPU
// on a push. A bigWriteConn hands such a body to the socket in one Write
// when the body can write itself (a part in memory is a bytes.Reader), and
// through a pooled buffer of bodyCopySize otherwise (a spooled part).
const bodyCopySize = 256 << 10

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, bodyCopySize); return &b }}

// bigWrites wraps dial so that request bodies are written in large writes.
func bigWrites(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &bigWriteConn{Conn: c}, nil
	}
}

// bigWriteConn is a connection whose ReadFrom, what net/http sends a
// request body with, writes in large writes.
type bigWriteConn struct{ net.Conn }

func (c *bigWriteConn) ReadFrom(r io.Reader) (int64, error) {
	src := r
	lr, limited := r.(*io.LimitedReader)
	if limited {
		src = lr.R
	}
	if _, ok := src.(*os.File); ok {
		// A file goes to the socket by sendfile, copying nothing.
		if rf, ok := c.Conn.(io.ReaderFrom); ok {
			return rf.ReadFrom(r)
		}
	}
	if wt, ok := src.(io.WriterTo); ok && limited {
		// The body writes itself, held to the limit: a body longer than
		// its Content-Length fails the request rather than overrun it.
		n, err := wt.WriteTo(&limitWriter{w: c.Conn, n: lr.N})
		lr.N -= n
		return n, err
	}
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{c.Conn}, r, *bp)
}

var errBodyTooLong = errors.New("s3: request body longer than its Content-Length")

// limitWriter writes at most n bytes to w.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= l.n {
		k, err := l.w.Write(p)
		l.n -= int64(k)
		return k, err
	}
	k, err := l.w.Write(p[:l.n])
	l.n -= int64(k)
	if err == nil {
		err = errBodyTooLong
	}
	return k, err
}

// writerOnly hides everything but Write, so io.CopyBuffer uses the buffer.
type writerOnly struct{ io.Writer }
