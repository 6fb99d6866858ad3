package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// keyHealth tells whether this node can decrypt what the registry stores.
// A node holding a keyring of its own answers every blob with an error
// once another node has rotated keys; readiness (503 with the reason), the
// berth_keyring_ready gauge and one log line per change say so, so a load
// balancer takes the node out and an operator knows why.
type keyHealth struct {
	drv *storage.Driver
	m   *metrics.Metrics
	log *slog.Logger

	mu      sync.Mutex
	failing string          // the reason readiness gives, "" when fine
	logged  map[string]bool // unknown key ids already logged from reads
}

func newKeyHealth(drv *storage.Driver, m *metrics.Metrics, log *slog.Logger) *keyHealth {
	k := &keyHealth{drv: drv, m: m, log: log, logged: map[string]bool{}}
	drv.Inner().OnUnknownKey = k.unknownKey
	return k
}

// unknownKeyReason is the readiness reason for a missing key.
func unknownKeyReason(e *crypt.UnknownKeyError) string {
	return fmt.Sprintf("this node cannot decrypt stored objects: key-encryption key %s is not in its keyring %s "+
		"(keys rotated on another node? storage.keyring must be the same on every node)", e.KEKID, e.Keyring)
}

// check is the readiness check: nil when the keyring opens the registry's
// key check object.
func (k *keyHealth) check(ctx context.Context) error {
	err := k.drv.CheckKeys(ctx)
	var uk *crypt.UnknownKeyError
	if err != nil && !errors.As(err, &uk) {
		return fmt.Errorf("storage: %w", err) // the backend, not the keyring
	}
	reason := ""
	if uk != nil {
		reason = unknownKeyReason(uk)
	}
	k.mu.Lock()
	changed := reason != k.failing
	k.failing = reason
	k.mu.Unlock()
	switch {
	case reason != "":
		k.m.KeyringReady.Set(0)
		if changed {
			k.log.Error("keyring: not ready: "+reason, "kek", uk.KEKID, "keyring", uk.Keyring)
		}
		return errors.New(reason)
	case changed:
		k.log.Info("keyring: ready again: this node's keyring opens the stored objects")
	}
	k.m.KeyringReady.Set(1)
	return nil
}

// unknownKey is the driver's report of a read that failed for a missing
// key: counted, and logged once per key id.
func (k *keyHealth) unknownKey(e *crypt.UnknownKeyError) {
	k.m.UnknownKeys.Inc()
	k.mu.Lock()
	first := !k.logged[e.KEKID] && len(k.logged) < 1000
	if first {
		k.logged[e.KEKID] = true
	}
	k.mu.Unlock()
	if first {
		k.log.Error("keyring: a read failed: "+unknownKeyReason(e), "kek", e.KEKID, "keyring", e.Keyring)
	}
}
