package registry

import (
	"bufio"
	"io"
	"net/http"
	"sync"
)

// uploadReadSize is how much an upload body's reads take from the socket
// at once. distribution copies an upload body into its digest and the
// storage writer through io.Copy's 32 KiB buffer, and from a fast client
// every such Read is a syscall, a check of the node's minimum-rate guard
// and an ACK; reading ahead takes the same bytes in an eighth of the calls
// for one more copy in memory. Only readAheadUploads uploads at a time
// read ahead: on two cores a few uploads keep the CPUs busy, and 32
// concurrent pushes holding a buffer each took peak RSS from 132 to 155 MiB
// (live heap, doubled by the GC's target).
const (
	uploadReadSize   = 256 << 10
	readAheadUploads = 4
)

var (
	readAheads     = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, uploadReadSize) }}
	readAheadSlots = make(chan struct{}, readAheadUploads)
)

// readAhead puts a read-ahead buffer in front of r's body for the request's
// handling, if one of the slots is free; the returned func gives it back
// once the handler has returned.
func readAhead(r *http.Request) (release func()) {
	if r.Body == nil || r.Body == http.NoBody {
		return func() {}
	}
	select {
	case readAheadSlots <- struct{}{}:
	default:
		return func() {}
	}
	br := readAheads.Get().(*bufio.Reader)
	br.Reset(r.Body)
	body := &readAheadBody{br: br, Closer: r.Body}
	r.Body = body
	return func() {
		body.br = nil
		br.Reset(nil)
		readAheads.Put(br)
		<-readAheadSlots
	}
}

// readAheadBody reads through br and closes the body underneath.
type readAheadBody struct {
	br *bufio.Reader // nil once released
	io.Closer
}

func (b *readAheadBody) Read(p []byte) (int, error) {
	if b.br == nil {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.br.Read(p)
}
