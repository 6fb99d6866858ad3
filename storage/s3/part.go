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
	buf []byte   // memory part: the bytes so far, capacity the upload's part size
	f   *os.File // spool part
}

// partPool hands out part buffers within a global byte budget, so memory
// stays bounded however many uploads run at once; past the budget parts go
// to spool files. Buffers are kept for reuse: the budget, not the load, is
// what they can add to the process's memory. Uploads may differ in part
// size (it is recorded per upload), so free buffers are kept by size; a
// free buffer of another size is given up when only that makes room.
type partPool struct {
	budget int64

	mu    sync.Mutex
	free  map[int64][][]byte // by capacity
	nfree int64              // bytes of free buffers
	alloc int64              // bytes of buffers allocated (free or in use)
	inUse int64              // bytes of buffers handed out (tests)
}

// get returns an empty buffer of capacity size, or nil when the budget is
// spent.
func (p *partPool) get(size int64) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if fs := p.free[size]; len(fs) > 0 {
		b := fs[len(fs)-1]
		p.free[size] = fs[:len(fs)-1]
		p.nfree -= size
		p.inUse += size
		return b
	}
	if p.alloc+size > p.budget && p.alloc-p.nfree+size <= p.budget {
		p.dropFreeLocked(size)
	}
	if p.alloc+size > p.budget {
		return nil
	}
	p.alloc += size
	p.inUse += size
	return allocPartBuf(size)
}

// dropFreeLocked gives up free buffers of other sizes until size fits.
func (p *partPool) dropFreeLocked(size int64) {
	for sz, fs := range p.free {
		for len(fs) > 0 && p.alloc+size > p.budget {
			freePartBuf(fs[len(fs)-1])
			fs = fs[:len(fs)-1]
			p.alloc -= sz
			p.nfree -= sz
		}
		p.free[sz] = fs
	}
}

func (p *partPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	size := int64(cap(b))
	if p.free == nil {
		p.free = map[int64][][]byte{}
	}
	p.inUse -= size
	p.nfree += size
	p.free[size] = append(p.free[size], b[:0])
}

// newSpoolPart returns an empty part in a new spool file.
func (b *Backend) newSpoolPart() (*part, error) {
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

// section reads n bytes of the part from off. It is an io.Seeker, which is
// what lets minio-go retry.
func (p *part) section(off, n int64) io.ReadSeeker {
	if p.f != nil {
		return io.NewSectionReader(p.f, off, n)
	}
	return bytes.NewReader(p.buf[off : off+n])
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
