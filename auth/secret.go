package auth

import "github.com/berth-registry/berth/storage/crypt"

// SealSecret encrypts an access-key secret for the metadata store with
// berth's keyring: a crypt header (fresh data key wrapped by the current
// key-encryption key) followed by the secret sealed as one final segment.
// A keyring rotation can re-wrap the header like any stored object.
func SealSecret(kr *crypt.Keyring, secret string) ([]byte, error) {
	h, s, err := kr.NewObject()
	if err != nil {
		return nil, &Error{Op: "SealSecret", Kind: Internal, Err: err}
	}
	out := h.Marshal()
	out, err = s.Seal(out, []byte(secret), 0, true)
	if err != nil {
		return nil, &Error{Op: "SealSecret", Kind: Internal, Err: err}
	}
	return out, nil
}

// OpenSecret reverses SealSecret. Tampering, truncation or a keyring that
// lacks the key are Kind Corrupt.
func OpenSecret(kr *crypt.Keyring, sealed []byte) (string, error) {
	if len(sealed) < crypt.HeaderSize {
		return "", &Error{Op: "OpenSecret", Kind: Corrupt, Err: crypt.ErrNoHeader}
	}
	h, err := crypt.ParseHeader(sealed[:crypt.HeaderSize])
	if err != nil {
		return "", &Error{Op: "OpenSecret", Kind: Corrupt, Err: err}
	}
	s, err := kr.Open(h)
	if err != nil {
		return "", &Error{Op: "OpenSecret", Kind: Corrupt, Err: err}
	}
	plain, err := s.Open(nil, sealed[crypt.HeaderSize:], 0, true)
	if err != nil {
		return "", &Error{Op: "OpenSecret", Kind: Corrupt, Err: err}
	}
	return string(plain), nil
}
