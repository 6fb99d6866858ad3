package s3

import (
	"context"
	"errors"
	"fmt"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/minio/minio-go/v7"
)

// Move implements storage.Backend: a server-side copy (the header travels
// as metadata), then the source is deleted. A missing source leaves the
// destination alone.
func (b *Backend) Move(ctx context.Context, src, dst string) error {
	if err := checkPath(src, false); err != nil {
		return err
	}
	if err := checkPath(dst, false); err != nil {
		return err
	}
	srcKey, dstKey := b.objKey(src), b.objKey(dst)
	if src == dst {
		return b.copyObject(ctx, "move", src, srcKey, dstKey, nil)
	}
	// A pointer being overwritten leaves its body behind: remove it after.
	old, hadOld, err := b.pointerAt(ctx, dstKey)
	if err != nil {
		return wrap("move", dst, err)
	}
	if err := b.copyObject(ctx, "move", src, srcKey, dstKey, nil); err != nil {
		return err
	}
	if err := b.core.Client.RemoveObject(ctx, b.bucket, srcKey, minio.RemoveObjectOptions{}); err != nil {
		return wrap("move", src, fmt.Errorf("copied to %s but removing the source: %w", dst, err))
	}
	if hadOld {
		if now, _, err := b.pointerAt(ctx, dstKey); err == nil && now.target != old.target {
			_ = b.removeTargets(ctx, []string{old.target})
		}
	}
	return nil
}

// Header implements storage.Backend with a HEAD: the header is metadata, so
// no body byte is read.
func (b *Backend) Header(ctx context.Context, p string) ([]byte, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	st, err := b.core.Client.StatObject(ctx, b.bucket, b.objKey(p), minio.StatObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, storagedriver.PathNotFoundError{Path: p}
		}
		return nil, wrap("header", p, err)
	}
	hdr, err := decodeHeader(st.Metadata)
	if err != nil {
		return nil, wrap("header", p, err)
	}
	return hdr, nil
}

// SetHeader implements storage.Backend: the object is copied onto itself
// with replaced metadata. S3 has no metadata-only update; the copy is
// server-side, and for a single PUT-copy usually no data moves at all.
func (b *Backend) SetHeader(ctx context.Context, p string, hdr []byte) error {
	if err := checkPath(p, false); err != nil {
		return err
	}
	if _, err := encodeHeader(hdr); err != nil {
		return wrap("set header", p, err)
	}
	key := b.objKey(p)
	return b.copyObject(ctx, "set header", p, key, key, hdr)
}

// copyObject copies srcKey to dstKey. With hdr nil the source's metadata is
// kept (Move); otherwise it is replaced by hdr (SetHeader).
//
// The source is HEADed first for its size (a PUT-copy is limited to 5 GiB,
// above that ComposeObject copies in parts) and its ETag; the copy is made
// conditional on that ETag so that a concurrent overwrite of the source is
// noticed (and retried) instead of pairing one version's header with
// another's body. A source moved onto itself needs no copy.
func (b *Backend) copyObject(ctx context.Context, op, p, srcKey, dstKey string, hdr []byte) error {
	for range 3 {
		st, err := b.core.Client.StatObject(ctx, b.bucket, srcKey, minio.StatObjectOptions{})
		if err != nil {
			if isNoSuchKey(err) {
				return storagedriver.PathNotFoundError{Path: p}
			}
			return wrap(op, p, err)
		}
		if srcKey == dstKey && hdr == nil {
			return nil
		}
		dst := minio.CopyDestOptions{Bucket: b.bucket, Object: dstKey}
		newHdr := hdr
		if newHdr == nil && st.Size > b.copyMax {
			// ComposeObject does not copy metadata: carry the header over
			// explicitly (from the same HEAD the ETag condition pins).
			if newHdr, err = decodeHeader(st.Metadata); err != nil {
				return wrap(op, p, err)
			}
			newHdr = append([]byte{}, newHdr...) // non-nil even if empty
		}
		if newHdr != nil {
			meta, err := encodeHeader(newHdr)
			if ptr, ok, perr := pointerOf(st.Metadata); perr != nil {
				err = perr
			} else if ok {
				// A pointer keeps pointing at its body.
				meta, err = pointerMeta(newHdr, ptr)
			}
			if err != nil {
				return wrap(op, p, err)
			}
			dst.UserMetadata, dst.ReplaceMetadata, dst.ContentType = meta, true, contentType
		}
		src := minio.CopySrcOptions{Bucket: b.bucket, Object: srcKey, MatchETag: st.ETag}
		if st.Size <= b.copyMax {
			_, err = b.core.Client.CopyObject(ctx, dst, src)
		} else {
			dst.NumThreads = 4 // parts of up to 5 GiB each, copied server-side
			_, err = b.core.Client.ComposeObject(ctx, dst, src)
		}
		if err == nil {
			return nil
		}
		switch {
		case errCode(err) == "PreconditionFailed":
			continue // the source changed under us: look again
		case isNoSuchKey(err):
			return storagedriver.PathNotFoundError{Path: p}
		}
		return wrap(op, p, err)
	}
	return wrap(op, p, errors.New("source keeps changing"))
}
