package registry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// pullRecorder batches manifest pulls into lastRecordedPullTime writes:
// one store transaction every pullFlushEvery instead of one per GET.
type pullRecorder struct {
	store MetaStore
	log   *slog.Logger

	mu      sync.Mutex
	pending map[pullKey]time.Time
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type pullKey struct{ registry, repo, digest string }

// pullFlushEvery bounds how stale a lastRecordedPullTime can be.
const pullFlushEvery = 2 * time.Second

func newPullRecorder(st MetaStore, log *slog.Logger) *pullRecorder {
	p := &pullRecorder{store: st, log: log, pending: map[pullKey]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *pullRecorder) loop() {
	defer close(p.done)
	t := time.NewTicker(pullFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.flush(context.Background())
		case <-p.stop:
			p.flush(context.Background())
			return
		}
	}
}

// close stops the flusher after a last flush.
func (p *pullRecorder) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

func (p *pullRecorder) flush(ctx context.Context) {
	p.mu.Lock()
	if len(p.pending) == 0 {
		p.mu.Unlock()
		return
	}
	pulls := make([]metadata.Pull, 0, len(p.pending))
	for k, at := range p.pending {
		pulls = append(pulls, metadata.Pull{RegistryID: k.registry, Repository: k.repo, Digest: k.digest, At: at})
	}
	p.pending = map[pullKey]time.Time{}
	p.mu.Unlock()
	if err := p.store.RecordPulls(ctx, pulls); err != nil {
		p.log.Warn("recording pull times", "error", err, "pulls", len(pulls))
	}
}

func (p *pullRecorder) pulled(registryID, repo string, d digest.Digest) {
	p.mu.Lock()
	p.pending[pullKey{registryID, repo, d.String()}] = time.Now()
	p.mu.Unlock()
}
