package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

type upload struct {
	b    *Backend
	path string
	f    *os.File
	size int64
}

func (b *Backend) CreateUpload(_ context.Context, p string, hdr []byte) (storage.Upload, error) {
	fn := b.partialFile(p)
	if err := os.MkdirAll(filepath.Dir(fn), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(fn, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return nil, err
	}
	return &upload{b: b, path: p, f: f}, nil
}

func (b *Backend) ResumeUpload(_ context.Context, p string) (storage.Upload, error) {
	f, err := os.OpenFile(b.partialFile(p), os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, storage.ErrNoUpload
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < crypt.HeaderSize {
		err = fmt.Errorf("disk: upload %s has no header", p)
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekEnd)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &upload{b: b, path: p, f: f, size: fi.Size() - crypt.HeaderSize}, nil
}

func (u *upload) Size() int64 { return u.size }

func (u *upload) Write(_ context.Context, p []byte) error {
	if _, err := u.f.Write(p); err != nil {
		return err
	}
	u.size += int64(len(p))
	return nil
}

// Persist has nothing to send: every byte written is already in the file.
func (u *upload) Persist(context.Context) error { return u.f.Close() }

// Complete syncs the file and renames it into the object tree, so the object
// appears whole or not at all.
func (u *upload) Complete(_ context.Context, last []byte) error {
	defer u.f.Close()
	if _, err := u.f.Write(last); err != nil {
		return err
	}
	if err := u.f.Sync(); err != nil {
		return err
	}
	dst := u.b.file(u.b.data, u.path)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := os.Rename(u.f.Name(), dst); err != nil {
		return err
	}
	_ = os.Remove(filepath.Dir(u.f.Name()))
	return nil
}

func (u *upload) Abort(context.Context) error {
	u.f.Close()
	if err := os.Remove(u.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	_ = os.Remove(filepath.Dir(u.f.Name()))
	return nil
}

func (b *Backend) PutSidecar(_ context.Context, p string, data []byte) error {
	return b.writeAtomic(b.sidecarFile(p), data)
}

func (b *Backend) GetSidecar(_ context.Context, p string) ([]byte, error) {
	d, err := os.ReadFile(b.sidecarFile(p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, storage.ErrNoUpload
	}
	return d, err
}

func (b *Backend) DeleteSidecars(_ context.Context, p string) error {
	return os.RemoveAll(b.file(b.sidecar, p))
}
