package pullthrough

import (
	"sync"
	"time"
)

// expiring is a small map whose entries lapse at a time of their own;
// lapsed entries are swept on each put. The upstream clients pulls share
// and the ECR logins of roles are kept in one each.
type expiring[V any] struct {
	mu sync.Mutex
	m  map[string]expiringEntry[V]
}

type expiringEntry[V any] struct {
	v     V
	until time.Time
}

// get is key's value while it lasts.
func (e *expiring[V]) get(key string, now time.Time) (V, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok || !now.Before(x.until) {
		var zero V
		return zero, false
	}
	return x.v, true
}

// put keeps v for key until until.
func (e *expiring[V]) put(key string, v V, until, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]expiringEntry[V]{}
	}
	for k, x := range e.m {
		if !now.Before(x.until) {
			delete(e.m, k)
		}
	}
	e.m[key] = expiringEntry[V]{v: v, until: until}
}
