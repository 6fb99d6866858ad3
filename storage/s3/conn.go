package s3

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
)

// bodyWriteSize is how much of a request body goes to the socket per write
// on plain-HTTP connections. net/http sends a body with a Content-Length
// through an io.LimitedReader, which hides the body's WriterTo, so the
// connection's ReadFrom copied parts 32 KiB at a time: 512 write syscalls
// per 16 MiB part, which cost berth about a fifth of its CPU on a push.
const bodyWriteSize = 1 << 20

var bodyBufs = sync.Pool{New: func() any { b := make([]byte, bodyWriteSize); return &b }}

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

// bigWriteConn is a connection whose ReadFrom (what net/http uses to send
// a request body) copies through a pooled buffer of bodyWriteSize.
type bigWriteConn struct{ net.Conn }

func (c *bigWriteConn) ReadFrom(r io.Reader) (int64, error) {
	src := r
	if lr, ok := r.(*io.LimitedReader); ok {
		src = lr.R
	}
	if _, ok := src.(*os.File); ok {
		// A file goes to the socket by sendfile, copying nothing.
		if rf, ok := c.Conn.(io.ReaderFrom); ok {
			return rf.ReadFrom(r)
		}
	}
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{c.Conn}, r, *bp)
}

// writerOnly hides everything but Write, so io.CopyBuffer uses the buffer.
type writerOnly struct{ io.Writer }
