package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/storage/crypt"
)

// writer seals plaintext into segments as it arrives and hands the backend
// whole parts. What is not yet a whole part lives in memory during a request
// and in the upload's sidecar between requests (Close), so every part but the
// last has the same size and nothing is ever sealed twice under one nonce.
//
// One full segment of plaintext is always held back unsealed: only Commit
// knows which segment is final, and the final flag is sealed into it.
type writer struct {
	d       *driver
	path    string
	up      Upload
	hdr     []byte
	s       *crypt.Sealer
	pending []byte // sealed segments not yet sent as a part
	tail    []byte // plaintext not yet sealed, at most one segment … plus what Write appended
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

func (w *writer) Write(p []byte) (int, error) {
	switch {
	case w.closed:
		return 0, errors.New("storage: write to closed writer")
	case w.committed:
		return 0, errors.New("storage: write to committed writer")
	case w.cancelled:
		return 0, errors.New("storage: write to cancelled writer")
	case w.err != nil:
		return 0, w.err
	}
	w.tail = append(w.tail, p...)
	w.size += int64(len(p))
	// Seal every segment that is surely not the last one.
	n := 0
	for len(w.tail)-n > crypt.SegmentSize {
		var err error
		w.pending, err = w.s.Seal(w.pending, w.tail[n:n+crypt.SegmentSize], w.nextIdx, false)
		if err != nil {
			return 0, err
		}
		w.nextIdx++
		n += crypt.SegmentSize
		if err := w.flushParts(); err != nil {
			// The backend failed mid-part: this upload cannot continue
			// consistently; the client restarts it.
			w.err = err
			return 0, err
		}
	}
	if n > 0 {
		w.tail = append(w.tail[:0], w.tail[n:]...)
	}
	return len(p), nil
}

func (w *writer) flushParts() error {
	ps := int(w.d.Backend.PartSize())
	for len(w.pending) >= ps {
		if err := w.up.WritePart(context.Background(), w.pending[:ps]); err != nil {
			return err
		}
		w.pending = append(w.pending[:0], w.pending[ps:]...)
	}
	return nil
}

func (w *writer) Size() int64 { return w.size }

// Close persists what is not yet in a part to the sidecar; the next request
// resumes from it.
func (w *writer) Close() error {
	if w.closed {
		return errors.New("storage: writer already closed")
	}
	w.closed = true
	if w.committed || w.cancelled {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	sc, err := w.sidecar()
	if err != nil {
		return err
	}
	return w.d.Backend.PutSidecar(context.Background(), w.path, sc)
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
	switch {
	case w.closed:
		return errors.New("storage: writer already closed")
	case w.committed:
		return errors.New("storage: writer already committed")
	case w.cancelled:
		return errors.New("storage: writer already cancelled")
	case w.err != nil:
		return w.err
	}
	last, err := w.s.Seal(w.pending, w.tail, w.nextIdx, true)
	if err != nil {
		return err
	}
	if err := w.up.Complete(ctx, last); err != nil {
		return err
	}
	w.committed = true
	w.pending, w.tail = nil, nil
	if err := w.d.Backend.DeleteSidecars(ctx, w.path); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

func isNotFound(err error) bool {
	var nf storagedriver.PathNotFoundError
	return errors.As(err, &nf) || errors.Is(err, ErrNoUpload)
}

// Sidecar layout: "BRTS" | 1 | header (128) | stored part bytes (8) |
// plaintext size (8) | len(pending) (4) | pending | sealed tail.
// The tail is sealed under the object key at an index no real segment can
// have (top bit set, plus the plaintext size), so it is never confused with
// a segment of the object and a stale sidecar cannot pass for a newer one.
const sidecarMagic = "BRTS"

func tailIndex(size int64) uint64 { return 1<<63 | uint64(size) }

func (w *writer) sidecar() ([]byte, error) {
	b := make([]byte, 0, 5+crypt.HeaderSize+20+len(w.pending)+len(w.tail)+crypt.Overhead)
	b = append(b, sidecarMagic...)
	b = append(b, 1)
	b = append(b, w.hdr...)
	b = binary.BigEndian.AppendUint64(b, uint64(w.up.Size()))
	b = binary.BigEndian.AppendUint64(b, uint64(w.size))
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.pending)))
	b = append(b, w.pending...)
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
	const fixed = 5 + crypt.HeaderSize + 20
	if len(sc) < fixed+crypt.Overhead || string(sc[:4]) != sidecarMagic || sc[4] != 1 {
		return nil, d.authErr(fmt.Errorf("%s: %w", path, errBadSidecar))
	}
	hdr := sc[5 : 5+crypt.HeaderSize]
	partBytes := int64(binary.BigEndian.Uint64(sc[5+crypt.HeaderSize:]))
	size := int64(binary.BigEndian.Uint64(sc[5+crypt.HeaderSize+8:]))
	np := int(binary.BigEndian.Uint32(sc[5+crypt.HeaderSize+16:]))
	if partBytes != up.Size() || np%crypt.SlotSize != 0 || fixed+np > len(sc) {
		return nil, fmt.Errorf("%s: %w (parts %d, sidecar says %d)", path, errBadSidecar, up.Size(), partBytes)
	}
	s, err := d.open(hdr)
	if err != nil {
		return nil, err
	}
	tail, err := s.Open(nil, sc[fixed+np:], tailIndex(size), true)
	if err != nil {
		return nil, d.authErr(err)
	}
	segs := (partBytes + int64(np)) / crypt.SlotSize
	if segs*crypt.SegmentSize+int64(len(tail)) != size {
		return nil, fmt.Errorf("%s: %w (sizes disagree)", path, errBadSidecar)
	}
	return &writer{d: d, path: path, up: up, hdr: append([]byte(nil), hdr...), s: s,
		pending: append([]byte(nil), sc[fixed:fixed+np]...), tail: tail, nextIdx: uint64(segs), size: size}, nil
}
