package storage

import (
	"context"
	"errors"
	"fmt"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/storage/crypt"
)

// keyCheckPath is a small object outside distribution's tree whose data
// key tells whether this node's keyring opens what the registry stores. A
// rotation re-wraps it like every object, so after `berth keys rotate` on
// any node it names the newest key-encryption key.
const keyCheckPath = "/berth/keyring-check"

// CheckKeys reports whether this node can decrypt the registry's objects:
// it unwraps the data key of the key check object, writing that object
// under the current key first if there is none. When the object's
// key-encryption key is not in this node's keyring (the keyring rereads
// its file first) the error is a *crypt.UnknownKeyError. Readiness uses
// it: a node that cannot decrypt must not take traffic.
func (d *Driver) CheckKeys(ctx context.Context) error {
	in := d.Inner()
	hdr, err := in.Backend.Header(ctx, keyCheckPath)
	if errors.As(err, new(storagedriver.PathNotFoundError)) {
		if err := in.PutContent(ctx, keyCheckPath, []byte("berth keyring check\n")); err != nil {
			return fmt.Errorf("writing the keyring check: %w", err)
		}
		hdr, err = in.Backend.Header(ctx, keyCheckPath)
	}
	if err != nil {
		return fmt.Errorf("reading the keyring check: %w", err)
	}
	h, err := crypt.ParseHeader(hdr)
	if err != nil {
		return fmt.Errorf("the keyring check %s: %w", keyCheckPath, err)
	}
	// Not through the driver's data-key cache: the question is whether
	// the keyring holds the key now.
	_, err = in.Keyring.Open(h)
	return err
}
