package s3

import (
	"bytes"
	"context"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage"
)

// Sidecars live under "<prefix>uploads/", outside the "data/" namespace
// that List and Walk see, keyed by the object's registry path; the pending
// part of an upload under "<prefix>pending/" goes with them.

// PutSidecar implements storage.Backend.
func (b *Backend) PutSidecar(ctx context.Context, p string, data []byte) error {
	if err := checkPath(p, false); err != nil {
		return err
	}
	_, err := b.core.Client.PutObject(ctx, b.bucket, b.sideKey(p), bytes.NewReader(data), int64(len(data)), b.putOpts(nil))
	if err != nil {
		return wrap("put sidecar", p, err)
	}
	return nil
}

// GetSidecar implements storage.Backend; a missing sidecar is
// storage.ErrNoUpload.
func (b *Backend) GetSidecar(ctx context.Context, p string) ([]byte, error) {
	if err := checkPath(p, false); err != nil {
		return nil, err
	}
	rc, _, _, err := b.core.GetObject(ctx, b.bucket, b.sideKey(p), minio.GetObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, storage.ErrNoUpload
		}
		return nil, wrap("get sidecar", p, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, wrap("get sidecar", p, err)
	}
	return data, nil
}

// DeleteSidecars implements storage.Backend: the sidecar at p and all below
// p+"/". Nothing to delete is not an error.
func (b *Backend) DeleteSidecars(ctx context.Context, p string) error {
	if err := checkPath(p, true); err != nil {
		return err
	}
	// The pending objects are the upload records: abort what they name
	// before they go, or those multipart uploads would be orphaned.
	if err := b.abortUploads(ctx, p); err != nil {
		return err
	}
	var keys, pkeys []string
	if p != "/" {
		keys = []string{b.sideKey(p)} // deleting a missing key succeeds
		pkeys = []string{b.pendKey(p)}
	}
	if _, err := b.removeTree(ctx, keys, b.sideDir(p), false); err != nil {
		return wrap("delete sidecars", p, err)
	}
	if _, err := b.removeTree(ctx, pkeys, b.pendDir(p), false); err != nil {
		return wrap("delete sidecars", p, err)
	}
	return nil
}
