package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	// SegmentSize is the plaintext size of every non-final segment.
	SegmentSize = 64 << 10
	// NonceSize and TagSize are AES-GCM's.
	NonceSize = 12
	TagSize   = 16
	// Overhead is what sealing adds to a segment: its nonce and its tag.
	Overhead = NonceSize + TagSize
	// SlotSize is the stored size of a full segment.
	SlotSize = SegmentSize + Overhead
)

// ErrAuth is returned when stored bytes fail authentication: tampering,
// truncation, the wrong key, or segments out of place.
var ErrAuth = errors.New("crypt: message authentication failed (object tampered, truncated or sealed with another key)")

// Sealer seals and opens the segments of one object under its data key.
type Sealer struct {
	aead     cipher.AEAD
	objectID [16]byte
}

// NewSealer returns a Sealer for the object whose header carries objectID.
func NewSealer(dek []byte, objectID [16]byte) (*Sealer, error) {
	if len(dek) != 32 {
		return nil, fmt.Errorf("crypt: data key must be 32 bytes, got %d", len(dek))
	}
	blk, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: g, objectID: objectID}, nil
}

func (s *Sealer) aad(buf *[25]byte, index uint64, final bool) []byte {
	copy(buf[:16], s.objectID[:])
	binary.BigEndian.PutUint64(buf[16:24], index)
	buf[24] = 0
	if final {
		buf[24] = 1
	}
	return buf[:]
}

// Seal appends the sealed form of plain (at most SegmentSize bytes) to dst.
// A non-final segment must be exactly SegmentSize bytes.
func (s *Sealer) Seal(dst, plain []byte, index uint64, final bool) ([]byte, error) {
	if len(plain) > SegmentSize || (!final && len(plain) != SegmentSize) {
		return nil, fmt.Errorf("crypt: bad segment length %d (final=%v)", len(plain), final)
	}
	var ad [25]byte
	off := len(dst)
	dst = append(dst, make([]byte, NonceSize)...)
	if _, err := rand.Read(dst[off : off+NonceSize]); err != nil {
		return nil, err
	}
	return s.aead.Seal(dst, dst[off:off+NonceSize], plain, s.aad(&ad, index, final)), nil
}

// Open authenticates and decrypts one stored segment, appending the plaintext
// to dst.
func (s *Sealer) Open(dst, sealed []byte, index uint64, final bool) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrAuth
	}
	var ad [25]byte
	out, err := s.aead.Open(dst, sealed[:NonceSize], sealed[NonceSize:], s.aad(&ad, index, final))
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}

// SealedSize is the stored size of plain bytes of plaintext, sealed as one
// stream (the last segment final; an empty stream is one empty final segment).
func SealedSize(plain int64) int64 {
	if plain == 0 {
		return Overhead
	}
	full := (plain - 1) / SegmentSize // segments before the last
	return full*SlotSize + (plain - full*SegmentSize) + Overhead
}

// PlainSize inverts SealedSize. It reports false when no plaintext size seals
// to stored bytes (the object was truncated inside a segment's overhead).
func PlainSize(stored int64) (int64, bool) {
	if stored < Overhead {
		return 0, false
	}
	n := (stored - 1) / SlotSize // complete slots before the last segment
	last := stored - n*SlotSize - Overhead
	if last < 0 || (last == 0 && n > 0) {
		return 0, false
	}
	return n*SegmentSize + last, true
}
