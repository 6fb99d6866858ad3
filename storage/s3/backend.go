// Package s3 is berth's storage.Backend on S3-compatible object storage
// (AWS S3, MinIO, Ceph RGW, R2, …) through minio-go.
//
// Layout in the bucket, below the configured prefix:
//
//	data/<registry path>     the objects: sealed body, header in user metadata
//	uploads/<registry path>  sidecars (upload state between requests)
//
// The header lives in user metadata (X-Amz-Meta-Berth-Header, base64) rather
// than in front of the body, so sizes, ranged reads and server-side copies
// work on the body alone; a GET returns it in the same response as the body,
// so both always belong to the same object version.
//
// Uploads are S3 multipart uploads whose parts are all PartSize() bytes but
// the last, like distribution's s3-aws driver: resumable across requests and
// processes by listing the upload's parts, and accepted by stores (R2) that
// require equal part sizes.
package s3

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage"
)

// Backend implements storage.Backend on one bucket. It is safe for
// concurrent use.
type Backend struct {
	core   *minio.Core
	probe  *minio.Client // no retries: a readiness probe must fail fast
	bucket string
	prefix string // "" or "some/prefix/"

	partSize    int64
	concurrency int
	// unsigned sends bodies as UNSIGNED-PAYLOAD (Config.SignedPayloads).
	unsigned bool
	spoolDir string // local directory for parts being filled past pool's budget
	pool     *partPool
	// copyMax is the largest object copied with one PUT-copy (S3's 5 GiB);
	// tests lower it to exercise the ComposeObject path.
	copyMax int64

	// Page sizes of the listing calls; tests shrink them to exercise
	// pagination without thousands of objects.
	listMax  int
	partsMax int
}

var _ storage.Backend = (*Backend)(nil)

const (
	// metaHeader is the user-metadata key of the object header; minio-go
	// sends it as X-Amz-Meta-Berth-Header.
	metaHeader     = "Berth-Header"
	httpMetaHeader = "X-Amz-Meta-" + metaHeader
	// maxHeaderLen keeps the encoded header well inside S3's 2 KiB limit on
	// user metadata.
	maxHeaderLen = 1024
	// maxCopySize is the largest object a single PUT-copy may copy (S3);
	// larger ones go through ComposeObject's multipart copy.
	maxCopySize = 5 << 30
	// listMax is S3's page size for listings.
	listMax     = 1000
	contentType = "application/octet-stream"
)

// New returns a backend for cfg. It does not contact the server, so berth
// can start while storage is down; Ready reports reachability.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	_ = ctx // nothing to wait for: no request is made here
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, secure, err := cfg.endpoint()
	if err != nil {
		return nil, fmt.Errorf("storage.s3.endpoint: %w", err)
	}
	opts, err := cfg.clientOptions(secure, 0)
	if err != nil {
		return nil, err
	}
	core, err := minio.NewCore(host, opts)
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", host, err)
	}
	probeOpts, err := cfg.clientOptions(secure, 1)
	if err != nil {
		return nil, err
	}
	probe, err := minio.New(host, probeOpts)
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", host, err)
	}
	spool := cfg.SpoolDir
	if spool == "" {
		spool = filepath.Join(os.TempDir(), "berth-spool")
	}
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return nil, fmt.Errorf("storage.s3.spool_dir: %w", err)
	}
	sweepSpool(spool, spoolMaxIdle)
	return &Backend{
		core: core, probe: probe, bucket: cfg.Bucket, prefix: cfg.prefix(),
		partSize: cfg.partSize(), concurrency: cfg.concurrency(), spoolDir: spool,
		unsigned: !cfg.SignedPayloads,
		pool:     &partPool{budget: cfg.partMemory()},
		copyMax:  maxCopySize, listMax: listMax, partsMax: listMax,
	}, nil
}

// spoolMaxIdle is how long a spool file may go unwritten before it is
// taken for one a crashed process left behind. A part file lives only
// while one request fills it and its part is sent: live uploads write
// theirs continuously (request bodies have a minimum rate).
const spoolMaxIdle = time.Hour

// SweepSpool removes the part files a crashed process left behind (an
// optional capability the collector runs every pass, so a crash-looping
// node does not fill its disk between restarts). It returns how many.
func (b *Backend) SweepSpool() int { return sweepSpool(b.spoolDir, spoolMaxIdle) }

func sweepSpool(dir string, age time.Duration) (n int) {
	old, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	for _, f := range old {
		if fi, err := os.Stat(f); err == nil && time.Since(fi.ModTime()) > age && os.Remove(f) == nil {
			n++
		}
	}
	return n
}

// Name implements storage.Backend.
func (b *Backend) Name() string { return "s3" }

// PartSize is the size of every part of an upload but the last.
func (b *Backend) PartSize() int64 { return b.partSize }

// Keys. Registry paths start with "/", so prefix+"data"+path is
// "<prefix>data/…"; the root "/" maps to the "<prefix>data/" directory.

func (b *Backend) objKey(p string) string { return b.prefix + "data" + p }

// dirKey is the listing prefix of everything below p.
func (b *Backend) dirKey(p string) string {
	return strings.TrimSuffix(b.objKey(p), "/") + "/"
}

// regPath turns an object key back into the registry path.
func (b *Backend) regPath(key string) string { return key[len(b.prefix)+len("data"):] }

func (b *Backend) sideKey(p string) string { return b.prefix + "uploads" + p }

// pendKey holds the bytes of an upload's unfinished part between requests;
// its own namespace, because S3 stores cannot always hold a key and keys
// below it ("…/data" and "…/data/…").
func (b *Backend) pendKey(p string) string { return b.prefix + "pending" + p }

// sideDir is the listing prefix of the sidecars below p.
func (b *Backend) sideDir(p string) string {
	return strings.TrimSuffix(b.sideKey(p), "/") + "/"
}

// pendDir is the listing prefix of the pending parts below p.
func (b *Backend) pendDir(p string) string {
	return strings.TrimSuffix(b.pendKey(p), "/") + "/"
}

// checkPath rejects paths that would map to odd keys ("a//b", "a/"): the
// driver above validates registry paths, this guards direct callers.
func checkPath(p string, rootOK bool) error {
	if p == "/" {
		if rootOK {
			return nil
		}
	} else if strings.HasPrefix(p, "/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, "//") {
		return nil
	}
	return storagedriver.InvalidPathError{Path: p}
}

// Error helpers. A missing path is returned as a bare
// storagedriver.PathNotFoundError value: distribution tests for it with type
// assertions (err.(PathNotFoundError)), which a wrapped error would defeat.

func errCode(err error) string { return minio.ToErrorResponse(err).Code }

func isNoSuchKey(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.Code == minio.NoSuchKey || (r.Code == "" && r.StatusCode == http.StatusNotFound)
}

func wrap(op, p string, err error) error {
	return fmt.Errorf("s3: %s %s: %w", op, p, err)
}

func encodeHeader(hdr []byte) (map[string]string, error) {
	if len(hdr) > maxHeaderLen {
		return nil, fmt.Errorf("header of %d bytes exceeds %d", len(hdr), maxHeaderLen)
	}
	return map[string]string{metaHeader: base64.StdEncoding.EncodeToString(hdr)}, nil
}

// decodeHeader reads the header from response headers. An object without
// one (not written by berth) yields an empty header, which the crypt layer
// rejects with a clear "not a berth-encrypted object".
func decodeHeader(h http.Header) ([]byte, error) {
	v := h.Get(httpMetaHeader)
	if v == "" {
		return nil, nil
	}
	hdr, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("bad %s metadata: %w", httpMetaHeader, err)
	}
	return hdr, nil
}

// Put implements storage.Backend with one PUT: S3 replaces objects
// atomically, so readers see the old or the new object.
func (b *Backend) Put(ctx context.Context, p string, hdr, body []byte) error {
	if err := checkPath(p, false); err != nil {
		return err
	}
	meta, err := encodeHeader(hdr)
	if err != nil {
		return wrap("put", p, err)
	}
	opts := b.putOpts(meta)
	if len(body) > maxCopySize {
		opts.DisableMultipart = false
		// Only reachable for bodies over 5 GiB held in memory; minio-go's
		// multipart path still gets the exact size.
		opts.PartSize = uint64(b.partSize)
	}
	_, err = b.core.Client.PutObject(ctx, b.bucket, b.objKey(p), bytes.NewReader(body), int64(len(body)), opts)
	if err != nil {
		return wrap("put", p, err)
	}
	return nil
}

// putOpts are the options of every single-request PUT berth makes (objects,
// pointers, sidecars, pending parts).
func (b *Backend) putOpts(meta map[string]string) minio.PutObjectOptions {
	return minio.PutObjectOptions{UserMetadata: meta, ContentType: contentType, DisableMultipart: true,
		DisableContentSha256: b.unsigned}
}

// partOpts are the options of every part upload.
func (b *Backend) partOpts() minio.PutObjectPartOptions {
	return minio.PutObjectPartOptions{DisableContentSha256: b.unsigned}
}

// Get implements storage.Backend. Header, size and body come from one GET;
// only an offset at or past the end (S3 answers 416) needs a HEAD, and then
// the body is empty, so nothing can mix.
func (b *Backend) Get(ctx context.Context, p string, off int64) ([]byte, int64, io.ReadCloser, error) {
	if err := checkPath(p, false); err != nil {
		return nil, 0, nil, err
	}
	if off < 0 {
		return nil, 0, nil, storagedriver.InvalidOffsetError{Path: p, Offset: off}
	}
	key := b.objKey(p)
	// The loop only repeats if the object grew between a 416 and the HEAD.
	for range 3 {
		var opts minio.GetObjectOptions
		if off > 0 {
			// SetRange(0, 0) would mean the first byte, so offset 0 sends no
			// range at all.
			if err := opts.SetRange(off, 0); err != nil {
				return nil, 0, nil, wrap("get", p, err)
			}
		}
		rc, info, h, err := b.core.GetObject(ctx, b.bucket, key, opts)
		if err == nil {
			if ptr, ok, err := pointerOf(h); ok || err != nil {
				rc.Close()
				if err != nil {
					return nil, 0, nil, wrap("get", p, err)
				}
				return b.getTarget(ctx, p, h, ptr, off)
			}
			hdr, size, err := b.sizeAndHeader(rc, info, h, off)
			if err != nil {
				rc.Close()
				return nil, 0, nil, wrap("get", p, err)
			}
			return hdr, size, rc, nil
		}
		if isNoSuchKey(err) {
			return nil, 0, nil, storagedriver.PathNotFoundError{Path: p}
		}
		if errCode(err) != "InvalidRange" {
			return nil, 0, nil, wrap("get", p, err)
		}
		st, err := b.core.Client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
		if err != nil {
			if isNoSuchKey(err) {
				return nil, 0, nil, storagedriver.PathNotFoundError{Path: p}
			}
			return nil, 0, nil, wrap("get", p, err)
		}
		if ptr, ok, err := pointerOf(st.Metadata); ok || err != nil {
			if err != nil {
				return nil, 0, nil, wrap("get", p, err)
			}
			return b.getTarget(ctx, p, st.Metadata, ptr, off)
		}
		if st.Size > off {
			continue
		}
		hdr, err := decodeHeader(st.Metadata)
		if err != nil {
			return nil, 0, nil, wrap("get", p, err)
		}
		return hdr, st.Size, io.NopCloser(bytes.NewReader(nil)), nil
	}
	return nil, 0, nil, wrap("get", p, errors.New("object keeps changing size"))
}

// getTarget reads body[off:] of a pointer's target; h is the pointer's
// metadata. The target is written once and never changes, so the header
// in the pointer always matches it.
func (b *Backend) getTarget(ctx context.Context, p string, h http.Header, ptr pointer, off int64) ([]byte, int64, io.ReadCloser, error) {
	hdr, err := decodeHeader(h)
	if err != nil {
		return nil, 0, nil, wrap("get", p, err)
	}
	if off >= ptr.size {
		return hdr, ptr.size, io.NopCloser(bytes.NewReader(nil)), nil
	}
	var opts minio.GetObjectOptions
	if off > 0 {
		if err := opts.SetRange(off, 0); err != nil {
			return nil, 0, nil, wrap("get", p, err)
		}
	}
	rc, _, _, err := b.core.GetObject(ctx, b.bucket, b.targetKey(ptr.target), opts)
	if err != nil {
		if isNoSuchKey(err) {
			err = fmt.Errorf("the body %s behind the object is missing", ptr.target)
		}
		return nil, 0, nil, wrap("get", p, err)
	}
	return hdr, ptr.size, rc, nil
}

// sizeAndHeader extracts the header and the total body size from a GET
// response; for a ranged GET the total is in Content-Range.
func (b *Backend) sizeAndHeader(rc io.Reader, info minio.ObjectInfo, h http.Header, off int64) ([]byte, int64, error) {
	hdr, err := decodeHeader(h)
	if err != nil {
		return nil, 0, err
	}
	if off == 0 {
		return hdr, info.Size, nil
	}
	cr := h.Get("Content-Range")
	if cr == "" {
		// A server that ignored the range sent the whole body: skip to off.
		if _, err := io.CopyN(io.Discard, rc, off); err != nil {
			return nil, 0, fmt.Errorf("skipping to offset %d: %w", off, err)
		}
		return hdr, info.Size, nil
	}
	i := strings.LastIndexByte(cr, '/')
	size, err := strconv.ParseInt(cr[i+1:], 10, 64)
	if i < 0 || err != nil {
		return nil, 0, fmt.Errorf("unparsable Content-Range %q", cr)
	}
	return hdr, size, nil
}

// Stat implements storage.Backend: a HEAD for a file, else a one-key
// listing below path+"/" for a directory (with the slash, so "a/b" is not
// taken for a directory because "a/bc" exists).
func (b *Backend) Stat(ctx context.Context, p string) (storage.Info, error) {
	if err := checkPath(p, true); err != nil {
		return storage.Info{}, err
	}
	if p == "/" {
		// The root always exists, as List("/") works on an empty store.
		return storage.Info{Path: p, IsDir: true}, nil
	}
	st, err := b.core.Client.StatObject(ctx, b.bucket, b.objKey(p), minio.StatObjectOptions{})
	if err == nil {
		size := st.Size
		if ptr, ok, err := pointerOf(st.Metadata); err != nil {
			return storage.Info{}, wrap("stat", p, err)
		} else if ok {
			size = ptr.size
		}
		return storage.Info{Path: p, Size: size, ModTime: st.LastModified}, nil
	}
	if !isNoSuchKey(err) {
		return storage.Info{}, wrap("stat", p, err)
	}
	found, err := b.anyBelow(ctx, b.dirKey(p))
	if err != nil {
		return storage.Info{}, wrap("stat", p, err)
	}
	if !found {
		return storage.Info{}, storagedriver.PathNotFoundError{Path: p}
	}
	return storage.Info{Path: p, IsDir: true}, nil
}

// anyBelow reports whether any object key starts with prefix.
func (b *Backend) anyBelow(ctx context.Context, prefix string) (bool, error) {
	noOwner := false
	for obj := range b.core.Client.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
		Prefix: prefix, Recursive: true, MaxKeys: 1, FetchOwner: &noOwner,
	}) {
		if obj.Err != nil {
			return false, obj.Err
		}
		return true, nil
	}
	return false, ctx.Err()
}

// Ready implements storage.Backend with a HEAD on the bucket, bounded to a
// few seconds and not retried, so a probe answers quickly while S3 is down.
func (b *Backend) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	ok, err := b.probe.BucketExists(ctx, b.bucket)
	if err != nil {
		return fmt.Errorf("s3: bucket %s unreachable: %w", b.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3: bucket %s does not exist", b.bucket)
	}
	return nil
}
