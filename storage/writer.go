package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/storage/crypt"
)

// sealBatch is how many sealed segments a writer hands the backend at once.
const sealBatch = 4

// writer seals plaintext into segments as it arrives and streams them to
// the backend's Upload. Between requests (Close) the unsealed tail waits in
// the upload's sidecar, sealed on its own under a fresh nonce; nothing is
// ever sealed twice under one nonce.
//
// One full segment of plaintext is always held back unsealed: only Commit
// knows which segment is final, and the final flag is sealed into it.
type writer struct {
	d       *driver
	path    string
	up      Upload
	hdr     []byte
	s       *crypt.Sealer
	tail    []byte // plaintext not yet sealed: at most a segment
	sealed  []byte // scratch for a batch of sealed segments
	nextIdx uint64 // index of the first segment in tail
	size    int64  // plaintext bytes written, all sessions

	closed, committed, cancelled bool
	err                          error // sticky backend failure
}

func (d *driver) Writer(ctx context.Context, path string, appendMode bool) (storagedriver.FileWriter, error) {
	if appendMode {
		w, err := d.resume(ctx, path)
		if !errors.Is(err, ErrNoUpload) {
			return w, err
		}
		// Nothing in progress: an empty committed object may be appended to
		// (it starts a new upload); a committed object with data may not.
		fi, err := d.Stat(ctx, path)
		if err != nil {
			return nil, err
		}
		if fi.IsDir() || fi.Size() > 0 {
			return nil, fmt.Errorf("storage: %s is committed and cannot be appended to", path)
		}
	}
	h, s, err := d.Keyring.NewObject()
	if err != nil {
		return nil, err
	}
	hdr := h.Marshal()
	up, err := d.Backend.CreateUpload(ctx, path, hdr)
	if err != nil {
		return nil, err
	}
	return &writer{d: d, path: path, up: up, hdr: hdr, s: s}, nil
}

func (w *writer) usable() error {
	switch {
	case w.closed:
		return errors.New("storage: writer already closed")
	case w.committed:
		return errors.New("storage: writer already committed")
	case w.cancelled:
		return errors.New("storage: writer already cancelled")
	}
	return w.err
}

func (w *writer) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	for off := 0; off < len(p); {
		if len(w.tail) == crypt.SegmentSize {
			// More plaintext follows: the held-back segment is not final.
			if err := w.sealSegment(w.tail); err != nil {
				return off, err
			}
			w.tail = w.tail[:0]
		}
		if len(w.tail) == 0 {
			// Segment-aligned: seal whole segments straight from p while
			// more plaintext follows each, without copying them.
			for len(p)-off > crypt.SegmentSize {
				if err := w.sealSegment(p[off : off+crypt.SegmentSize]); err != nil {
					return off, err
				}
				off += crypt.SegmentSize
				w.size += crypt.SegmentSize
			}
		}
		if w.tail == nil {
			w.tail = make([]byte, 0, crypt.SegmentSize)
		}
		k := min(len(p)-off, crypt.SegmentSize-len(w.tail))
		w.tail = append(w.tail, p[off:off+k]...)
		off += k
		w.size += int64(k)
	}
	if err := w.flush(); err != nil {
		return len(p), err
	}
	return len(p), nil
}

// sealSegment seals plain, a whole segment known not to be the last:
// straight into the upload's part when it is an Appender, else into the
// batch that flush hands to Write.
func (w *writer) sealSegment(plain []byte) error {
	if ap, ok := w.up.(Appender); ok {
		dst, err := ap.Buffer(crypt.SlotSize)
		if err != nil {
			w.err = err
			return err
		}
		out, err := w.s.Seal(dst, plain, w.nextIdx, false)
		if err != nil {
			w.err = err
			return err
		}
		w.nextIdx++
		if err := ap.Append(context.Background(), out); err != nil {
			w.err = err
			return err
		}
		return nil
	}
	var err error
	if w.sealed, err = w.s.Seal(w.sealed, plain, w.nextIdx, false); err != nil {
		w.err = err
		return err
	}
	w.nextIdx++
	if len(w.sealed) >= sealBatch*crypt.SlotSize {
		return w.flush()
	}
	return nil
}

func (w *writer) flush() error {
	if len(w.sealed) == 0 {
		return nil
	}
	if err := w.up.Write(context.Background(), w.sealed); err != nil {
		// The backend failed mid-stream: this upload cannot continue
		// consistently; the client restarts it.
		w.err = err
		return err
	}
	w.sealed = w.sealed[:0]
	return nil
}

func (w *writer) Size() int64 { return w.size }

// Close makes the upload durable and stores the tail in the sidecar; the
// next request resumes from them.
func (w *writer) Close() error {
	if w.closed {
		return errors.New("storage: writer already closed")
	}
	w.closed = true
	if w.committed || w.cancelled {
		return nil
	}
	ctx := context.Background()
	if w.err != nil {
		// The stream broke: nothing consistent can be resumed. Release
		// what the backend holds; the client starts the upload again.
		_ = w.up.Abort(ctx)
		_ = w.d.Backend.DeleteSidecars(ctx, w.path)
		return w.err
	}
	if err := w.up.Persist(ctx); err != nil {
		return err
	}
	sc, err := w.sidecar()
	if err != nil {
		return err
	}
	return w.d.Backend.PutSidecar(ctx, w.path, sc)
}

func (w *writer) Cancel(ctx context.Context) error {
	if w.closed {
		return errors.New("storage: writer already closed")
	}
	w.cancelled = true
	if err := w.up.Abort(ctx); err != nil {
		return err
	}
	return w.d.Backend.DeleteSidecars(ctx, w.path)
}

func (w *writer) Commit(ctx context.Context) error {
	if err := w.usable(); err != nil {
		return err
	}
	last, err := w.s.Seal(w.sealed[:0], w.tail, w.nextIdx, true)
	if err != nil {
		return err
	}
	if err := w.up.Complete(ctx, last); err != nil {
		w.err = err
		return err
	}
	w.committed = true
	w.tail, w.sealed = nil, nil
	return w.d.Backend.DeleteSidecars(ctx, w.path)
}

// Sidecar layout: "BRTS" | 2 | header (128) | stored body bytes (8) |
// plaintext size (8) | sealed tail.
// The tail is sealed under the object key at an index no real segment can
// have (top bit set, plus the plaintext size), so it is never confused with
// a segment of the object and a stale sidecar cannot pass for a newer one.
const (
	sidecarMagic   = "BRTS"
	sidecarVersion = 2
	sidecarFixed   = 5 + crypt.HeaderSize + 16
)

func tailIndex(size int64) uint64 { return 1<<63 | uint64(size) }

func (w *writer) sidecar() ([]byte, error) {
	b := make([]byte, 0, sidecarFixed+len(w.tail)+crypt.Overhead)
	b = append(b, sidecarMagic...)
	b = append(b, sidecarVersion)
	b = append(b, w.hdr...)
	b = binary.BigEndian.AppendUint64(b, uint64(w.up.Size()))
	b = binary.BigEndian.AppendUint64(b, uint64(w.size))
	return w.s.Seal(b, w.tail, tailIndex(w.size), true)
}

var errBadSidecar = errors.New("storage: upload state is corrupt or stale")

// resume rebuilds a writer from the backend upload and its sidecar.
// ErrNoUpload means nothing is in progress at path.
func (d *driver) resume(ctx context.Context, path string) (*writer, error) {
	sc, err := d.Backend.GetSidecar(ctx, path)
	if err != nil {
		return nil, err
	}
	up, err := d.Backend.ResumeUpload(ctx, path)
	if errors.Is(err, ErrNoUpload) {
		// Committed (or aborted) after the sidecar was written: stale.
		_ = d.Backend.DeleteSidecars(ctx, path)
		return nil, ErrNoUpload
	}
	if err != nil {
		return nil, err
	}
	w, err := d.resumeWith(sc, path, up)
	if err != nil {
		// Upload state that does not add up cannot be continued safely;
		// release it so nothing lingers, and let the client start over.
		_ = up.Abort(ctx)
		_ = d.Backend.DeleteSidecars(ctx, path)
		return nil, err
	}
	return w, nil
}

func (d *driver) resumeWith(sc []byte, path string, up Upload) (*writer, error) {
	if len(sc) < sidecarFixed+crypt.Overhead || string(sc[:4]) != sidecarMagic || sc[4] != sidecarVersion {
		return nil, d.authErr(fmt.Errorf("%s: %w", path, errBadSidecar))
	}
	hdr := sc[5 : 5+crypt.HeaderSize]
	stored := int64(binary.BigEndian.Uint64(sc[5+crypt.HeaderSize:]))
	size := int64(binary.BigEndian.Uint64(sc[5+crypt.HeaderSize+8:]))
	if stored != up.Size() || stored%crypt.SlotSize != 0 {
		return nil, fmt.Errorf("%s: %w (stored %d bytes, sidecar says %d)", path, errBadSidecar, up.Size(), stored)
	}
	s, err := d.open(hdr)
	if err != nil {
		return nil, err
	}
	tail, err := s.Open(nil, sc[sidecarFixed:], tailIndex(size), true)
	if err != nil {
		return nil, d.authErr(err)
	}
	segs := stored / crypt.SlotSize
	if segs*crypt.SegmentSize+int64(len(tail)) != size {
		return nil, fmt.Errorf("%s: %w (sizes disagree)", path, errBadSidecar)
	}
	return &writer{d: d, path: path, up: up, hdr: append([]byte(nil), hdr...), s: s,
		tail: tail, nextIdx: uint64(segs), size: size}, nil
}
