package storage

import (
	"context"
	"errors"
	"io"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
)

// Backend stores what the encrypting driver produces. Every object is a small
// opaque header (crypt.HeaderSize bytes, the wrapped data key) plus a body of
// sealed segments. Paths are the registry's own ("/docker/registry/v2/…");
// a backend keeps them in a namespace of their own so that List("/") and Walk
// never see anything else it stores (sidecars, temp files).
//
// Errors: a missing path is storagedriver.PathNotFoundError (DriverName may be
// left empty; base.Base fills it in). Anything else is returned as is.
type Backend interface {
	// Name is the backend's name for logs and metrics ("disk", "s3").
	Name() string

	// Put writes a whole object, replacing any existing one atomically:
	// readers see the old object or the new one, never a mix.
	Put(ctx context.Context, path string, hdr, body []byte) error
	// Get returns the object's header, its total body size and a reader over
	// body[off:]. When off >= size the reader yields io.EOF at once. The
	// header and the body must come from the same object version.
	Get(ctx context.Context, path string, off int64) (hdr []byte, size int64, body io.ReadCloser, err error)
	// Stat describes a file (Size is the body size) or a directory.
	Stat(ctx context.Context, path string) (Info, error)
	// List, Move, Delete and Walk follow storagedriver.StorageDriver's
	// contract. Move keeps the header with the body. Walk reports body sizes.
	List(ctx context.Context, path string) ([]string, error)
	Move(ctx context.Context, src, dst string) error
	Delete(ctx context.Context, path string) error
	Walk(ctx context.Context, path string, fn storagedriver.WalkFn, opts ...func(*storagedriver.WalkOptions)) error
	// Header returns only the header of the object at path.
	Header(ctx context.Context, path string) ([]byte, error)
	// SetHeader replaces the header of an existing object without rewriting
	// its body (key rotation).
	SetHeader(ctx context.Context, path string, hdr []byte) error

	// CreateUpload starts a new upload that will become the object at path,
	// with the given header, when completed.
	CreateUpload(ctx context.Context, path string, hdr []byte) (Upload, error)
	// ResumeUpload reopens the upload in progress at path (as the last
	// Persist left it); ErrNoUpload if there is none.
	ResumeUpload(ctx context.Context, path string) (Upload, error)

	// Sidecars are small objects that hold an upload's state between
	// requests. They live outside the object namespace, keyed by the
	// object's path. GetSidecar returns ErrNoUpload when absent;
	// DeleteSidecars removes the sidecar at path and every one below it.
	PutSidecar(ctx context.Context, path string, data []byte) error
	GetSidecar(ctx context.Context, path string) ([]byte, error)
	DeleteSidecars(ctx context.Context, path string) error

	// Ready reports whether the backing store is reachable (readiness probe).
	Ready(ctx context.Context) error
}

// Upload is an object being written across requests. The writer streams
// sealed bytes into it; how they reach storage (a growing file, equal-size
// multipart parts spooled through local disk) is the backend's business, so
// no backend has to hold a part in memory.
type Upload interface {
	// Size is the body bytes written so far (all sessions).
	Size() int64
	// Write appends body bytes. p may be reused once Write returns.
	Write(ctx context.Context, p []byte) error
	// Persist makes everything written durable, so that ResumeUpload in a
	// later request, or on another node, finds Size() bytes. The Upload is
	// not used after Persist.
	Persist(ctx context.Context) error
	// Complete appends last and makes the object visible at its path.
	Complete(ctx context.Context, last []byte) error
	// Abort discards the upload and everything stored for it.
	Abort(ctx context.Context) error
}

// Appender is an optional extension of Upload for backends that fill parts
// in memory: the writer seals each segment straight into the part, rather
// than into a scratch buffer that Write then copies.
type Appender interface {
	// Buffer returns an empty slice with capacity for at least n bytes,
	// valid until the next call on the Upload.
	Buffer(n int) ([]byte, error)
	// Append appends sealed, normally what was built in Buffer's slice
	// (then nothing is copied); any other bytes are copied, like Write.
	Append(ctx context.Context, sealed []byte) error
}

// Info describes a stored file or directory.
type Info struct {
	Path    string
	Size    int64 // body size, without the header
	ModTime time.Time
	IsDir   bool
}

// ErrNoUpload is returned when no upload is in progress for a path.
var ErrNoUpload = errors.New("storage: no upload in progress")
