package crypt

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestSizesRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, SegmentSize - 1, SegmentSize, SegmentSize + 1, 2 * SegmentSize, 5*SegmentSize + 7, 1 << 30} {
		s := SealedSize(n)
		got, ok := PlainSize(s)
		if !ok || got != n {
			t.Errorf("PlainSize(SealedSize(%d)=%d) = %d, %v", n, s, got, ok)
		}
	}
	for _, bad := range []int64{0, Overhead - 1, SlotSize + Overhead} {
		if _, ok := PlainSize(bad); ok {
			t.Errorf("PlainSize(%d) accepted an impossible size", bad)
		}
	}
}

func TestSealOpen(t *testing.T) {
	kr := NewMemoryKeyring()
	h, s, err := kr.NewObject()
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("x"), 100)
	sealed, err := s.Seal(nil, plain, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := ParseHeader(h.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	s2, err := kr.Open(h2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s2.Open(nil, sealed, 3, true); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %v", err)
	}
	// Wrong index, wrong final flag, flipped bit: all authentication errors.
	flip := append([]byte(nil), sealed...)
	flip[len(flip)/2] ^= 1
	for name, c := range map[string]struct {
		b     []byte
		idx   uint64
		final bool
	}{"index": {sealed, 4, true}, "final": {sealed, 3, false}, "bitflip": {flip, 3, true}, "short": {sealed[:10], 3, true}} {
		if _, err := s2.Open(nil, c.b, c.idx, c.final); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: got %v, want ErrAuth", name, err)
		}
	}
	// Same plaintext sealed twice never repeats a nonce.
	again, _ := s.Seal(nil, plain, 3, true)
	if bytes.Equal(again[:NonceSize], sealed[:NonceSize]) {
		t.Fatal("nonce reused")
	}
	// Non-final segments must be full.
	if _, err := s.Seal(nil, plain, 0, false); err == nil {
		t.Fatal("short non-final segment accepted")
	}
}

func TestKeyringRotationAndWrongKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kr.json")
	kr, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := kr.NewObject()
	if err != nil {
		t.Fatal(err)
	}
	old := kr.Current()
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	kr2, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if kr2.Current() == old || len(kr2.IDs()) != 2 {
		t.Fatalf("rotation not persisted: %v", kr2.IDs())
	}
	if _, err := kr2.Open(h); err != nil {
		t.Fatalf("old key no longer opens old data: %v", err)
	}
	nh, changed, err := kr2.Rewrap(h)
	if err != nil || !changed || nh.KEKID != kr2.Current() || nh.ObjectID != h.ObjectID {
		t.Fatalf("rewrap: %v %v %+v", err, changed, nh)
	}
	if _, err := kr2.Open(nh); err != nil {
		t.Fatal(err)
	}
	// Another keyring cannot open it, and says so as an authentication error.
	if _, err := NewMemoryKeyring().Open(h); !errors.Is(err, ErrAuth) {
		t.Fatalf("foreign keyring: %v", err)
	}
	// A header claiming our key id but wrapped under another key fails.
	forged := *nh
	forged.Wrapped[20] ^= 0xff
	if _, err := kr2.Open(&forged); !errors.Is(err, ErrAuth) {
		t.Fatalf("forged wrap: %v", err)
	}
}

// A running server keeps its keyring in memory while `berth keys rotate`
// re-wraps objects under a new key in the file: it must pick the key up.
func TestKeyringPicksUpRotationByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kr.json")
	server, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := server.NewObject()
	if err != nil {
		t.Fatal(err)
	}
	rotator, err := LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotator.Rotate(); err != nil {
		t.Fatal(err)
	}
	nh, _, err := rotator.Rewrap(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Open(nh); err != nil {
		t.Fatalf("server cannot read an object re-wrapped by a rotation: %v", err)
	}
	if server.Current() != rotator.Current() {
		t.Fatal("server does not wrap new objects with the new key after meeting it")
	}
}
