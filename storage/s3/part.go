package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unsafe"
)

// part is the part an upload is filling: a buffer from the backend's pool,
// or, when the pool's budget is spent, a spool file on local disk.
type part struct {
	buf []byte   // memory part: the bytes so far, capacity PartSize
	f   *os.File // spool part
}

// partPool hands out part buffers within a global byte budget, so memory
// stays bounded however many uploads run at once; past the budget parts go
// to spool files. Buffers are kept for reuse, never freed: the budget, not
// the load, is what they can add to the process's memory.
type partPool struct {
	size   int64 // every buffer's capacity: the part size
	budget int64

	mu    sync.Mutex
	free  [][]byte
	alloc int64 // bytes of buffers allocated (free or in use)
	inUse int64 // bytes of buffers handed out (tests)
}

// get returns an empty buffer, or nil when the budget is spent.
func (p *partPool) get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		p.inUse += p.size
		return b
	}
	if p.alloc+p.size > p.budget {
		return nil
	}
	p.alloc += p.size
	p.inUse += p.size
	return make([]byte, 0, p.size)
}

func (p *partPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inUse -= p.size
	p.free = append(p.free, b[:0])
}

// newPart returns an empty part: in memory if the budget allows.
func (b *Backend) newPart() (*part, error) {
	if buf := b.pool.get(); buf != nil {
		return &part{buf: buf}, nil
	}
	f, err := os.CreateTemp(b.spoolDir, "part-")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &part{f: f}, nil
}

// releasePart gives a part's buffer back to the pool or removes its spool
// file. A nil part is fine.
func (b *Backend) releasePart(p *part) {
	switch {
	case p == nil:
	case p.f != nil:
		p.f.Close()
		os.Remove(p.f.Name())
		p.f = nil
	case p.buf != nil:
		b.pool.put(p.buf)
		p.buf = nil
	}
}

func (p *part) write(b []byte) error {
	if p.f != nil {
		if _, err := p.f.Write(b); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		return nil
	}
	if len(p.buf)+len(b) > cap(p.buf) {
		return errors.New("part buffer overflow") // the upload sends full parts first
	}
	p.buf = append(p.buf, b...)
	return nil
}

// free is the unused capacity of a memory part (nil for a spool part).
func (p *part) free() []byte {
	if p.f != nil {
		return nil
	}
	return p.buf[len(p.buf):len(p.buf):cap(p.buf)]
}

// inPlace reports whether b starts exactly where a memory part's bytes end
// and lies within its capacity: the caller sealed into free().
func (p *part) inPlace(b []byte) bool {
	if p.f != nil || len(b) == 0 || len(p.buf)+len(b) > cap(p.buf) {
		return false
	}
	end := p.buf[len(p.buf) : len(p.buf)+1]
	return unsafe.SliceData(end) == unsafe.SliceData(b)
}

// reader reads the part from its start; both kinds are io.ReadSeekers.
func (p *part) reader() (io.ReadSeeker, error) {
	if p.f != nil {
		if _, err := p.f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		return p.f, nil
	}
	return bytes.NewReader(p.buf), nil
}

// readFrom fills an empty part with up to size bytes of r.
func (p *part) readFrom(r io.Reader, size int64) (int64, error) {
	if p.f != nil {
		return io.Copy(p.f, io.LimitReader(r, size+1))
	}
	if size > int64(cap(p.buf)) {
		return 0, fmt.Errorf("pending part of %d bytes exceeds the part size", size)
	}
	n, err := io.ReadFull(r, p.buf[:size])
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	p.buf = p.buf[:n]
	return int64(n), err
}
