package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/base"

	"github.com/berth-registry/berth/storage/crypt"
)

// DriverName is the name the driver is registered under.
const DriverName = "berth"

// Options are the typed dependencies of the driver.
type Options struct {
	Backend Backend
	Keyring *crypt.Keyring
	// OnAuthError is called whenever stored bytes fail authentication
	// (metrics); may be nil.
	OnAuthError func()
	// OnUnknownKey is called when an object's key-encryption key is not in
	// the keyring (rotated on a node with a keyring of its own); may be
	// nil.
	OnUnknownKey func(*crypt.UnknownKeyError)
}

// Driver is the encrypting storage driver, wrapped by base.Base for path
// validation, error decoration and distribution's storage metrics.
type Driver struct{ base.Base }

// New returns the driver over opts.Backend.
func New(opts Options) (*Driver, error) {
	if opts.Backend == nil || opts.Keyring == nil {
		return nil, errors.New("storage: a backend and a keyring are required")
	}
	return &Driver{base.Base{StorageDriver: &driver{Options: opts, keys: newKeyCache(keyCacheSize)}}}, nil
}

// keyCacheSize bounds the unwrapped data keys kept in memory (about 1 KiB
// each).
const keyCacheSize = 4096

// Inner returns the undecorated driver (key rotation and tests).
func (d *Driver) Inner() *driver { return d.StorageDriver.(*driver) }

type driver struct {
	Options
	keys *keyCache
}

func (d *driver) Name() string { return DriverName }

func (d *driver) authErr(err error) error {
	if errors.Is(err, crypt.ErrAuth) && d.OnAuthError != nil {
		d.OnAuthError()
	}
	if uk := (*crypt.UnknownKeyError)(nil); errors.As(err, &uk) && d.OnUnknownKey != nil {
		d.OnUnknownKey(uk)
	}
	return err
}

func (d *driver) open(hdr []byte) (*crypt.Sealer, error) {
	if s := d.keys.get(hdr); s != nil {
		return s, nil
	}
	h, err := crypt.ParseHeader(hdr)
	if err != nil {
		return nil, d.authErr(fmt.Errorf("%w: %v", crypt.ErrAuth, err))
	}
	s, err := d.Keyring.Open(h)
	if err != nil {
		return nil, d.authErr(err)
	}
	d.keys.put(hdr, s)
	return s, nil
}

func (d *driver) GetContent(ctx context.Context, path string) ([]byte, error) {
	rc, err := d.Reader(ctx, path, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func (d *driver) PutContent(ctx context.Context, path string, content []byte) error {
	h, s, err := d.Keyring.NewObject()
	if err != nil {
		return err
	}
	body, err := sealAll(s, content)
	if err != nil {
		return err
	}
	return d.Backend.Put(ctx, path, h.Marshal(), body)
}

// sealAll seals content as one complete stream.
func sealAll(s *crypt.Sealer, content []byte) ([]byte, error) {
	out := make([]byte, 0, crypt.SealedSize(int64(len(content))))
	var idx uint64
	for {
		n := min(len(content), crypt.SegmentSize)
		final := n == len(content)
		var err error
		if out, err = s.Seal(out, content[:n], idx, final); err != nil {
			return nil, err
		}
		if final {
			return out, nil
		}
		content = content[n:]
		idx++
	}
}

func (d *driver) Reader(ctx context.Context, path string, offset int64) (io.ReadCloser, error) {
	seg := offset / crypt.SegmentSize
	hdr, size, body, err := d.Backend.Get(ctx, path, seg*crypt.SlotSize)
	if err != nil {
		return nil, err
	}
	plain, ok := crypt.PlainSize(size)
	if !ok {
		body.Close()
		return nil, d.authErr(fmt.Errorf("%s: %w", path, crypt.ErrAuth))
	}
	if offset >= plain {
		body.Close()
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	s, err := d.open(hdr)
	if err != nil {
		body.Close()
		return nil, err
	}
	r := &segmentReader{d: d, body: body, s: s, next: uint64(seg), last: uint64((size - 1) / crypt.SlotSize),
		storedSize: size, skip: int(offset % crypt.SegmentSize)}
	if r.last-r.next+1 > pipelineMin {
		return newPipeReader(r), nil
	}
	return r, nil
}

func (d *driver) Stat(ctx context.Context, path string) (storagedriver.FileInfo, error) {
	info, err := d.Backend.Stat(ctx, path)
	if err != nil {
		return nil, err
	}
	return d.fileInfo(info), nil
}

// fileInfo turns a backend description into the plaintext one the registry
// expects: Stat reports plaintext sizes.
func (d *driver) fileInfo(info Info) storagedriver.FileInfo {
	fi := storagedriver.FileInfoFields{Path: info.Path, ModTime: info.ModTime, IsDir: info.IsDir}
	if !info.IsDir {
		fi.Size, _ = crypt.PlainSize(info.Size)
	}
	return storagedriver.FileInfoInternal{FileInfoFields: fi}
}

func (d *driver) List(ctx context.Context, path string) ([]string, error) {
	return d.Backend.List(ctx, path)
}

func (d *driver) Move(ctx context.Context, src, dst string) error {
	return d.Backend.Move(ctx, src, dst)
}

func (d *driver) Delete(ctx context.Context, path string) error {
	if err := d.Backend.Delete(ctx, path); err != nil {
		return err
	}
	return d.Backend.DeleteSidecars(ctx, path)
}

// RedirectURL never redirects: the bucket holds ciphertext only.
func (d *driver) RedirectURL(*http.Request, string) (string, error) { return "", nil }

func (d *driver) Walk(ctx context.Context, path string, fn storagedriver.WalkFn, opts ...func(*storagedriver.WalkOptions)) error {
	return d.Backend.Walk(ctx, path, func(fi storagedriver.FileInfo) error {
		return fn(d.fileInfo(Info{Path: fi.Path(), Size: fi.Size(), ModTime: fi.ModTime(), IsDir: fi.IsDir()}))
	}, opts...)
}

// segmentReader decrypts a stored body segment by segment.
type segmentReader struct {
	d          *driver
	body       io.ReadCloser
	s          *crypt.Sealer
	next, last uint64 // next segment to read; index of the final segment
	storedSize int64
	skip       int
	sealed     []byte
	pbuf       []byte // decrypted segment
	plain      []byte // the part of pbuf not yet returned
	err        error
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for len(r.plain) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.fill()
	}
	n := copy(p, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

func (r *segmentReader) fill() error {
	if r.next > r.last {
		return io.EOF
	}
	n := crypt.SlotSize
	final := r.next == r.last
	if final {
		n = int(r.storedSize - int64(r.last)*crypt.SlotSize)
	}
	if cap(r.sealed) < n {
		// Sized to need: most reads of small objects (links, manifests)
		// are one short final segment.
		r.sealed = make([]byte, n)
	}
	buf := r.sealed[:n]
	if _, err := io.ReadFull(r.body, buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return r.d.authErr(fmt.Errorf("object shorter than stated: %w", crypt.ErrAuth))
		}
		return err
	}
	out, err := r.s.Open(r.pbuf[:0], buf, r.next, final)
	if err != nil {
		return r.d.authErr(err)
	}
	r.pbuf = out
	r.next++
	r.plain = out[r.skip:]
	r.skip = 0
	return nil
}

func (r *segmentReader) Close() error { return r.body.Close() }
