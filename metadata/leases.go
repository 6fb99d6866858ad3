package metadata

import (
	"context"
	"time"
)

// Leases are named, expiring, exclusive claims through which nodes sharing
// a store coordinate: exactly one node sweeps a repository's lifecycle
// policy at a time, exactly one request writes an upload. A node that dies
// holding one loses it when it expires. The store's clock is the nodes'
// clocks: keep them in step (NTP), as SigV4 already requires.

// AcquireLease takes the lease name for owner until now+ttl when it is
// free, expired, or owner's already (then it is renewed); it reports
// whether owner holds it.
func (s *sqlStore) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	const op = "AcquireLease"
	if name == "" || owner == "" || ttl <= 0 {
		return false, newErr(op, Invalid, "lease", "name, owner and a positive ttl are required")
	}
	now := time.Now()
	var got bool
	err := s.write(ctx, func(t *tx) error {
		n, err := t.execN(`INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
			WHERE leases.expires_at < ? OR leases.owner = excluded.owner`,
			name, owner, micros(now.Add(ttl)), micros(now))
		got = n == 1
		return err
	})
	return got, fail(op, "lease", err)
}

// RenewLease extends owner's lease to now+ttl; false when owner no longer
// holds it (it expired and another took it, or it was released).
func (s *sqlStore) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	const op = "RenewLease"
	var held bool
	err := s.write(ctx, func(t *tx) error {
		n, err := t.execN("UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ?",
			micros(time.Now().Add(ttl)), name, owner)
		held = n == 1
		return err
	})
	return held, fail(op, "lease", err)
}

// ReleaseLease gives up owner's lease (nothing when owner does not hold it).
func (s *sqlStore) ReleaseLease(ctx context.Context, name, owner string) error {
	const op = "ReleaseLease"
	return fail(op, "lease", s.write(ctx, func(t *tx) error {
		_, err := t.exec("DELETE FROM leases WHERE name = ? AND owner = ?", name, owner)
		return err
	}))
}

// PruneLeases removes leases that expired before cutoff (a crashed node's
// upload leases would otherwise stay as rows).
func (s *sqlStore) PruneLeases(ctx context.Context, cutoff time.Time) (int64, error) {
	const op = "PruneLeases"
	var n int64
	err := s.write(ctx, func(t *tx) (err error) {
		n, err = t.execN("DELETE FROM leases WHERE expires_at < ?", micros(cutoff))
		return err
	})
	return n, fail(op, "lease", err)
}
