package s3

import (
	"context"
	"fmt"
	"strings"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/minio/minio-go/v7"
)

// noOwner turns off FetchOwner (minio-go's default is on): listings only
// need keys, sizes and times.
var noOwner = false

// List implements storage.Backend with a delimited listing: the direct
// children of p, files and directories, as full registry paths.
func (b *Backend) List(ctx context.Context, p string) ([]string, error) {
	if err := checkPath(p, true); err != nil {
		return nil, err
	}
	prefix := b.dirKey(p)
	out := []string{}
	seen := map[string]bool{}
	for obj := range b.core.Client.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
		Prefix: prefix, MaxKeys: b.listMax, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return nil, wrap("list", p, obj.Err)
		}
		if obj.Key == prefix {
			continue // a "folder" marker some tools create; not a child
		}
		// A file "x" and a directory "x/" may both exist; list x once.
		child := b.regPath(strings.TrimSuffix(obj.Key, "/"))
		if !seen[child] {
			seen[child] = true
			out = append(out, child)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("list", p, err)
	}
	if len(out) == 0 && p != "/" {
		return nil, storagedriver.PathNotFoundError{Path: p}
	}
	return out, nil
}

// Delete implements storage.Backend: the object at p and every object below
// p+"/" (never "pX"), removed in batches. Multipart uploads in progress at
// or below p are aborted too, so a deleted upload directory leaves no parts
// behind. PathNotFoundError if no object matched.
func (b *Backend) Delete(ctx context.Context, p string) error {
	if err := checkPath(p, true); err != nil {
		return err
	}
	if err := b.abortUploads(ctx, p); err != nil {
		return err
	}
	var first []string
	if p != "/" {
		// A HEAD tells whether the object itself exists; listing with the
		// bare key as prefix would also walk every "pX…" sibling.
		key := b.objKey(p)
		st, err := b.core.Client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
		switch {
		case err == nil:
			first = []string{key}
			if ptr, ok, _ := pointerOf(st.Metadata); ok {
				first = append(first, b.targetKey(ptr.target))
			}
		case !isNoSuchKey(err):
			return wrap("delete", p, err)
		}
	}
	n, err := b.removeTree(ctx, first, b.dirKey(p), true)
	if err != nil {
		return wrap("delete", p, err)
	}
	if n == 0 {
		return storagedriver.PathNotFoundError{Path: p}
	}
	return nil
}

// removeTree removes the given keys and every key starting with dir,
// listing and deleting in batches of one page so memory stays bounded. It
// returns how many keys it removed. With bodies, the body behind every
// pointer found (a 0-byte object) goes too.
func (b *Backend) removeTree(ctx context.Context, keys []string, dir string, bodies bool) (int, error) {
	n := 0
	flush := func() error {
		if len(keys) == 0 {
			return nil
		}
		if err := b.removeKeys(ctx, keys); err != nil {
			return err
		}
		n += len(keys)
		keys = keys[:0]
		return nil
	}
	for obj := range b.core.Client.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
		Prefix: dir, Recursive: true, MaxKeys: b.listMax, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return n, obj.Err
		}
		keys = append(keys, obj.Key)
		if bodies && obj.Size == 0 {
			ptr, ok, err := b.pointerAt(ctx, obj.Key)
			if err != nil {
				return n, err
			}
			if ok {
				keys = append(keys, b.targetKey(ptr.target))
			}
		}
		if len(keys) >= b.listMax {
			// Deleting keys already listed does not disturb the listing:
			// the next page starts after the last key returned.
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// removeKeys deletes keys with multi-object DELETE requests (minio-go sends
// up to 1000 per request). A key already gone is not an error.
func (b *Backend) removeKeys(ctx context.Context, keys []string) error {
	results, err := b.core.Client.RemoveObjectsWithIter(ctx, b.bucket, func(yield func(minio.ObjectInfo) bool) {
		for _, k := range keys {
			if !yield(minio.ObjectInfo{Key: k}) {
				return
			}
		}
	}, minio.RemoveObjectsOptions{})
	if err != nil {
		return err
	}
	for r := range results {
		if r.Err != nil && !isNoSuchKey(r.Err) {
			return fmt.Errorf("removing %s: %w", r.ObjectName, r.Err)
		}
	}
	return ctx.Err()
}

// abortUploads aborts every multipart upload in progress at or below p.
// Uploads are found through their pending records (every upload that ended
// a request has one, naming its body's key and upload id); one created and
// never closed has none and is left to the store's own expiry of stale
// uploads (MinIO: 24 h; AWS: a lifecycle rule).
func (b *Backend) abortUploads(ctx context.Context, p string) error {
	var keys []string
	if p != "/" {
		keys = append(keys, b.pendKey(p))
	}
	for obj := range b.core.Client.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
		Prefix: b.pendDir(p), Recursive: true, MaxKeys: b.listMax, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return wrap("delete", p, obj.Err)
		}
		keys = append(keys, obj.Key)
	}
	if err := ctx.Err(); err != nil {
		return wrap("delete", p, err)
	}
	for _, k := range keys {
		st, err := b.core.Client.StatObject(ctx, b.bucket, k, minio.StatObjectOptions{})
		if err != nil {
			if isNoSuchKey(err) {
				continue
			}
			return wrap("delete", p, err)
		}
		rec, err := uploadRecordOf(st.Metadata)
		if err != nil {
			continue // not ours to abort
		}
		err = b.core.AbortMultipartUpload(ctx, b.bucket, b.targetKey(rec.target), rec.uploadID)
		if err != nil && errCode(err) != minio.NoSuchUpload {
			return wrap("delete", p, fmt.Errorf("aborting an upload below %s: %w", p, err))
		}
	}
	return nil
}
