package registry

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// The registry's writes to blob accounting and its upload bookkeeping, one
// place for both paths that write blobs: the /v2 edge and the ECR API's
// in-process calls (ECRBackend).

// recordLink records, before the content work that makes it true, that
// repo links blob canonical (under aliases too). Kind Changed when the
// garbage collector is removing it: the caller answers "retry".
func (m *Meta) recordLink(ctx context.Context, registryID, repo string, canonical digest.Digest, aliases []string, event string) error {
	return m.store.RecordBlob(ctx, metadata.BlobLink{RegistryID: registryID, Repository: repo, Digest: canonical.String(),
		Kind: metadata.LinkLayer}, 0, aliases, event)
}

// noteUpload records (or touches) an upload in progress. A failure only
// delays its purge (distribution's own purger remains the backstop).
func (m *Meta) noteUpload(ctx context.Context, registryID, repo, id string) {
	if id == "" {
		return
	}
	if err := m.store.RecordUpload(ctx, metadata.Upload{ID: id, RegistryID: registryID, Repository: repo}); err != nil {
		m.log.Warn("recording an upload", "repository", repo, "upload", id, "error", err)
	}
}

// forgetUpload drops the record of an upload that completed or was
// cancelled.
func (m *Meta) forgetUpload(ctx context.Context, id string) {
	if id == "" {
		return
	}
	if err := m.store.ForgetUpload(ctx, id); err != nil {
		m.log.Warn("forgetting an upload", "upload", id, "error", err)
	}
}

// uploadLeaseTTL is how long a writer's claim on an upload lasts without
// renewal: a node that dies mid-write blocks the upload this long at most.
const uploadLeaseTTL = 30 * time.Second

// claimUpload lets one request at a time write upload id, across every
// node sharing the store (two writers resuming at one offset would both
// append, and neither upload could complete). ok is false when another
// request holds it; release must be called when ok.
func (m *Meta) claimUpload(ctx context.Context, id, owner string) (release func(), ok bool, err error) {
	name := "upload/" + id
	got, err := m.store.AcquireLease(ctx, name, owner, uploadLeaseTTL)
	if err != nil || !got {
		return nil, false, err
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(uploadLeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// A lost lease cannot stop a write in flight; the offset
				// check of the next request catches any clash.
				_, _ = m.store.RenewLease(context.WithoutCancel(ctx), name, owner, uploadLeaseTTL)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := m.store.ReleaseLease(rctx, name, owner); err != nil {
			m.log.Warn("releasing an upload lease", "upload", id, "error", err)
		}
	}, true, nil
}
