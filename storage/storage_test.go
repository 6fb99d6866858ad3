package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
	"github.com/berth-registry/berth/storage/disk"
)

const seg = crypt.SegmentSize

func newDriver(t *testing.T, root string, kr *crypt.Keyring) *storage.Driver {
	t.Helper()
	b, err := disk.New(disk.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	d, err := storage.New(storage.Options{Backend: b, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func readFrom(t *testing.T, d storagedriver.StorageDriver, p string, off int64) ([]byte, error) {
	t.Helper()
	rc, err := d.Reader(context.Background(), p, off)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// objectFile is where the disk backend keeps path p.
func objectFile(root, p string) string { return filepath.Join(root, "data", filepath.FromSlash(p)) }

func TestRangedReadsAtSegmentEdges(t *testing.T) {
	d := newDriver(t, t.TempDir(), crypt.NewMemoryKeyring())
	ctx := context.Background()
	for _, size := range []int{0, 1, seg - 1, seg, seg + 1, 3*seg + 17} {
		content := random(t, size)
		p := "/obj/size"
		if err := d.PutContent(ctx, p, content); err != nil {
			t.Fatal(err)
		}
		fi, err := d.Stat(ctx, p)
		if err != nil || fi.Size() != int64(size) {
			t.Fatalf("size %d: stat %v %v", size, fi, err)
		}
		for _, off := range []int{0, 1, seg - 1, seg, seg + 1, 2*seg - 1, 2 * seg, size - 1, size, size + 1, size + seg} {
			if off < 0 {
				continue
			}
			got, err := readFrom(t, d, p, int64(off))
			if err != nil {
				t.Fatalf("size %d off %d: %v", size, off, err)
			}
			want := []byte{}
			if off < size {
				want = content[off:]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("size %d off %d: got %d bytes, want %d", size, off, len(got), len(want))
			}
		}
	}
}

// TestResumeAcrossWriters writes an upload over several "requests" (Close,
// then a new Writer in append mode, as the registry does per PATCH), with
// chunk sizes that straddle segment and part boundaries.
func TestResumeAcrossWriters(t *testing.T) {
	root := t.TempDir()
	kr := crypt.NewMemoryKeyring()
	ctx := context.Background()
	content := random(t, 7*seg+12345)
	chunks := []int{10, seg - 10, 1, 3 * seg, seg + 5, 0, 2*seg + 12345 - 6}
	p := "/up/data"
	off := 0
	for i, n := range chunks {
		d := newDriver(t, root, kr) // a fresh driver: nothing carried in memory
		w, err := d.Writer(ctx, p, i > 0)
		if err != nil {
			t.Fatalf("chunk %d: writer: %v", i, err)
		}
		if w.Size() != int64(off) {
			t.Fatalf("chunk %d: resumed at %d, want %d", i, w.Size(), off)
		}
		if _, err := w.Write(content[off : off+n]); err != nil {
			t.Fatal(err)
		}
		off += n
		if i == len(chunks)-1 {
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatalf("chunk %d: close: %v", i, err)
		}
	}
	if off != len(content) {
		t.Fatalf("test bug: wrote %d of %d", off, len(content))
	}
	d := newDriver(t, root, kr)
	got, err := d.GetContent(ctx, p)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read back: %v (%d bytes)", err, len(got))
	}
	// No upload state is left behind.
	left, _ := filepath.Glob(filepath.Join(root, "sidecar", "up", "*"))
	if len(left) != 0 {
		t.Fatalf("sidecars left: %v", left)
	}
	// A committed object with data cannot be appended to.
	if _, err := d.Writer(ctx, p, true); err == nil {
		t.Fatal("append to committed object accepted")
	}
}

func TestTamperTruncateAndWrongKey(t *testing.T) {
	root := t.TempDir()
	kr := crypt.NewMemoryKeyring()
	d := newDriver(t, root, kr)
	ctx := context.Background()
	content := random(t, 3*seg+100)
	f := objectFile(root, "/t/obj")
	reset := func() {
		if err := d.PutContent(ctx, "/t/obj", content); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]func(b []byte) []byte{
		"bit flip in body":      func(b []byte) []byte { b[crypt.HeaderSize+seg+100] ^= 1; return b },
		"bit flip in header":    func(b []byte) []byte { b[60] ^= 1; return b },
		"truncated mid segment": func(b []byte) []byte { return b[:len(b)-50] },
		"final segment dropped": func(b []byte) []byte { return b[:crypt.HeaderSize+3*crypt.SlotSize] },
		"segments swapped": func(b []byte) []byte {
			s0 := append([]byte(nil), b[crypt.HeaderSize:crypt.HeaderSize+crypt.SlotSize]...)
			copy(b[crypt.HeaderSize:], b[crypt.HeaderSize+crypt.SlotSize:crypt.HeaderSize+2*crypt.SlotSize])
			copy(b[crypt.HeaderSize+crypt.SlotSize:], s0)
			return b
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			reset()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(f, mutate(b), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readFrom(t, d, "/t/obj", 0)
			if err == nil {
				t.Fatalf("read succeeded with %d bytes; equal=%v", len(got), bytes.Equal(got, content))
			}
			if !errors.Is(err, crypt.ErrAuth) && !errors.Is(err, crypt.ErrNoHeader) {
				t.Logf("error (not ErrAuth, still an error): %v", err)
			}
		})
	}
	t.Run("wrong keyring", func(t *testing.T) {
		reset()
		other := newDriver(t, root, crypt.NewMemoryKeyring())
		// base.Base flattens the error chain; the message carries the cause.
		if _, err := other.GetContent(ctx, "/t/obj"); err == nil || !strings.Contains(err.Error(), crypt.ErrAuth.Error()) {
			t.Fatalf("got %v, want ErrAuth", err)
		}
	})
}

func TestRotationRewrapsWithoutReencrypting(t *testing.T) {
	root := t.TempDir()
	krPath := filepath.Join(t.TempDir(), "keys", "keyring.json")
	kr, err := crypt.LoadOrCreateKeyring(krPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(krPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keyring mode: %v %v", fi.Mode(), err)
	}
	d := newDriver(t, root, kr)
	ctx := context.Background()
	objs := map[string][]byte{"/r/a": random(t, 10), "/r/b/c": random(t, 2*seg+3), "/r/empty": {}}
	for p, c := range objs {
		if err := d.PutContent(ctx, p, c); err != nil {
			t.Fatal(err)
		}
	}
	bodyBefore, _ := os.ReadFile(objectFile(root, "/r/b/c"))
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	st, err := storage.Rewrap(ctx, d)
	if err != nil || st.Rewrapped != len(objs) {
		t.Fatalf("rewrap: %+v %v", st, err)
	}
	bodyAfter, _ := os.ReadFile(objectFile(root, "/r/b/c"))
	if bytes.Equal(bodyBefore[:crypt.HeaderSize], bodyAfter[:crypt.HeaderSize]) ||
		!bytes.Equal(bodyBefore[crypt.HeaderSize:], bodyAfter[crypt.HeaderSize:]) {
		t.Fatal("rotation must change the header and leave the sealed body untouched")
	}
	// A keyring holding only the new key reads everything.
	kr2, _ := crypt.LoadKeyring(krPath)
	for p, c := range objs {
		got, err := newDriver(t, root, kr2).GetContent(ctx, p)
		if err != nil || !bytes.Equal(got, c) {
			t.Fatalf("%s after rotation: %v", p, err)
		}
	}
	st, err = storage.Rewrap(ctx, d)
	if err != nil || st.Rewrapped != 0 || st.Current != len(objs) {
		t.Fatalf("second rewrap: %+v %v", st, err)
	}
}

func TestAuthErrorsAreCounted(t *testing.T) {
	root := t.TempDir()
	b, err := disk.New(disk.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	d, err := storage.New(storage.Options{Backend: b, Keyring: crypt.NewMemoryKeyring(), OnAuthError: func() { n++ }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.PutContent(ctx, "/m/x", random(t, 1000)); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(objectFile(root, "/m/x"))
	raw[len(raw)-1] ^= 1
	_ = os.WriteFile(objectFile(root, "/m/x"), raw, 0o600)
	if _, err := d.GetContent(ctx, "/m/x"); err == nil || n != 1 {
		t.Fatalf("err %v, counted %d", err, n)
	}
}

// TestWriteShapes writes one upload in one request by Write calls of many
// shapes (aligned and not to segments, ending on a segment edge or not) and
// reads back the bytes written.
func TestWriteShapes(t *testing.T) {
	d := newDriver(t, t.TempDir(), crypt.NewMemoryKeyring())
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		writes []int // Write calls, in turn
		size   int
	}{
		{name: "one segment", writes: []int{seg}, size: seg},
		{name: "two whole segments in one write", writes: []int{2 * seg}, size: 2 * seg},
		{name: "segments then a byte", writes: []int{3 * seg, 1}, size: 3*seg + 1},
		{name: "a byte then segments", writes: []int{1, 3 * seg}, size: 3*seg + 1},
		{name: "unaligned writes", writes: []int{seg - 1, seg + 2, 5, 4*seg - 6}, size: 6 * seg},
		{name: "32 KiB writes", writes: repeat(32<<10, 2*9), size: 9 * seg},
		{name: "exact segments", writes: []int{seg, seg, seg}, size: 3 * seg},
		{name: "nothing", size: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := random(t, tc.size)
			p := "/shapes/" + strings.ReplaceAll(tc.name, " ", "-")
			w, err := d.Writer(ctx, p, false)
			if err != nil {
				t.Fatal(err)
			}
			off := 0
			for _, n := range tc.writes {
				if k, err := w.Write(content[off : off+n]); err != nil || k != n {
					t.Fatalf("write %d: %d, %v", n, k, err)
				}
				off += n
			}
			if off != tc.size || w.Size() != int64(tc.size) {
				t.Fatalf("wrote %d, size %d, want %d", off, w.Size(), tc.size)
			}
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := d.GetContent(ctx, p)
			if err != nil || !bytes.Equal(got, content) {
				t.Fatalf("read back: %v (%d bytes of %d)", err, len(got), len(content))
			}
		})
	}
}

func repeat(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}
