package registry

import (
	"container/list"
	"sync"

	"github.com/distribution/distribution/v3"
	"github.com/opencontainers/go-digest"
)

// manifestCache keeps recently served manifests by digest, so a HEAD or GET
// of a hot tag costs a store read and no storage read. Content addressing
// makes it safe on every node: a digest names the same bytes forever, and
// whether a repository still holds the manifest is always asked of the
// store first.
type manifestCache struct {
	mu     sync.Mutex
	budget int // bytes of payload kept at most
	used   int
	order  *list.List // front: most recently used
	items  map[digest.Digest]*list.Element
}

type cachedManifest struct {
	dgst digest.Digest
	m    distribution.Manifest
	size int
}

// defaultManifestCacheBytes bounds the cache: about 8,000 typical
// manifests of 4 KiB.
const defaultManifestCacheBytes = 32 << 20

func newManifestCache(budget int) *manifestCache {
	if budget <= 0 {
		budget = defaultManifestCacheBytes
	}
	return &manifestCache{budget: budget, order: list.New(), items: map[digest.Digest]*list.Element{}}
}

func (c *manifestCache) get(d digest.Digest) (distribution.Manifest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[d]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedManifest).m, true
}

// add keeps m (whose payload is size bytes) under d; a manifest larger
// than a quarter of the budget is not kept.
func (c *manifestCache) add(d digest.Digest, m distribution.Manifest, size int) {
	if size > c.budget/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[d]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.items[d] = c.order.PushFront(&cachedManifest{dgst: d, m: m, size: size})
	c.used += size
	for c.used > c.budget {
		last := c.order.Back()
		cm := last.Value.(*cachedManifest)
		c.order.Remove(last)
		delete(c.items, cm.dgst)
		c.used -= cm.size
	}
}
