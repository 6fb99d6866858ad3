package storage

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/berth-registry/berth/storage/crypt"
)

// The pull pipeline. A blob read used to be one goroutine doing read from
// the backend → decrypt → hand to the client in turn, a segment (64 KiB) at
// a time, so the network read, AES-GCM and the write to the client never
// overlapped. A pipeReader reads and decrypts ahead in a goroutine of its
// own, a chunk of segments at a time, into a small fixed set of reused
// buffers, while the caller copies plaintext out; a Read returns as much
// plaintext as fits, across segments, so callers that read big (the
// registry's 4 MiB bufio) get big reads.
const (
	// pipelineMin is how many segments a read must span to be worth a
	// goroutine: manifests, links and small blobs are read in line.
	pipelineMin = 4
	// chunkSegs segments (about 1 MiB) are read and decrypted at once.
	chunkSegs = 16
	// pipeDepth chunks are buffered per reader: one being copied out, one
	// decrypted ahead, one being read. Memory per open reader is
	// pipeDepth × chunkSegs × SlotSize ≈ 3 MiB, taken as it is needed.
	pipeDepth = 3
)

// chunkPool reuses chunk buffers across readers.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSegs*crypt.SlotSize); return &b }}

// chunk is a run of segments, decrypted in place: plain[i] is segment i's
// plaintext, inside buf.
type chunk struct {
	buf   *[]byte
	plain [][]byte
	err   error // after the segments in plain: the read's end (io.EOF) or failure
}

type pipeReader struct {
	sr   *segmentReader // read by the goroutine only, once started
	full chan *chunk
	free chan *chunk
	done chan struct{} // closed by Close: the goroutine stops
	exit chan struct{} // closed by the goroutine as it returns

	cur       *chunk
	err       error
	closeOnce sync.Once
}

func newPipeReader(sr *segmentReader) *pipeReader {
	p := &pipeReader{sr: sr, full: make(chan *chunk, pipeDepth-1), free: make(chan *chunk, pipeDepth),
		done: make(chan struct{}), exit: make(chan struct{})}
	for range pipeDepth {
		p.free <- &chunk{}
	}
	go p.run()
	return p
}

// run reads and decrypts chunks until the end, a failure or Close.
func (p *pipeReader) run() {
	defer close(p.exit)
	for {
		var c *chunk
		select {
		case c = <-p.free:
		case <-p.done:
			return
		}
		if c.buf == nil {
			c.buf = chunkPool.Get().(*[]byte)
		}
		p.fill(c)
		select {
		case p.full <- c:
		case <-p.done:
			return
		}
		if c.err != nil {
			return
		}
	}
}

// fill reads up to chunkSegs segments into c.buf with one ReadFull and
// opens each in place.
func (p *pipeReader) fill(c *chunk) {
	r := p.sr
	c.plain, c.err = c.plain[:0], nil
	if r.next > r.last {
		c.err = io.EOF
		return
	}
	segs := min(uint64(chunkSegs), r.last-r.next+1)
	n := int64(segs) * crypt.SlotSize
	if r.next+segs-1 == r.last {
		n = r.storedSize - int64(r.next)*crypt.SlotSize
	}
	buf := (*c.buf)[:n]
	if _, err := io.ReadFull(r.body, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = r.d.authErr(fmt.Errorf("object shorter than stated: %w", crypt.ErrAuth))
		}
		c.err = err
		return
	}
	for i := range int(segs) {
		sealed := buf[i*crypt.SlotSize : min(int64(i+1)*crypt.SlotSize, n)]
		// In place: the plaintext lands where the ciphertext was, after
		// the nonce (Open's dst may be exactly its input's start).
		out, err := r.s.Open(sealed[crypt.NonceSize:crypt.NonceSize], sealed, r.next, r.next == r.last)
		if err != nil {
			c.err = r.d.authErr(err)
			return
		}
		if r.skip > 0 {
			out, r.skip = out[r.skip:], 0
		}
		c.plain = append(c.plain, out)
		r.next++
	}
	if r.next > r.last {
		c.err = io.EOF
	}
}

func (p *pipeReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if p.cur == nil || len(p.cur.plain) == 0 {
			if p.cur != nil {
				if p.cur.err != nil {
					p.err = p.cur.err
				}
				p.free <- p.cur
				p.cur = nil
			}
			if p.err != nil {
				break
			}
			if n > 0 && len(p.full) == 0 {
				break // return what we have rather than wait
			}
			select {
			case p.cur = <-p.full:
			case <-p.exit:
				// Closed, or the goroutine ended; a chunk it sent first
				// is still in full.
				select {
				case p.cur = <-p.full:
				default:
					p.err = errors.New("storage: read after close")
				}
			}
			continue
		}
		seg := p.cur.plain[0]
		k := copy(b[n:], seg)
		n += k
		if k == len(seg) {
			p.cur.plain = p.cur.plain[1:]
		} else {
			p.cur.plain[0] = seg[k:]
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, p.err
}

// Close stops the goroutine and waits for it, so the body and the buffers
// are released when Close returns. Closing the body first unblocks a read
// in progress.
func (p *pipeReader) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.done)
		err = p.sr.body.Close()
		<-p.exit
		for {
			select {
			case c := <-p.full:
				p.release(c)
				continue
			default:
			}
			break
		}
		p.release(p.cur)
		p.cur = nil
		for len(p.free) > 0 {
			p.release(<-p.free)
		}
	})
	return err
}

func (p *pipeReader) release(c *chunk) {
	if c != nil && c.buf != nil {
		chunkPool.Put(c.buf)
		c.buf = nil
	}
}
