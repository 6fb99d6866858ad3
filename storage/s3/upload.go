package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// CreateUpload implements storage.Backend: a new multipart upload that
// assembles the body under a fresh objects/ key; Complete then points the
// object's key at it (see pointer.go).
func (b *Backend) CreateUpload(ctx context.Context, p string, hdr []byte) (storage.Upload, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	if _, err := encodeHeader(hdr); err != nil {
		return nil, wrap("create upload", p, err)
	}
	target := newTarget()
	key := b.targetKey(target)
	id, err := b.core.NewMultipartUpload(ctx, b.bucket, key, minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return nil, wrap("create upload", p, err)
	}
	rec := uploadRecord{uploadID: id, target: target, hdr: append([]byte(nil), hdr...)}
	return b.newUpload(p, rec, nil), nil
}

// ResumeUpload implements storage.Backend: the upload's record is the
// pending object its last Persist left (its metadata names the body's key,
// upload id and part size, its body is the unfinished part); the parts come
// from ListParts, every page (a resumed upload of more than 1000 parts must
// not lose any, see distribution#2814). The upload keeps the part size its
// first part gave it, whatever this node's part_size says.
func (b *Backend) ResumeUpload(ctx context.Context, p string) (storage.Upload, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	rc, info, h, err := b.core.GetObject(ctx, b.bucket, b.pendKey(p), minio.GetObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, storage.ErrNoUpload
		}
		return nil, wrap("resume upload", p, err)
	}
	defer rc.Close()
	rec, err := uploadRecordOf(h)
	if err != nil {
		return nil, wrap("resume upload", p, err)
	}
	key := b.targetKey(rec.target)
	var parts []minio.ObjectPart
	marker := 0
	for {
		res, err := b.core.ListObjectParts(ctx, b.bucket, key, rec.uploadID, marker, b.partsMax)
		if err != nil {
			if errCode(err) == minio.NoSuchUpload {
				return nil, storage.ErrNoUpload // completed or aborted meanwhile
			}
			return nil, wrap("resume upload", p, err)
		}
		parts = append(parts, res.ObjectParts...)
		if !res.IsTruncated {
			break
		}
		if res.NextPartNumberMarker <= marker {
			return nil, wrap("resume upload", p, errors.New("part listing does not advance"))
		}
		marker = res.NextPartNumberMarker
	}
	slices.SortFunc(parts, func(a, c minio.ObjectPart) int { return a.PartNumber - c.PartNumber })
	if rec.partSize == 0 && len(parts) > 0 {
		// No size recorded (a record from before sizes were, or a Persist
		// that stored the first part and then failed): the stored parts
		// say it, all alike (checked below). The sidecar check refuses the
		// latter, whose parts outgrew its record.
		rec.partSize = parts[0].Size
		if !validPartSize(rec.partSize) {
			return nil, wrap("resume upload", p, fmt.Errorf("upload %s has parts of %d bytes", rec.uploadID, rec.partSize))
		}
	}
	done := make([]minio.CompletePart, len(parts))
	for i, pt := range parts {
		// Anything else means a lost part or a part of another size:
		// appending to it would corrupt the object, so refuse rather than
		// guess.
		if pt.PartNumber != i+1 || pt.Size != rec.partSize {
			return nil, wrap("resume upload", p, fmt.Errorf(
				"upload %s does not fit: part %d is number %d of %d bytes, want number %d of %d bytes",
				rec.uploadID, i+1, pt.PartNumber, pt.Size, i+1, rec.partSize))
		}
		done[i] = minio.CompletePart{PartNumber: pt.PartNumber, ETag: pt.ETag}
	}
	u := b.newUpload(p, rec, done)
	if err := u.loadPending(rc, info.Size); err != nil {
		return nil, err
	}
	return u, nil
}

// uploadRecord is what a later request needs to continue an upload.
type uploadRecord struct {
	uploadID string
	target   string // the body's id under objects/
	hdr      []byte
	// partSize is the size of every part but the last, fixed for the
	// upload's life by its first part (S3 stores such as R2 require equal
	// parts, and the resume check relies on them); 0 while no part is
	// stored. Absent from the records of older versions, whose parts then
	// say it.
	partSize int64
}

const (
	metaUploadID     = "Berth-Upload-Id"
	httpMetaUploadID = "X-Amz-Meta-" + metaUploadID
	metaUploadBody   = "Berth-Upload-Body"
	httpMetaBody     = "X-Amz-Meta-" + metaUploadBody
	metaPartSize     = "Berth-Part-Size"
	httpMetaPartSize = "X-Amz-Meta-" + metaPartSize
)

func (r uploadRecord) meta() (map[string]string, error) {
	m, err := encodeHeader(r.hdr)
	if err != nil {
		return nil, err
	}
	m[metaUploadID] = r.uploadID
	m[metaUploadBody] = r.target
	if r.partSize > 0 {
		m[metaPartSize] = strconv.FormatInt(r.partSize, 10)
	}
	return m, nil
}

func uploadRecordOf(h http.Header) (uploadRecord, error) {
	r := uploadRecord{uploadID: h.Get(httpMetaUploadID), target: h.Get(httpMetaBody)}
	if r.uploadID == "" || !validTarget(r.target) {
		return uploadRecord{}, errors.New("pending object without a valid upload record")
	}
	if v := h.Get(httpMetaPartSize); v != "" {
		ps, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !validPartSize(ps) {
			return uploadRecord{}, fmt.Errorf("pending object with a bad part size %q", v)
		}
		r.partSize = ps
	}
	hdr, err := decodeHeader(h)
	if err != nil {
		return uploadRecord{}, err
	}
	r.hdr = hdr
	return r, nil
}

// validPartSize: whole sealed segments (the resume check and ranged reads
// count in them) within S3's limits.
func validPartSize(n int64) bool {
	return n >= minPartSize && n <= maxPartSize && n%crypt.SlotSize == 0
}

// upload is one multipart upload. Written bytes fill the current part: a
// buffer from the backend's part pool while its memory budget lasts, else a
// spool file on local disk (ciphertext only either way); each time it holds
// a whole part it is sent as the next part, in the background, up to the
// backend's concurrency at a time. So memory stays bounded however many
// uploads run at once, and every part but the last has the same size.
// Persist stores the current part as the upload's "pending" object for the
// next request: that object, not the buffer or the spool, is what a later
// request (on any node) resumes from.
//
// The part size is the upload's own, decided by its first part: the
// backend's part size when a request streams past it, else, at the first
// Persist that holds at least S3's minimum, everything it holds (in whole
// segments). So a layer pushed in one PATCH (docker, go-containerregistry:
// no Content-Length) goes as parts of the configured size, large, while a
// layer smaller than that goes as one part sent by its PATCH instead of a
// pending object that the next request reads back and sends.
// Not safe for concurrent use (like the FileWriter it serves).
type upload struct {
	b             *Backend
	path, key, id string       // key is the body's (objects/<target>)
	rec           uploadRecord // rec.partSize is 0 until the first part

	slots chan struct{} // one token per part in flight

	cur     *part  // the part being filled; nil when empty
	curLen  int64  // bytes in cur
	scratch []byte // one slot, for Buffer when cur is a spool file

	mu       sync.Mutex
	idle     *sync.Cond // signalled when a part finishes
	inflight int
	inMemory int                  // parts in flight that hold a pool buffer
	parts    []minio.CompletePart // stored parts, in completion order
	stored   int64                // bytes in sent parts (and in flight)
	next     int                  // number of the next part
	err      error                // first failed part; the upload is then unusable
	finished bool                 // completed, aborted or persisted
}

func (b *Backend) newUpload(p string, rec uploadRecord, parts []minio.CompletePart) *upload {
	u := &upload{
		b: b, path: p, key: b.targetKey(rec.target), id: rec.uploadID, rec: rec,
		slots: make(chan struct{}, b.concurrency),
		parts: parts, stored: int64(len(parts)) * rec.partSize, next: len(parts) + 1,
	}
	u.idle = sync.NewCond(&u.mu)
	return u
}

// Size implements storage.Upload.
func (u *upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.stored + u.curLen
}

func (u *upload) waitLocked() {
	for u.inflight > 0 {
		u.idle.Wait()
	}
}

func (u *upload) usable() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.finished {
		return wrap("upload", u.path, errors.New("upload already completed, aborted or persisted"))
	}
	return u.err
}

// fill is the size the current part is sent at: the upload's part size,
// or the backend's before the first part decides it.
func (u *upload) fill() int64 {
	if u.rec.partSize > 0 {
		return u.rec.partSize
	}
	return u.b.partSize
}

// ensurePart makes sure there is a current part to fill. When the pool's
// budget is spent and a part of this upload is in flight in memory, it
// waits for that part's buffer rather than spool: writing a part to disk
// and reading it back costs more CPU than the wait costs time (with large
// parts a small budget holds only a few).
func (u *upload) ensurePart() error {
	if u.cur != nil {
		return nil
	}
	for {
		if buf := u.b.pool.get(u.fill()); buf != nil {
			u.cur, u.curLen = &part{buf: buf}, 0
			return nil
		}
		if !u.waitMemoryPart() {
			break
		}
	}
	p, err := u.b.newSpoolPart()
	if err != nil {
		return wrap("write", u.path, err)
	}
	u.cur, u.curLen = p, 0
	return nil
}

// waitMemoryPart waits for one of the upload's parts in flight in memory
// to finish (its buffer is back in the pool by then); false if none is.
func (u *upload) waitMemoryPart() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := u.inMemory
	if n == 0 {
		return false
	}
	for u.inMemory >= n {
		u.idle.Wait()
	}
	return true
}

// Write implements storage.Upload.
func (u *upload) Write(ctx context.Context, p []byte) error {
	if err := u.usable(); err != nil {
		return err
	}
	for len(p) > 0 {
		if err := u.ensurePart(); err != nil {
			return err
		}
		n := min(int64(len(p)), u.fill()-u.curLen)
		if err := u.cur.write(p[:n]); err != nil {
			return wrap("write", u.path, err)
		}
		if err := u.advance(ctx, n); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// Buffer implements storage.Appender: the free space of the current part
// when it is in memory, so the writer seals segments straight into the
// part (no copy); a scratch slot when the part is a spool file.
func (u *upload) Buffer(n int) ([]byte, error) {
	if err := u.usable(); err != nil {
		return nil, err
	}
	if err := u.ensurePart(); err != nil {
		return nil, err
	}
	if free := u.cur.free(); free != nil && cap(free) >= n {
		return free, nil
	}
	if cap(u.scratch) < n {
		u.scratch = make([]byte, 0, max(n, crypt.SlotSize))
	}
	return u.scratch[:0], nil
}

// Append implements storage.Appender: it appends sealed, which is either a
// prefix of what Buffer returned (already in place) or any other bytes
// (copied, like Write).
func (u *upload) Append(ctx context.Context, sealed []byte) error {
	if len(sealed) == 0 {
		return nil
	}
	if u.cur != nil && u.cur.inPlace(sealed) && int64(len(sealed)) <= u.fill()-u.curLen {
		if err := u.usable(); err != nil {
			return err
		}
		u.cur.buf = u.cur.buf[:len(u.cur.buf)+len(sealed)]
		return u.advance(ctx, int64(len(sealed)))
	}
	return u.Write(ctx, sealed)
}

// advance counts n bytes just added to the current part and sends it when
// it is full.
func (u *upload) advance(ctx context.Context, n int64) error {
	u.mu.Lock()
	u.curLen += n
	u.mu.Unlock()
	if u.curLen == u.fill() {
		return u.sendPart(ctx)
	}
	return nil
}

// sendPart sends the full current part as the next part, in the background.
func (u *upload) sendPart(ctx context.Context) error {
	select {
	case u.slots <- struct{}{}:
	case <-ctx.Done():
		return wrap("write part", u.path, ctx.Err())
	}
	u.mu.Lock()
	// Leave part number maxParts for Complete's final part.
	if u.err != nil || u.next >= maxParts {
		err := u.err
		u.mu.Unlock()
		<-u.slots
		if err == nil {
			err = wrap("write part", u.path, fmt.Errorf("upload exceeds %d parts of %d bytes; raise storage.s3.part_size", maxParts, u.fill()))
		}
		return err
	}
	n, pt, size := u.next, u.cur, u.curLen
	u.rec.partSize = size // the first part decides; the others are as large
	u.next++
	u.inflight++
	mem := pt.f == nil
	if mem {
		u.inMemory++
	}
	u.stored += size
	u.cur, u.curLen = nil, 0
	u.mu.Unlock()
	// The part outlives the request that wrote it only until Persist or
	// Complete, which wait for it; a client hanging up must not cut it.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), partTimeout)
	go func() {
		err := u.putPart(pctx, n, pt, size)
		cancel()
		// Before the part counts as done: Persist, Complete and Abort,
		// which wait for that, must not leave its spool file behind, and
		// the pool must have its buffer back before the upload ends.
		u.b.releasePart(pt)
		u.mu.Lock()
		if err != nil {
			u.stored -= size
			if u.err == nil {
				u.err = err
			}
		}
		u.inflight--
		if mem {
			u.inMemory--
		}
		u.idle.Broadcast()
		u.mu.Unlock()
		<-u.slots
	}()
	return nil
}

const partTimeout = 15 * time.Minute

// putPart uploads the first size bytes of pt as part n.
func (u *upload) putPart(ctx context.Context, n int, pt *part, size int64) error {
	part, err := u.b.core.PutObjectPart(ctx, u.b.bucket, u.key, u.id, n, pt.section(0, size), size, u.b.partOpts())
	if err != nil {
		return wrap("write part", u.path, fmt.Errorf("part %d: %w", n, err))
	}
	u.mu.Lock()
	u.parts = append(u.parts, minio.CompletePart{PartNumber: n, ETag: part.ETag})
	u.mu.Unlock()
	return nil
}

// dropCur gives the current part's buffer or spool file back.
func (u *upload) dropCur() {
	u.b.releasePart(u.cur)
	u.cur = nil
}

// finish waits for parts in flight and marks the upload used up; it
// returns the first part failure.
func (u *upload) finish() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.waitLocked()
	if u.finished {
		return wrap("upload", u.path, errors.New("upload already completed, aborted or persisted"))
	}
	u.finished = true
	return u.err
}

// Persist implements storage.Upload: wait for the parts in flight, then
// store the upload's record with the current part as its body. An upload
// without parts that holds at least S3's minimum first sends what it holds
// as its first part, which decides its part size (see upload).
func (u *upload) Persist(ctx context.Context) error {
	defer u.dropCur()
	if err := u.finish(); err != nil {
		return err
	}
	var off int64 // where the current part's bytes for the pending object start
	if ps := u.curLen - u.curLen%crypt.SlotSize; u.rec.partSize == 0 && ps >= minPartSize {
		if err := u.putPart(ctx, u.next, u.cur, ps); err != nil {
			return wrap("persist upload", u.path, err)
		}
		u.mu.Lock()
		u.rec.partSize, off = ps, ps
		u.stored += ps
		u.curLen -= ps
		u.mu.Unlock()
	}
	meta, err := u.rec.meta()
	if err != nil {
		return wrap("persist upload", u.path, err)
	}
	var body io.Reader = http.NoBody
	if u.curLen > 0 {
		body = u.cur.section(off, u.curLen)
	}
	_, err = u.b.core.Client.PutObject(ctx, u.b.bucket, u.b.pendKey(u.path), body, u.curLen, u.b.putOpts(meta))
	if err != nil {
		return wrap("persist upload", u.path, err)
	}
	return nil
}

// loadPending refills the current part from the body of the upload's
// record.
func (u *upload) loadPending(rc io.Reader, size int64) error {
	if size == 0 {
		return nil
	}
	if size >= u.fill() {
		return wrap("resume upload", u.path, fmt.Errorf("pending part of %d bytes, want < %d", size, u.fill()))
	}
	if err := u.ensurePart(); err != nil {
		return wrap("resume upload", u.path, err)
	}
	pt := u.cur
	u.cur = nil
	n, err := pt.readFrom(rc, size)
	if err == nil && n != size {
		err = fmt.Errorf("pending part: read %d of %d bytes", n, size)
	}
	if err != nil {
		u.b.releasePart(pt)
		return wrap("resume upload", u.path, err)
	}
	u.cur, u.curLen = pt, n
	return nil
}

// Complete implements storage.Upload: last ends the final part, then the
// parts are assembled. If anything fails the upload is aborted, because a
// half-written upload cannot be completed correctly later.
func (u *upload) Complete(ctx context.Context, last []byte) error {
	if err := u.Write(ctx, last); err != nil {
		u.abortQuietly(ctx)
		return err
	}
	defer u.dropCur()
	failed := u.finish()
	if failed != nil {
		u.abortQuietly(ctx)
		return failed
	}
	parts, n := slices.Clone(u.parts), u.next
	// S3 rejects completing with zero parts, so an empty object still gets
	// one (empty) part.
	if u.curLen > 0 || len(parts) == 0 {
		if n > maxParts {
			u.abortQuietly(ctx)
			return wrap("complete upload", u.path, fmt.Errorf("upload exceeds %d parts", maxParts))
		}
		var body io.ReadSeeker = bytes.NewReader(nil)
		if u.cur != nil {
			body = u.cur.section(0, u.curLen)
		}
		part, err := u.b.core.PutObjectPart(ctx, u.b.bucket, u.key, u.id, n, body, u.curLen, u.b.partOpts())
		if err != nil {
			u.abortQuietly(ctx)
			return wrap("complete upload", u.path, fmt.Errorf("final part %d: %w", n, err))
		}
		parts = append(parts, minio.CompletePart{PartNumber: n, ETag: part.ETag})
	}
	slices.SortFunc(parts, func(a, c minio.CompletePart) int { return a.PartNumber - c.PartNumber })
	if _, err := u.b.core.CompleteMultipartUpload(ctx, u.b.bucket, u.key, u.id, parts, minio.PutObjectOptions{}); err != nil {
		u.abortQuietly(ctx)
		return wrap("complete upload", u.path, err)
	}
	// The object appears when its pointer does; a pointer it replaces
	// leaves a body behind, removed after.
	size := u.stored + u.curLen
	old, hadOld, err := u.b.pointerAt(ctx, u.b.objKey(u.path))
	if err == nil {
		err = u.b.putPointer(ctx, u.path, u.rec.hdr, pointer{target: u.rec.target, size: size})
	}
	if err != nil {
		_ = u.b.removeTargets(context.WithoutCancel(ctx), []string{u.rec.target})
		_ = u.b.core.RemoveObject(context.WithoutCancel(ctx), u.b.bucket, u.b.pendKey(u.path), minio.RemoveObjectOptions{})
		return wrap("complete upload", u.path, err)
	}
	if hadOld && old.target != u.rec.target {
		_ = u.b.removeTargets(ctx, []string{old.target})
	}
	_ = u.b.core.RemoveObject(ctx, u.b.bucket, u.b.pendKey(u.path), minio.RemoveObjectOptions{})
	return nil
}

// abortQuietly aborts after a failure; the original error is the one worth
// reporting. It must run even if ctx was what failed.
func (u *upload) abortQuietly(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = u.Abort(ctx)
}

// Abort implements storage.Upload. It waits for parts in flight first so
// none lands after the abort. Aborting an upload that is already gone is
// not an error.
func (u *upload) Abort(ctx context.Context) error {
	u.mu.Lock()
	u.waitLocked()
	u.finished = true
	u.mu.Unlock()
	u.dropCur()
	err := u.b.core.AbortMultipartUpload(ctx, u.b.bucket, u.key, u.id)
	if err != nil && errCode(err) != minio.NoSuchUpload {
		return wrap("abort upload", u.path, err)
	}
	if err := u.b.core.RemoveObject(ctx, u.b.bucket, u.b.pendKey(u.path), minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return wrap("abort upload", u.path, err)
	}
	return nil
}
