package crypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// HeaderSize is the fixed size of an encoded header, so a header can be
// rewritten in place when a key rotation re-wraps the data key.
const HeaderSize = 128

const (
	magic      = "BRTH"
	version    = 1
	maxKEKID   = 32
	wrappedLen = NonceSize + 32 + TagSize
)

// Header is the per-object key material stored beside the ciphertext.
type Header struct {
	KEKID    string   // id of the key-encryption key that wraps the data key
	ObjectID [16]byte // random; bound into every segment's additional data
	Wrapped  [wrappedLen]byte
}

// Layout (128 bytes): "BRTH" | version | len(kekID) | kekID (32, zero padded)
// | objectID (16) | wrapped DEK: nonce(12) ct(32) tag(16) | zero padding.

// Marshal encodes h into exactly HeaderSize bytes.
func (h *Header) Marshal() []byte {
	b := make([]byte, HeaderSize)
	copy(b, magic)
	b[4] = version
	b[5] = byte(len(h.KEKID))
	copy(b[6:6+maxKEKID], h.KEKID)
	copy(b[38:54], h.ObjectID[:])
	copy(b[54:54+wrappedLen], h.Wrapped[:])
	return b
}

// ErrNoHeader is returned when bytes do not start with a berth header.
var ErrNoHeader = errors.New("crypt: not a berth-encrypted object (bad header)")

// ParseHeader decodes a header produced by Marshal.
func ParseHeader(b []byte) (*Header, error) {
	if len(b) < HeaderSize || string(b[:4]) != magic || b[4] != version || int(b[5]) > maxKEKID {
		return nil, ErrNoHeader
	}
	h := &Header{KEKID: string(b[6 : 6+int(b[5])])}
	copy(h.ObjectID[:], b[38:54])
	copy(h.Wrapped[:], b[54:54+wrappedLen])
	return h, nil
}

func wrapAAD(kekID string, objectID [16]byte) []byte {
	ad := make([]byte, 0, 16+len(kekID)+16)
	ad = append(ad, "berth-dek-wrap-1"...)
	ad = append(ad, kekID...)
	return append(ad, objectID[:]...)
}

func kekAEAD(kek []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// wrap seals dek under kek into h.Wrapped, binding the KEK id and object id.
func (h *Header) wrap(kekID string, kek, dek []byte) error {
	if len(kekID) == 0 || len(kekID) > maxKEKID {
		return fmt.Errorf("crypt: key id %q must be 1..%d bytes", kekID, maxKEKID)
	}
	g, err := kekAEAD(kek)
	if err != nil {
		return err
	}
	var nonce [NonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	h.KEKID = kekID
	out := g.Seal(nonce[:], nonce[:], dek, wrapAAD(kekID, h.ObjectID))
	copy(h.Wrapped[:], out)
	return nil
}

func (h *Header) unwrap(kek []byte) ([]byte, error) {
	g, err := kekAEAD(kek)
	if err != nil {
		return nil, err
	}
	dek, err := g.Open(nil, h.Wrapped[:NonceSize], h.Wrapped[NonceSize:], wrapAAD(h.KEKID, h.ObjectID))
	if err != nil {
		return nil, fmt.Errorf("crypt: cannot unwrap data key with key %q: %w", h.KEKID, ErrAuth)
	}
	return dek, nil
}
