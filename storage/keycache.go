package storage

import (
	"sync"

	"github.com/berth-registry/berth/storage/crypt"
)

// keyCache keeps the Sealers of recently read objects, keyed by their
// header bytes, so a hot small object (a tag link, a manifest) does not pay
// for unwrapping its data key and setting up AES-GCM on every read. A header
// re-wrapped by a rotation is a new key; the old entry just ages out.
type keyCache struct {
	mu    sync.Mutex
	max   int
	m     map[string]*crypt.Sealer
	order []string // insertion order, for eviction
	next  int
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, m: make(map[string]*crypt.Sealer, max), order: make([]string, 0, max)}
}

func (c *keyCache) get(hdr []byte) *crypt.Sealer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[string(hdr)]
}

func (c *keyCache) put(hdr []byte, s *crypt.Sealer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := string(hdr)
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.order) < c.max {
		c.order = append(c.order, k)
	} else {
		delete(c.m, c.order[c.next])
		c.order[c.next] = k
		c.next = (c.next + 1) % c.max
	}
	c.m[k] = s
}
