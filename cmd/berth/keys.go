package main

import (
	"context"
	"fmt"
	"os"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/node"
	"github.com/berth-registry/berth/storage"
)

// keys rotate: add a new current key-encryption key, then re-wrap the data
// key of every stored object and in-progress upload under it. The data
// itself is not re-encrypted; old keys stay in the keyring so anything not
// yet re-wrapped remains readable.
func keys(args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return fmt.Errorf("%w: berth keys rotate [--config file]", config.ErrUsage)
	}
	c, _, err := loadConfig("keys rotate", args[1:], nil)
	if err != nil {
		return err
	}
	ctx := context.Background()
	drv, _, kr, desc, err := node.OpenStorage(ctx, c, nil)
	if err != nil {
		return err
	}
	id, err := kr.Rotate()
	if err != nil {
		return fmt.Errorf("storage.keyring: %w", err)
	}
	fmt.Fprintf(os.Stderr, "berth: new key-encryption key %s; re-wrapping data keys in %s\n", id, desc)
	st, err := storage.Rewrap(ctx, drv)
	fmt.Fprintf(os.Stderr, "berth: %d objects re-wrapped, %d already current\n", st.Rewrapped, st.Current)
	return err
}
