package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage"
)

// CreateUpload implements storage.Backend: a new multipart upload whose
// object will carry hdr as metadata (S3 takes metadata at initiation).
func (b *Backend) CreateUpload(ctx context.Context, p string, hdr []byte) (storage.Upload, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	meta, err := encodeHeader(hdr)
	if err != nil {
		return nil, wrap("create upload", p, err)
	}
	key := b.objKey(p)
	id, err := b.core.NewMultipartUpload(ctx, b.bucket, key, minio.PutObjectOptions{
		UserMetadata: meta, ContentType: contentType,
	})
	if err != nil {
		return nil, wrap("create upload", p, err)
	}
	return b.newUpload(p, key, id, nil), nil
}

// ResumeUpload implements storage.Backend: it finds the newest multipart
// upload for exactly p's key and rebuilds its parts from ListParts (every
// page: a resumed upload of more than 1000 parts must not lose any, see
// distribution#2814).
func (b *Backend) ResumeUpload(ctx context.Context, p string) (storage.Upload, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	key := b.objKey(p)
	// The prefix also matches longer keys ("…/data" and "…/data2").
	uploads, err := b.listUploads(ctx, key, func(k string) bool { return k == key })
	if err != nil {
		return nil, wrap("resume upload", p, err)
	}
	if len(uploads) == 0 {
		return nil, storage.ErrNoUpload
	}
	latest := uploads[0]
	for _, u := range uploads[1:] {
		if !u.Initiated.Before(latest.Initiated) {
			latest = u
		}
	}
	var parts []minio.ObjectPart
	marker := 0
	for {
		res, err := b.core.ListObjectParts(ctx, b.bucket, key, latest.UploadID, marker, b.partsMax)
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
	done := make([]minio.CompletePart, len(parts))
	for i, pt := range parts {
		// Anything else means a lost part or a different part size (a
		// config change mid-upload): appending to it would corrupt the
		// object, so refuse rather than guess.
		if pt.PartNumber != i+1 || pt.Size != b.partSize {
			return nil, wrap("resume upload", p, fmt.Errorf(
				"upload %s does not fit: part %d is number %d of %d bytes, want number %d of %d bytes",
				latest.UploadID, i+1, pt.PartNumber, pt.Size, i+1, b.partSize))
		}
		done[i] = minio.CompletePart{PartNumber: pt.PartNumber, ETag: pt.ETag}
	}
	return b.newUpload(p, key, latest.UploadID, done), nil
}

// upload is one multipart upload. WritePart sends parts in the background,
// up to the backend's concurrency at a time; Size, Complete and Abort wait
// for them. Not safe for concurrent use (like the FileWriter it serves).
type upload struct {
	b             *Backend
	path, key, id string

	slots chan struct{} // one token per part in flight
	bufs  chan []byte   // part buffers, reused across parts

	mu       sync.Mutex
	idle     *sync.Cond // signalled when a part finishes
	inflight int
	parts    []minio.CompletePart // stored parts, in completion order
	stored   int64                // bytes in parts
	next     int                  // number of the next part
	err      error                // first failed part; the upload is then unusable
	finished bool                 // completed or aborted
}

func (b *Backend) newUpload(p, key, id string, parts []minio.CompletePart) *upload {
	u := &upload{
		b: b, path: p, key: key, id: id,
		slots: make(chan struct{}, b.concurrency),
		bufs:  make(chan []byte, b.concurrency),
		parts: parts, stored: int64(len(parts)) * b.partSize, next: len(parts) + 1,
	}
	u.idle = sync.NewCond(&u.mu)
	return u
}

// Size implements storage.Upload. It waits for parts in flight, because the
// caller records it (in the sidecar) as what a later ResumeUpload must find.
func (u *upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.waitLocked()
	return u.stored
}

func (u *upload) waitLocked() {
	for u.inflight > 0 {
		u.idle.Wait()
	}
}

// WritePart implements storage.Upload. p is copied, so the caller may reuse
// it at once; the part is sent in the background under ctx. A failure of an
// earlier part is returned here (or by Complete), never lost; Size, which
// waits, then counts only the parts actually stored.
func (u *upload) WritePart(ctx context.Context, p []byte) error {
	if int64(len(p)) != u.b.partSize {
		return wrap("write part", u.path, fmt.Errorf("part of %d bytes, want %d", len(p), u.b.partSize))
	}
	if err := u.usable(); err != nil {
		return err
	}
	select {
	case u.slots <- struct{}{}:
	case <-ctx.Done():
		return wrap("write part", u.path, ctx.Err())
	}
	u.mu.Lock()
	// Leave part number maxParts for Complete's final part.
	if err := u.usableLocked(); err != nil || u.next >= maxParts {
		u.mu.Unlock()
		<-u.slots
		if err == nil {
			err = wrap("write part", u.path, fmt.Errorf("upload exceeds %d parts of %d bytes; raise storage.s3.part_size", maxParts, u.b.partSize))
		}
		return err
	}
	n := u.next
	u.next++
	u.inflight++
	u.mu.Unlock()

	var buf []byte
	select {
	case buf = <-u.bufs:
	default:
		buf = make([]byte, len(p))
	}
	copy(buf, p)
	go func() {
		// bytes.Reader is an io.Seeker, which is what lets minio-go retry.
		part, err := u.b.core.PutObjectPart(ctx, u.b.bucket, u.key, u.id, n,
			bytes.NewReader(buf), int64(len(buf)), minio.PutObjectPartOptions{})
		select {
		case u.bufs <- buf:
		default:
		}
		u.mu.Lock()
		if err != nil {
			if u.err == nil {
				u.err = wrap("write part", u.path, fmt.Errorf("part %d: %w", n, err))
			}
		} else {
			u.parts = append(u.parts, minio.CompletePart{PartNumber: n, ETag: part.ETag})
			u.stored += int64(len(buf))
		}
		u.inflight--
		u.idle.Broadcast()
		u.mu.Unlock()
		<-u.slots
	}()
	return nil
}

func (u *upload) usable() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.usableLocked()
}

func (u *upload) usableLocked() error {
	if u.finished {
		return wrap("upload", u.path, errors.New("upload already completed or aborted"))
	}
	return u.err
}

// Complete implements storage.Upload: last becomes the final part, then the
// parts are assembled. If anything fails the upload is aborted, because a
// half-written upload cannot be completed correctly later.
func (u *upload) Complete(ctx context.Context, last []byte) error {
	u.mu.Lock()
	u.waitLocked()
	if u.finished {
		u.mu.Unlock()
		return u.usable()
	}
	failed := u.err
	u.finished = true
	parts, n := slices.Clone(u.parts), u.next
	u.mu.Unlock()
	if failed != nil {
		u.abortQuietly(ctx)
		return failed
	}
	// S3 rejects completing with zero parts, so an empty object still gets
	// one (empty) part; otherwise an empty last part adds nothing.
	if len(last) > 0 || len(parts) == 0 {
		if n > maxParts {
			u.abortQuietly(ctx)
			return wrap("complete upload", u.path, fmt.Errorf("upload exceeds %d parts", maxParts))
		}
		part, err := u.b.core.PutObjectPart(ctx, u.b.bucket, u.key, u.id, n,
			bytes.NewReader(last), int64(len(last)), minio.PutObjectPartOptions{})
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
	return nil
}

// abortQuietly aborts after a failure; the original error is the one worth
// reporting. It must run even if ctx was what failed.
func (u *upload) abortQuietly(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = u.b.core.AbortMultipartUpload(ctx, u.b.bucket, u.key, u.id)
}

// Abort implements storage.Upload. It waits for parts in flight first so
// none lands after the abort. Aborting an upload that is already gone is
// not an error.
func (u *upload) Abort(ctx context.Context) error {
	u.mu.Lock()
	u.waitLocked()
	u.finished = true
	u.mu.Unlock()
	err := u.b.core.AbortMultipartUpload(ctx, u.b.bucket, u.key, u.id)
	if err != nil && errCode(err) != minio.NoSuchUpload {
		return wrap("abort upload", u.path, err)
	}
	return nil
}
