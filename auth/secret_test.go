package auth

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/berth-registry/berth/storage/crypt"
)

func TestSealSecret(t *testing.T) {
	kr, err := crypt.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sealed, err := SealSecret(kr, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatal("sealed form holds the secret")
	}
	if again, _ := SealSecret(kr, secret); bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gave the same bytes")
	}
	if got, err := OpenSecret(kr, sealed); err != nil || got != secret {
		t.Fatalf("open: %q, %v", got, err)
	}
	// A keyring rotation keeps old secrets readable.
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	if got, err := OpenSecret(kr, sealed); err != nil || got != secret {
		t.Fatalf("open after rotation: %q, %v", got, err)
	}

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 1
		return b
	}
	bad := []struct {
		name   string
		kr     *crypt.Keyring
		sealed []byte
	}{
		{"ciphertext tampered", kr, flip(len(sealed) - 20)},
		{"tag tampered", kr, flip(len(sealed) - 1)},
		{"wrapped key tampered", kr, flip(60)},
		{"object id tampered", kr, flip(40)},
		{"magic tampered", kr, flip(0)},
		{"truncated", kr, sealed[:len(sealed)-1]},
		{"header only", kr, sealed[:crypt.HeaderSize]},
		{"short", kr, sealed[:10]},
		{"empty", kr, nil},
		{"wrong keyring", crypt.NewMemoryKeyring(), sealed},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			got, err := OpenSecret(c.kr, c.sealed)
			var e *Error
			if !errors.As(err, &e) || e.Kind != Corrupt {
				t.Fatalf("got %q, %v; want Kind Corrupt", got, err)
			}
			if bytes.Contains([]byte(err.Error()), []byte(secret)) {
				t.Fatal("error leaks the secret")
			}
		})
	}
}
