package pullthrough

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// leaseTTL bounds how long a node that died mid-fetch blocks the others;
// a live fetch renews its lease.
const leaseTTL = 30 * time.Second

// leasePoll is how often a waiter asks for a held lease again.
const leasePoll = 100 * time.Millisecond

// leaseName names the cluster-wide claim on one fetch of t's repository.
func leaseName(t Target, kind, ref string) string {
	return "pull-through/" + kind + "/" + t.RegistryID + "/" + t.Repo + "@" + ref
}

// take claims the lease name: once (wait=false; release is nil when
// another fetch holds it) or until it is got (wait=true). A held lease is
// renewed until release. Without Leases every claim succeeds.
func (im *Importer) take(ctx context.Context, name string, wait bool) (release func(), err error) {
	if im.Leases == nil {
		return func() {}, nil
	}
	owner := ownerID()
	for {
		got, err := im.Leases.AcquireLease(ctx, name, owner, leaseTTL)
		if err != nil {
			return nil, err
		}
		if got {
			break
		}
		if !wait {
			return nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(leasePoll):
		}
	}
	// Renewal and release outlive a cancelled request: the lease is given
	// back, not left to expire.
	bg := context.WithoutCancel(ctx)
	stop := make(chan struct{})
	go func() {
		tk := time.NewTicker(leaseTTL / 3)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
				_, _ = im.Leases.RenewLease(bg, name, owner, leaseTTL)
			}
		}
	}()
	return func() {
		close(stop)
		_ = im.Leases.ReleaseLease(bg, name, owner)
	}, nil
}

// once runs fetch for (repository, kind, ref) on one node at a time across
// the cluster: the others wait for the lease and then find the content
// there (done), or fetch it themselves when the holder failed.
func (im *Importer) once(ctx context.Context, t Target, kind, ref string, done func() (bool, error), fetch func() error) error {
	release, err := im.take(ctx, leaseName(t, kind, ref), true)
	if err != nil {
		return err
	}
	defer release()
	if ok, err := done(); err != nil || ok {
		return err
	}
	return fetch()
}

// ownerID names one fetch (a lease owner).
func ownerID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "fetch/" + hex.EncodeToString(b[:])
}
