package storage

import (
	"context"
	"fmt"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/storage/crypt"
)

// RewrapStats counts what a rotation touched.
type RewrapStats struct{ Rewrapped, Current int }

// Rewrap re-wraps the data key of every stored object under the keyring's
// current key-encryption key, rewriting headers only. Uploads still in
// progress keep the key they started with (their parts are already sealed
// under it) and are re-wrapped by the next rotation after they complete;
// the old key stays in the keyring meanwhile.
func Rewrap(ctx context.Context, d *Driver) (RewrapStats, error) {
	in := d.Inner()
	var st RewrapStats
	err := in.Backend.Walk(ctx, "/", func(fi storagedriver.FileInfo) error {
		if fi.IsDir() {
			return nil
		}
		raw, err := in.Backend.Header(ctx, fi.Path())
		if err != nil {
			return fmt.Errorf("%s: %w", fi.Path(), err)
		}
		h, err := crypt.ParseHeader(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", fi.Path(), err)
		}
		nh, changed, err := in.Keyring.Rewrap(h)
		if err != nil {
			return fmt.Errorf("%s: %w", fi.Path(), err)
		}
		if !changed {
			st.Current++
			return nil
		}
		if err := in.Backend.SetHeader(ctx, fi.Path(), nh.Marshal()); err != nil {
			return fmt.Errorf("%s: %w", fi.Path(), err)
		}
		st.Rewrapped++
		return nil
	})
	if _, ok := err.(storagedriver.PathNotFoundError); ok {
		err = nil // empty store
	}
	return st, err
}
