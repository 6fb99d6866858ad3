package iam

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// DefaultLastUsedEvery is how stale a role's recorded last use may get.
const DefaultLastUsedEvery = time.Minute

// maxLastUsed bounds the remembered roles; past it the memory starts over.
const maxLastUsed = 10000

// LastUsed records when a role was last used (IAM's RoleLastUsed): a
// session of it created or making an authorized request. A node writes
// at most once per role per Every, so a busy role costs no store write
// per request; the recorded date lags the true one by at most Every.
type LastUsed struct {
	Store metadata.Store
	// Region is where this node serves (RoleLastUsed.Region).
	Region string
	// Every is the write interval per role (DefaultLastUsedEvery when 0).
	Every time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger

	mu      sync.Mutex
	written map[string]time.Time
}

// Record notes a use of role now. A failure to write is logged, never
// returned: it must not fail the request that used the role.
func (l *LastUsed) Record(ctx context.Context, role string) {
	if l == nil || role == "" {
		return
	}
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	every := l.Every
	if every <= 0 {
		every = DefaultLastUsedEvery
	}
	l.mu.Lock()
	if at, ok := l.written[role]; ok && now.Sub(at) < every {
		l.mu.Unlock()
		return
	}
	if l.written == nil || len(l.written) >= maxLastUsed {
		l.written = map[string]time.Time{}
	}
	l.written[role] = now
	l.mu.Unlock()
	err := l.Store.PrincipalUsed(context.WithoutCancel(ctx), role, now, l.Region)
	if err != nil && !metadata.Is(err, metadata.NotFound) && l.Log != nil {
		l.Log.LogAttrs(ctx, slog.LevelWarn, "iam: recording a role's last use failed", slog.String("role", role), slog.String("error", err.Error()))
	}
}
