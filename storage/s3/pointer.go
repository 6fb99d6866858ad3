package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"

	"github.com/minio/minio-go/v7"
)

// Objects written through uploads are stored indirectly. The multipart
// upload assembles the body under "<prefix>objects/<random id>", and the
// object's own key holds a 0-byte pointer whose metadata carries the header,
// the id and the body size. S3 cannot rename: the registry moves every blob
// from its upload path to its digest path at commit, and with the body
// behind a pointer that move copies a 0-byte object instead of the whole
// blob (which used to be half the time of a push).
//
// A body has exactly one pointer at a time: only Move and Delete change
// pointers, Move hands the body over, Delete removes it with its pointer.
// Encrypted bodies are never empty (every sealed stream carries at least
// one tag), so 0-byte objects under "data/" are exactly the pointers.

const (
	metaTarget     = "Berth-Target"
	httpMetaTarget = "X-Amz-Meta-" + metaTarget
	metaSize       = "Berth-Size"
	httpMetaSize   = "X-Amz-Meta-" + metaSize
)

// pointer is what a pointer object says about its body.
type pointer struct {
	target string // id under objects/
	size   int64
}

// pointerOf reads a pointer from object metadata; ok is false for an
// object that holds its body itself.
func pointerOf(h http.Header) (ptr pointer, ok bool, err error) {
	t := h.Get(httpMetaTarget)
	if t == "" {
		return pointer{}, false, nil
	}
	size, err := strconv.ParseInt(h.Get(httpMetaSize), 10, 64)
	if err != nil || size < 0 || !validTarget(t) {
		return pointer{}, false, fmt.Errorf("bad pointer metadata (%s=%q, %s=%q)", httpMetaTarget, t, httpMetaSize, h.Get(httpMetaSize))
	}
	return pointer{target: t, size: size}, true, nil
}

func validTarget(t string) bool {
	if len(t) != 32 {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

func newTarget() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (b *Backend) targetKey(id string) string { return b.prefix + "objects/" + id }

// pointerMeta is the metadata of a pointer object.
func pointerMeta(hdr []byte, ptr pointer) (map[string]string, error) {
	meta, err := encodeHeader(hdr)
	if err != nil {
		return nil, err
	}
	meta[metaTarget] = ptr.target
	meta[metaSize] = strconv.FormatInt(ptr.size, 10)
	return meta, nil
}

// putPointer writes the pointer at p's key.
func (b *Backend) putPointer(ctx context.Context, p string, hdr []byte, ptr pointer) error {
	meta, err := pointerMeta(hdr, ptr)
	if err != nil {
		return err
	}
	_, err = b.core.Client.PutObject(ctx, b.bucket, b.objKey(p), http.NoBody, 0, b.putOpts(meta))
	return err
}

// pointerAt returns the pointer stored at key, if the object there is one.
func (b *Backend) pointerAt(ctx context.Context, key string) (pointer, bool, error) {
	st, err := b.core.Client.StatObject(ctx, b.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return pointer{}, false, nil
		}
		return pointer{}, false, err
	}
	return pointerOf(st.Metadata)
}

// removeTargets deletes the bodies of pointers that are gone.
func (b *Backend) removeTargets(ctx context.Context, targets []string) error {
	if len(targets) == 0 {
		return nil
	}
	keys := make([]string, len(targets))
	for i, t := range targets {
		keys[i] = b.targetKey(t)
	}
	return b.removeKeys(ctx, keys)
}
