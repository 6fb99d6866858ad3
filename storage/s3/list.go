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
		_, err := b.core.Client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
		switch {
		case err == nil:
			first = []string{key}
		case !isNoSuchKey(err):
			return wrap("delete", p, err)
		}
	}
	n, err := b.removeTree(ctx, first, b.dirKey(p))
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
// returns how many keys it removed.
func (b *Backend) removeTree(ctx context.Context, keys []string, dir string) (int, error) {
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

// abortUploads aborts every multipart upload whose key is p's or below it.
//
// S3 lists uploads by key prefix, but MinIO only by exact key (a prefix
// that is not an upload's key finds nothing). So the keys that have a
// sidecar below p, i.e. every upload that ever ended a request, are also
// looked up one by one. An upload with neither is left to the store's own
// expiry of stale uploads (MinIO: 24 h; AWS: a lifecycle rule).
func (b *Backend) abortUploads(ctx context.Context, p string) error {
	key, dir := b.objKey(p), b.dirKey(p)
	below := func(k string) bool { return k == key || strings.HasPrefix(k, dir) }
	uploads, err := b.listUploads(ctx, strings.TrimSuffix(key, "/"), below)
	if err != nil {
		return wrap("delete", p, err)
	}
	found := map[string]bool{}
	for _, u := range uploads {
		found[u.Key] = true
	}
	sideDir := b.sideDir(p)
	for obj := range b.core.Client.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
		Prefix: sideDir, Recursive: true, MaxKeys: b.listMax, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return wrap("delete", p, obj.Err)
		}
		k := b.objKey(obj.Key[len(b.prefix)+len("uploads"):])
		if found[k] {
			continue
		}
		found[k] = true
		more, err := b.listUploads(ctx, k, func(uk string) bool { return uk == k })
		if err != nil {
			return wrap("delete", p, err)
		}
		uploads = append(uploads, more...)
	}
	if err := ctx.Err(); err != nil {
		return wrap("delete", p, err)
	}
	for _, u := range uploads {
		err := b.core.AbortMultipartUpload(ctx, b.bucket, u.Key, u.UploadID)
		if err != nil && errCode(err) != minio.NoSuchUpload {
			return wrap("delete", p, fmt.Errorf("aborting upload of %s: %w", b.regPath(u.Key), err))
		}
	}
	return nil
}

// listUploads lists, all pages, the multipart uploads whose key starts with
// prefix and satisfies keep (a prefix also matches longer keys).
func (b *Backend) listUploads(ctx context.Context, prefix string, keep func(string) bool) ([]minio.ObjectMultipartInfo, error) {
	var out []minio.ObjectMultipartInfo
	keyMarker, idMarker := "", ""
	for {
		res, err := b.core.ListMultipartUploads(ctx, b.bucket, prefix, keyMarker, idMarker, "", b.uploadsMax)
		if err != nil {
			return nil, err
		}
		for _, u := range res.Uploads {
			if keep(u.Key) {
				out = append(out, u)
			}
		}
		if !res.IsTruncated {
			return out, nil
		}
		if res.NextKeyMarker == keyMarker && res.NextUploadIDMarker == idMarker {
			return nil, fmt.Errorf("listing uploads under %s: pagination does not advance", prefix)
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}
