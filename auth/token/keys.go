package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// DefaultRetain is how long a superseded key keeps verifying: ECR's token
// lifetime.
const DefaultRetain = 12 * time.Hour

// pruneSlack keeps a retired key a little past the last expiry it may
// have signed, covering verification leeway and clock differences.
const pruneSlack = 5 * time.Minute

// Keys is the token signing key set, persisted as one JSON file (0600, its
// directory 0700). The current key signs; every key still in the file
// verifies. Several processes may share the file: a kid this copy does not
// know, or a file changed underneath, is read again.
type Keys struct {
	// Retain is how long a superseded key keeps verifying; it must be at
	// least the issuer's TTL (DefaultRetain when zero). Set before use.
	Retain time.Duration
	// Now is the clock (time.Now when nil). Set before use.
	Now func() time.Time

	mu      sync.RWMutex
	path    string
	current string
	keys    map[string]*ecdsa.PrivateKey
	order   []keyEntry  // oldest first
	seen    os.FileInfo // the file as last read or written
}

type keyEntry struct {
	KID     string    `json:"kid"`
	Created time.Time `json:"created"`
	Key     string    `json:"key"` // PKCS#8 PEM
}

type keysFile struct {
	Current string     `json:"current"`
	Keys    []keyEntry `json:"keys"`
}

// LoadOrCreate reads the key file at path, creating it with one fresh key
// when it does not exist.
func LoadOrCreate(path string) (*Keys, error) {
	k := &Keys{path: path, keys: map[string]*ecdsa.PrivateKey{}}
	err := k.reload()
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if _, err := k.addKey(); err != nil {
		return nil, err
	}
	if err := k.save(); err != nil {
		return nil, err
	}
	return k, nil
}

// Current is the kid of the signing key.
func (k *Keys) Current() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

// KIDs lists the key ids, oldest first.
func (k *Keys) KIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.order))
	for i, e := range k.order {
		ids[i] = e.KID
	}
	return ids
}

// Rotate makes a new current key, drops keys retired longer than Retain,
// and saves the file. Keys another process added are kept.
func (k *Keys) Rotate() (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.reloadLocked(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	kid, err := k.addKey()
	if err != nil {
		return "", err
	}
	k.prune()
	return kid, k.save()
}

// signer returns the current key, after picking up a rotation made by
// another process. A file that cannot be read leaves the key in memory
// current: signing goes on, and verification elsewhere reports the
// problem.
func (k *Keys) signer() (string, *ecdsa.PrivateKey) {
	_ = k.refresh()
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current, k.keys[k.current]
}

// publicKey returns the verification key for kid, reading the file again
// when kid is unknown.
func (k *Keys) publicKey(kid string) (*ecdsa.PublicKey, bool) {
	k.mu.RLock()
	pk, ok := k.keys[kid]
	k.mu.RUnlock()
	if !ok {
		if k.refresh() != nil {
			return nil, false
		}
		k.mu.RLock()
		pk, ok = k.keys[kid]
		k.mu.RUnlock()
	}
	if !ok {
		return nil, false
	}
	return &pk.PublicKey, true
}

// refresh reads the file again if it changed since this copy last saw it
// (saves replace it, so a new inode means a new version). Unchanged files
// cost one stat, so unknown kids cannot force repeated parsing.
func (k *Keys) refresh() error {
	fi, err := os.Stat(k.path)
	if err != nil {
		return &Error{Op: "keys.refresh", Kind: Internal, Err: err}
	}
	k.mu.RLock()
	same := k.seen != nil && os.SameFile(fi, k.seen) && fi.ModTime().Equal(k.seen.ModTime()) && fi.Size() == k.seen.Size()
	k.mu.RUnlock()
	if same {
		return nil
	}
	return k.reload()
}

func (k *Keys) reload() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reloadLocked()
}

// reloadLocked merges the file's keys into k and takes its current key.
func (k *Keys) reloadLocked() error {
	f, err := os.Open(k.path)
	if err != nil {
		return &Error{Op: "keys.load", Kind: Internal, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return &Error{Op: "keys.load", Kind: Internal, Err: err}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		// Tighten a key file someone loosened rather than refuse to start.
		if err := f.Chmod(0o600); err != nil {
			return &Error{Op: "keys.load", Kind: Internal, Err: err}
		}
	}
	var kf keysFile
	if err := json.NewDecoder(f).Decode(&kf); err != nil {
		return &Error{Op: "keys.load", Kind: Internal, Err: fmt.Errorf("%s: %w", k.path, err)}
	}
	for _, e := range kf.Keys {
		if _, ok := k.keys[e.KID]; ok {
			continue
		}
		pk, err := parseKey(e.Key)
		if err != nil {
			return &Error{Op: "keys.load", Kind: Internal, Err: fmt.Errorf("%s: key %q: %w", k.path, e.KID, err)}
		}
		k.keys[e.KID] = pk
		k.order = append(k.order, e)
	}
	if _, ok := k.keys[kf.Current]; !ok {
		return &Error{Op: "keys.load", Kind: Internal, Err: fmt.Errorf("%s: current key %q is missing", k.path, kf.Current)}
	}
	k.current = kf.Current
	sort.SliceStable(k.order, func(i, j int) bool { return k.order[i].Created.Before(k.order[j].Created) })
	k.seen = fi
	return nil
}

func parseKey(pemText string) (*ecdsa.PrivateKey, error) {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PKCS#8 PEM private key")
	}
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	pk, ok := key.(*ecdsa.PrivateKey)
	if !ok || pk.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 ECDSA key")
	}
	return pk, nil
}

func (k *Keys) now() time.Time {
	if k.Now != nil {
		return k.Now().UTC()
	}
	return time.Now().UTC()
}

// addKey generates a P-256 key and makes it current.
func (k *Keys) addKey() (string, error) {
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", &Error{Op: "keys.add", Kind: Internal, Err: err}
	}
	der, err := x509.MarshalPKCS8PrivateKey(pk)
	if err != nil {
		return "", &Error{Op: "keys.add", Kind: Internal, Err: err}
	}
	var tag [4]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return "", &Error{Op: "keys.add", Kind: Internal, Err: err}
	}
	now := k.now()
	kid := now.Format("20060102T150405Z") + "-" + hex.EncodeToString(tag[:])
	k.keys[kid] = pk
	k.order = append(k.order, keyEntry{KID: kid, Created: now,
		Key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	k.current = kid
	return kid, nil
}

// prune drops keys superseded longer than Retain ago: a key signs until
// the next one is created, and its tokens live at most Retain after that.
func (k *Keys) prune() {
	retain := k.Retain
	if retain <= 0 {
		retain = DefaultRetain
	}
	now := k.now()
	kept := k.order[:0]
	for i, e := range k.order {
		if e.KID != k.current && i+1 < len(k.order) && now.After(k.order[i+1].Created.Add(retain+pruneSlack)) {
			delete(k.keys, e.KID)
			continue
		}
		kept = append(kept, e)
	}
	k.order = kept
}

// save writes the file atomically (temporary file, 0600, then rename).
func (k *Keys) save() error {
	b, err := json.MarshalIndent(keysFile{Current: k.current, Keys: k.order}, "", "  ")
	if err != nil {
		return &Error{Op: "keys.save", Kind: Internal, Err: err}
	}
	if err := writeFileAtomic(k.path, b); err != nil {
		return &Error{Op: "keys.save", Kind: Internal, Err: err}
	}
	fi, err := os.Stat(k.path)
	if err != nil {
		return &Error{Op: "keys.save", Kind: Internal, Err: err}
	}
	k.seen = fi
	return nil
}

func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
