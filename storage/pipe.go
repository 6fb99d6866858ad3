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
// own, a chunk of segments at a time, while the caller takes plaintext out.
// Each chunk is read into one scratch buffer of sealed bytes and opened
// into a plaintext buffer of its own, contiguous across its segments (AES-GCM
// writes its output anyway, so this costs no pass over the bytes): a Read
// returns as much plaintext as fits, across chunks, and WriteTo hands each
// chunk to the writer in one Write, without copying it.
const (
	// pipelineMin is how many segments a read must span to be worth a
	// goroutine: manifests, links and small blobs are read in line.
	pipelineMin = 4
	// pipeDepth plaintext chunks are buffered per reader: one being taken
	// out while the next waits, decrypted; the goroutine reads a third
	// into its sealed scratch buffer meanwhile.
	pipeDepth = 2
	// bigReaders readers at a time read in big chunks; the others, and
	// every read shorter than bigMin, in small ones.
	bigReaders = 4
)

// bigMin segments (32 MiB) make a read long enough for big chunks: the
// big layers whose pulls are long streams. Shorter blobs, such as the
// bench's 32 concurrent 16 MiB pulls, gain nothing measurable from them
// (413 against 411 MB/s) but kept their buffers mapped into the next
// burst of pushes (peak RSS 140 against 129 MiB). A variable for tests.
var bigMin uint64 = 512

// Chunk sizes. Every chunk costs a read from the backend, a handoff
// between the goroutines and a Write to the client, each of which may
// park a goroutine and wake another (on a VM, a cross-CPU wakeup is a
// trap): on 512 MiB pulls from MinIO, 1 MiB chunks took berth from
// 1.0–1.2 to 0.7–0.8 CPU-seconds per GB against 256 KiB ones. Memory per
// open reader is pipeDepth plaintext chunks plus one sealed one: ≈770 KiB
// small, ≈3.1 MiB big; big chunks are kept to bigReaders readers at once
// (1 MiB chunks for all made 32 concurrent pulls hold ≈100 MiB, which the
// next burst of pushes then found still mapped: RSS).
var (
	smallChunks = newChunkPool(4)  // 256 KiB of plaintext
	bigChunks   = newChunkPool(16) // 1 MiB
	// bigSlots holds a token per reader using bigChunks.
	bigSlots = make(chan struct{}, bigReaders)
)

// chunkPool reuses the buffers of chunks of segs segments across readers.
type chunkPool struct {
	segs          int
	plain, sealed sync.Pool
}

func newChunkPool(segs int) *chunkPool {
	p := &chunkPool{segs: segs}
	p.plain.New = func() any { b := make([]byte, segs*crypt.SegmentSize); return &b }
	p.sealed.New = func() any { b := make([]byte, segs*crypt.SlotSize); return &b }
	return p
}

// chunkPoolFor picks the chunk size of a reader of segs segments; release
// gives a big reader's slot back once its buffers are returned.
func chunkPoolFor(segs uint64) (pool *chunkPool, release func()) {
	if segs >= bigMin {
		select {
		case bigSlots <- struct{}{}:
			return bigChunks, func() { <-bigSlots }
		default:
		}
	}
	return smallChunks, func() {}
}

// chunk is a run of segments' plaintext.
type chunk struct {
	buf  *[]byte // pool.plain buffer; nil until first used
	data []byte  // the plaintext not yet taken out, inside buf
	err  error   // after data: the read's end (io.EOF) or failure
}

type pipeReader struct {
	sr     *segmentReader // read by the goroutine only, once started
	pool   *chunkPool
	unslot func()  // by Close, once the buffers are back in pool
	sealed *[]byte // the goroutine's scratch buffer
	full   chan *chunk
	free   chan *chunk
	done   chan struct{} // closed by Close: the goroutine stops
	exit   chan struct{} // closed by the goroutine as it returns

	cur       *chunk
	err       error
	closeOnce sync.Once
}

func newPipeReader(sr *segmentReader) *pipeReader {
	pool, release := chunkPoolFor(sr.last - sr.next + 1)
	p := &pipeReader{sr: sr, pool: pool, unslot: release, full: make(chan *chunk, pipeDepth), free: make(chan *chunk, pipeDepth),
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
	p.sealed = p.pool.sealed.Get().(*[]byte)
	defer func() { p.pool.sealed.Put(p.sealed); p.sealed = nil }()
	for {
		sealed, segs, err := p.read()
		var c *chunk
		select {
		case c = <-p.free:
		case <-p.done:
			return
		}
		if c.buf == nil {
			c.buf = p.pool.plain.Get().(*[]byte)
		}
		c.data, c.err = (*c.buf)[:0], err
		if err == nil {
			p.open(c, sealed, segs)
		}
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

// read reads the next chunk of up to pool.segs segments into the scratch
// buffer with one ReadFull; io.EOF when every segment has been read.
func (p *pipeReader) read() ([]byte, int, error) {
	r := p.sr
	if r.next > r.last {
		return nil, 0, io.EOF
	}
	segs := min(uint64(p.pool.segs), r.last-r.next+1)
	n := int64(segs) * crypt.SlotSize
	if r.next+segs-1 == r.last {
		n = r.storedSize - int64(r.next)*crypt.SlotSize
	}
	buf := (*p.sealed)[:n]
	if _, err := io.ReadFull(r.body, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = r.d.authErr(fmt.Errorf("object shorter than stated: %w", crypt.ErrAuth))
		}
		return nil, 0, err
	}
	return buf, int(segs), nil
}

// open decrypts the segs segments in sealed into c, one after the other.
func (p *pipeReader) open(c *chunk, sealed []byte, segs int) {
	r := p.sr
	out := c.data
	for i := range segs {
		seg := sealed[i*crypt.SlotSize : min((i+1)*crypt.SlotSize, len(sealed))]
		var err error
		if out, err = r.s.Open(out, seg, r.next, r.next == r.last); err != nil {
			c.err = r.d.authErr(err)
			break
		}
		r.next++
	}
	c.data = out[min(r.skip, len(out)):]
	r.skip = 0
	if c.err == nil && r.next > r.last {
		c.err = io.EOF
	}
}

// next makes p.cur a chunk with plaintext left, returning the one used up;
// false at the end or a failure (then p.err is set). wait false returns at
// once when no chunk is ready.
func (p *pipeReader) next(wait bool) bool {
	for p.cur == nil || len(p.cur.data) == 0 {
		if p.cur != nil {
			if p.cur.err != nil {
				p.err = p.cur.err
			}
			p.free <- p.cur
			p.cur = nil
		}
		if p.err != nil {
			return false
		}
		if !wait && len(p.full) == 0 {
			return false
		}
		select {
		case p.cur = <-p.full:
		case <-p.exit:
			// Closed, or the goroutine ended; a chunk it sent first is
			// still in full.
			select {
			case p.cur = <-p.full:
			default:
				p.err = errors.New("storage: read after close")
			}
		}
	}
	return true
}

// WriteTo writes the rest of the plaintext to w, a chunk per Write, straight
// from the chunk buffers.
func (p *pipeReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for p.next(true) {
		n, err := w.Write(p.cur.data)
		total += int64(n)
		p.cur.data = p.cur.data[n:]
		if err != nil {
			return total, err
		}
	}
	if p.err == io.EOF {
		return total, nil
	}
	return total, p.err
}

func (p *pipeReader) Read(b []byte) (int, error) {
	n := 0
	// Past the first bytes, return what we have rather than wait.
	for n < len(b) && p.next(n == 0) {
		k := copy(b[n:], p.cur.data)
		n += k
		p.cur.data = p.cur.data[k:]
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
		p.unslot()
	})
	return err
}

func (p *pipeReader) release(c *chunk) {
	if c != nil && c.buf != nil {
		p.pool.plain.Put(c.buf)
		c.buf, c.data = nil, nil
	}
}
