package crypt

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Keyring holds the key-encryption keys. The newest is current: it wraps
// every new data key. Older keys stay to unwrap what they wrapped until a
// rotation re-wraps it.
type Keyring struct {
	mu      sync.RWMutex
	path    string
	current string
	keys    map[string][]byte
	order   []keyEntry
}

type keyEntry struct {
	ID      string    `json:"id"`
	Key     string    `json:"key"` // base64 of 32 bytes
	Created time.Time `json:"created"`
}

type keyringFile struct {
	Current string     `json:"current"`
	Keys    []keyEntry `json:"keys"`
}

// LoadOrCreateKeyring reads the keyring at path, creating it (0600, with one
// fresh key) when missing.
func LoadOrCreateKeyring(path string) (*Keyring, error) {
	kr, err := LoadKeyring(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return kr, err
	}
	kr = &Keyring{path: path, keys: map[string][]byte{}}
	if _, err := kr.addKey(); err != nil {
		return nil, err
	}
	return kr, kr.save()
}

// LoadKeyring reads an existing keyring file.
func LoadKeyring(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f keyringFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	kr := &Keyring{path: path, current: f.Current, keys: map[string][]byte{}, order: f.Keys}
	for _, e := range f.Keys {
		k, err := base64.StdEncoding.DecodeString(e.Key)
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("keyring %s: key %q is not 32 base64 bytes", path, e.ID)
		}
		kr.keys[e.ID] = k
	}
	if _, ok := kr.keys[kr.current]; !ok {
		return nil, fmt.Errorf("keyring %s: current key %q is missing", path, kr.current)
	}
	return kr, nil
}

// NewMemoryKeyring returns a keyring with one fresh key that is never saved
// (tests).
func NewMemoryKeyring() *Keyring {
	kr := &Keyring{keys: map[string][]byte{}}
	if _, err := kr.addKey(); err != nil {
		panic(err) // crypto/rand failing is not recoverable
	}
	return kr
}

func (kr *Keyring) addKey() (string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	now := time.Now().UTC()
	// Time, sequence and a random tag: ids never collide across keyrings,
	// so a wrong keyring is reported as a missing key, not a forgery.
	var tag [3]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return "", err
	}
	id := fmt.Sprintf("kek-%s-%d-%x", now.Format("20060102T150405Z"), len(kr.order)+1, tag)
	kr.keys[id] = k
	kr.order = append(kr.order, keyEntry{ID: id, Key: base64.StdEncoding.EncodeToString(k), Created: now})
	kr.current = id
	return id, nil
}

// reload merges the keys of the keyring file into kr. The current key is
// taken from the file too, so new objects are wrapped by the newest key.
func (kr *Keyring) reload() error {
	if kr.path == "" {
		return errors.New("crypt: keyring has no file")
	}
	fresh, err := LoadKeyring(kr.path)
	if err != nil {
		return err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	for _, e := range fresh.order {
		if _, ok := kr.keys[e.ID]; !ok {
			kr.keys[e.ID] = fresh.keys[e.ID]
			kr.order = append(kr.order, e)
		}
	}
	kr.current = fresh.current
	return nil
}

// Rotate adds a new current key and saves the keyring. Existing keys remain.
func (kr *Keyring) Rotate() (string, error) {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	id, err := kr.addKey()
	if err != nil {
		return "", err
	}
	return id, kr.save()
}

// Current is the id of the key that wraps new data keys.
func (kr *Keyring) Current() string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.current
}

// IDs lists every key id, oldest first.
func (kr *Keyring) IDs() []string {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	ids := make([]string, len(kr.order))
	for i, e := range kr.order {
		ids[i] = e.ID
	}
	return ids
}

func (kr *Keyring) save() error {
	if kr.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(keyringFile{Current: kr.current, Keys: kr.order}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(kr.path), 0o700); err != nil {
		return err
	}
	tmp := kr.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, kr.path)
}

// NewObject makes a header with a fresh data key wrapped by the current KEK,
// and a Sealer for the object's segments.
func (kr *Keyring) NewObject() (*Header, *Sealer, error) {
	kr.mu.RLock()
	id, kek := kr.current, kr.keys[kr.current]
	kr.mu.RUnlock()
	h := &Header{}
	if _, err := rand.Read(h.ObjectID[:]); err != nil {
		return nil, nil, err
	}
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return nil, nil, err
	}
	if err := h.wrap(id, kek, dek); err != nil {
		return nil, nil, err
	}
	s, err := NewSealer(dek, h.ObjectID)
	return h, s, err
}

// Open unwraps the data key of h and returns the object's Sealer.
func (kr *Keyring) Open(h *Header) (*Sealer, error) {
	dek, err := kr.unwrap(h)
	if err != nil {
		return nil, err
	}
	return NewSealer(dek, h.ObjectID)
}

func (kr *Keyring) unwrap(h *Header) ([]byte, error) {
	kr.mu.RLock()
	kek, ok := kr.keys[h.KEKID]
	kr.mu.RUnlock()
	if !ok && kr.reload() == nil {
		// `berth keys rotate` may have added the key while this process
		// runs: it re-wraps objects under a key this copy has not seen.
		kr.mu.RLock()
		kek, ok = kr.keys[h.KEKID]
		kr.mu.RUnlock()
	}
	if !ok {
		return nil, &UnknownKeyError{KEKID: h.KEKID, Keyring: kr.path}
	}
	return h.unwrap(kek)
}

// UnknownKeyError is an object whose key-encryption key this keyring
// does not hold, even after rereading its file: the keyring is not the one
// the object was written or last re-wrapped with (a rotation on another
// node with a keyring of its own, or a node given a keyring of its own).
// It is an authentication failure (errors.Is ErrAuth).
type UnknownKeyError struct {
	KEKID   string
	Keyring string // the keyring's file ("" in memory)
}

func (e *UnknownKeyError) Error() string {
	in := "the keyring"
	if e.Keyring != "" {
		in += " " + e.Keyring
	}
	return fmt.Sprintf("crypt: key-encryption key %q is not in %s: %v", e.KEKID, in, ErrAuth)
}

func (e *UnknownKeyError) Unwrap() error { return ErrAuth }

// Rewrap returns a copy of h whose data key is wrapped by the current KEK,
// and whether anything changed. The data itself is untouched.
func (kr *Keyring) Rewrap(h *Header) (*Header, bool, error) {
	cur := kr.Current()
	if h.KEKID == cur {
		return h, false, nil
	}
	dek, err := kr.unwrap(h)
	if err != nil {
		return nil, false, err
	}
	kr.mu.RLock()
	kek := kr.keys[cur]
	kr.mu.RUnlock()
	nh := &Header{ObjectID: h.ObjectID}
	if err := nh.wrap(cur, kek, dek); err != nil {
		return nil, false, err
	}
	return nh, true, nil
}
