// Package disk is the local-disk Backend of berth's storage driver: objects
// are files holding the 128-byte header followed by the sealed body, under
// <root>/data. Directory semantics (List, Walk, Move, Delete) come from
// distribution's own filesystem driver on that tree; writes go through
// berth so that whole objects appear atomically (temp file + rename) and
// uploads in progress live outside the object tree (<root>/partial) until
// they complete.
package disk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/filesystem"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// Config configures the disk backend.
type Config struct {
	// Root is the directory that holds everything; created 0700.
	Root string `yaml:"root"`
}

// Backend stores objects as files under Root.
type Backend struct {
	root, data, partial, sidecar, tmp string
	fs                                storagedriver.StorageDriver
}

var _ storage.Backend = (*Backend)(nil)

// New creates the directories under cfg.Root and returns the backend.
func New(cfg Config) (*Backend, error) {
	if cfg.Root == "" {
		return nil, errors.New("storage.disk.root: required")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, err
	}
	b := &Backend{root: root, data: filepath.Join(root, "data"), partial: filepath.Join(root, "partial"),
		sidecar: filepath.Join(root, "sidecar"), tmp: filepath.Join(root, "tmp")}
	for _, d := range []string{b.data, b.partial, b.sidecar, b.tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("storage.disk.root: %w", err)
		}
	}
	b.fs = filesystem.New(filesystem.DriverParameters{RootDirectory: b.data, MaxThreads: 100})
	return b, nil
}

func (b *Backend) Name() string { return "disk" }

func (b *Backend) file(tree, p string) string { return filepath.Join(tree, filepath.FromSlash(p)) }

// The sidecar and partial file of path P sit at <tree>/P/.state and
// <tree>/P/.part, so that P and P/child never collide and removing <tree>/P
// removes everything in progress at or below P.
func (b *Backend) sidecarFile(p string) string { return filepath.Join(b.file(b.sidecar, p), ".state") }
func (b *Backend) partialFile(p string) string { return filepath.Join(b.file(b.partial, p), ".part") }

func notFound(p string) error { return storagedriver.PathNotFoundError{Path: p} }

// writeAtomic writes data to dst through a temp file and a rename.
func (b *Backend) writeAtomic(dst string, chunks ...[]byte) error {
	f, err := os.CreateTemp(b.tmp, "put-")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for _, c := range chunks {
		if _, err := f.Write(c); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return err
	}
	ok = true
	return nil
}

func (b *Backend) Put(_ context.Context, p string, hdr, body []byte) error {
	if fi, err := os.Stat(b.file(b.data, p)); err == nil && fi.IsDir() {
		return fmt.Errorf("disk: %s is a directory", p)
	}
	return b.writeAtomic(b.file(b.data, p), hdr, body)
}

func (b *Backend) Get(_ context.Context, p string, off int64) ([]byte, int64, io.ReadCloser, error) {
	f, err := os.Open(b.file(b.data, p))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, nil, notFound(p)
		}
		return nil, 0, nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.IsDir() {
		err = notFound(p)
	}
	hdr := make([]byte, crypt.HeaderSize)
	if err == nil {
		_, err = io.ReadFull(f, hdr)
	}
	if err != nil {
		f.Close()
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = fmt.Errorf("disk: %s: %w", p, crypt.ErrNoHeader)
		}
		return nil, 0, nil, err
	}
	size := fi.Size() - crypt.HeaderSize
	if off >= size {
		f.Close()
		return hdr, size, io.NopCloser(bytes.NewReader(nil)), nil
	}
	if _, err := f.Seek(crypt.HeaderSize+off, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return hdr, size, f, nil
}

func (b *Backend) Stat(ctx context.Context, p string) (storage.Info, error) {
	fi, err := b.fs.Stat(ctx, p)
	if err != nil {
		return storage.Info{}, err
	}
	return info(fi), nil
}

func info(fi storagedriver.FileInfo) storage.Info {
	in := storage.Info{Path: fi.Path(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}
	if !fi.IsDir() {
		in.Size = max(fi.Size()-crypt.HeaderSize, 0)
	}
	return in
}

func (b *Backend) List(ctx context.Context, p string) ([]string, error) { return b.fs.List(ctx, p) }

func (b *Backend) Move(ctx context.Context, src, dst string) error { return b.fs.Move(ctx, src, dst) }

// Delete removes the object or directory at p and every upload in progress
// at or below it.
func (b *Backend) Delete(ctx context.Context, p string) error {
	if err := b.fs.Delete(ctx, p); err != nil {
		return err
	}
	return os.RemoveAll(b.file(b.partial, p))
}

func (b *Backend) Walk(ctx context.Context, p string, fn storagedriver.WalkFn, opts ...func(*storagedriver.WalkOptions)) error {
	return b.fs.Walk(ctx, p, func(fi storagedriver.FileInfo) error {
		in := info(fi)
		return fn(storagedriver.FileInfoInternal{FileInfoFields: storagedriver.FileInfoFields{
			Path: in.Path, Size: in.Size, ModTime: in.ModTime, IsDir: in.IsDir}})
	}, opts...)
}

func (b *Backend) Header(ctx context.Context, p string) ([]byte, error) {
	hdr, _, rc, err := b.Get(ctx, p, 1<<62)
	if err != nil {
		return nil, err
	}
	rc.Close()
	return hdr, nil
}

// SetHeader rewrites the header in place: it has a fixed size, and a crash
// mid-write leaves either header intact enough to fail authentication
// loudly, never to decrypt wrongly.
func (b *Backend) SetHeader(_ context.Context, p string, hdr []byte) error {
	if len(hdr) != crypt.HeaderSize {
		return fmt.Errorf("disk: header must be %d bytes", crypt.HeaderSize)
	}
	f, err := os.OpenFile(b.file(b.data, p), os.O_WRONLY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return notFound(p)
		}
		return err
	}
	if _, err := f.WriteAt(hdr, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (b *Backend) Ready(context.Context) error {
	f, err := os.CreateTemp(b.tmp, "ready-")
	if err != nil {
		return fmt.Errorf("disk: %s not writable: %w", b.root, err)
	}
	f.Close()
	return os.Remove(f.Name())
}
