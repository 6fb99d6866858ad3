package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// TestPipelinedReads reads objects big enough for the read-ahead pipeline
// (more than a chunk of segments) at segment edges, with small and large
// read buffers, and closes readers part way: the bytes are exact and a
// reader closed early releases everything (the test's -race run catches
// the goroutine touching a closed reader). Here 64 segments and more are
// read in big chunks: 70 from the start, small ones from 16 segments in.
func TestPipelinedReads(t *testing.T) {
	storage.SetBigChunkMin(t, 64)
	d := newDriver(t, t.TempDir(), crypt.NewMemoryKeyring())
	ctx := context.Background()
	for _, size := range []int{5*seg + 3, 4 * seg, 4*seg + 1, 16*seg + 1, 40*seg + 12345, 70*seg + 5} {
		content := random(t, size)
		p := "/obj/big"
		if err := d.PutContent(ctx, p, content); err != nil {
			t.Fatal(err)
		}
		for _, off := range []int{0, 1, seg, 4*seg - 1, 4 * seg, 16 * seg, size - 3*seg - 1} {
			if off < 0 || off >= size {
				continue
			}
			for _, bufSize := range []int{1000, seg + 7, 4 << 20} {
				rc, err := d.Reader(ctx, p, int64(off))
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, 0, size)
				buf := make([]byte, bufSize)
				for {
					n, err := rc.Read(buf)
					got = append(got, buf[:n]...)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatalf("size %d off %d: %v", size, off, err)
					}
				}
				rc.Close()
				if string(got) != string(content[off:]) {
					t.Fatalf("size %d off %d buf %d: got %d bytes, want %d (contents differ)", size, off, bufSize, len(got), size-off)
				}
			}
			// io.Copy takes the pipeline's WriteTo (whole chunks per
			// Write), after a first small Read.
			rc, err := d.Reader(ctx, p, int64(off))
			if err != nil {
				t.Fatal(err)
			}
			first := make([]byte, 100)
			k, err := io.ReadFull(rc, first)
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatal(err)
			}
			var rest bytes.Buffer
			if _, err := io.Copy(&rest, rc); err != nil {
				t.Fatalf("size %d off %d: WriteTo: %v", size, off, err)
			}
			rc.Close()
			if got := string(first[:k]) + rest.String(); got != string(content[off:]) {
				t.Fatalf("size %d off %d: WriteTo got %d bytes, want %d (contents differ)", size, off, len(got), size-off)
			}
		}
		if size < 16*seg {
			continue // read in line, without the pipeline
		}
		// Closed after one small read: the goroutine stops, reads after
		// Close fail rather than hang.
		rc, err := d.Reader(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Read(make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		if n, err := rc.Read(make([]byte, 10)); n != 0 && err == nil {
			t.Fatalf("read after close: %d bytes, %v", n, err)
		}
	}
}

// TestPipelinedConcurrent reads one big object through more readers at
// once than may use big chunks, a little from each in turn: the readers
// left with small chunks read the same bytes, and once all are closed a
// new reader works again.
func TestPipelinedConcurrent(t *testing.T) {
	storage.SetBigChunkMin(t, 64)
	d := newDriver(t, t.TempDir(), crypt.NewMemoryKeyring())
	ctx := context.Background()
	content := random(t, 100*seg+17)
	if err := d.PutContent(ctx, "/obj/c", content); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		var rcs []io.ReadCloser
		var got []bytes.Buffer
		for range 7 {
			rc, err := d.Reader(ctx, "/obj/c", 0)
			if err != nil {
				t.Fatal(err)
			}
			rcs = append(rcs, rc)
			got = append(got, bytes.Buffer{})
		}
		for open := len(rcs); open > 0; {
			open = 0
			for i, rc := range rcs {
				n, err := io.CopyN(&got[i], rc, 3*seg+11)
				if err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("round %d reader %d: %v", round, i, err)
				}
				if n > 0 {
					open++
				}
			}
		}
		for i, rc := range rcs {
			rc.Close()
			if got[i].String() != string(content) {
				t.Fatalf("round %d reader %d: got %d bytes, want %d (contents differ)", round, i, got[i].Len(), len(content))
			}
		}
	}
}

// TestPipelinedTamper: a flipped bit deep in a big object is an
// authentication error from the pipeline, after the intact bytes before
// its chunk, never wrong bytes, with small and big chunks.
func TestPipelinedTamper(t *testing.T) {
	storage.SetBigChunkMin(t, 64)
	for _, segs := range []int{40, 80} {
		testPipelinedTamper(t, segs)
	}
}

func testPipelinedTamper(t *testing.T, segs int) {
	root := t.TempDir()
	d := newDriver(t, root, crypt.NewMemoryKeyring())
	ctx := context.Background()
	content := random(t, segs*seg)
	if err := d.PutContent(ctx, "/obj/t", content); err != nil {
		t.Fatal(err)
	}
	f := objectFile(root, "/obj/t")
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-20*crypt.SlotSize] ^= 1
	if err := os.WriteFile(f, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readFrom(t, d, "/obj/t", 0)
	if !errors.Is(err, crypt.ErrAuth) {
		t.Fatalf("got %v, want ErrAuth", err)
	}
	if len(got) > len(content)-19*seg || string(got) != string(content[:len(got)]) {
		t.Fatalf("read %d bytes before the error; they must be an intact prefix before the bad segment", len(got))
	}
}
