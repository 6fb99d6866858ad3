package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/metadata"
)

// openStore opens the metadata store of the berth an admin command (iam,
// gc) manages. It never makes one: what is written into a store no server
// reads would be lost, so a missing SQLite file is an error that says
// where berth looked and how to point it elsewhere.
func openStore(ctx context.Context, c *config.Config, opts ...metadata.Option) (metadata.Store, error) {
	if c.Metadata.Engine == "sqlite" && !strings.HasPrefix(c.Metadata.DSN, "file:") {
		if _, err := os.Stat(c.Metadata.DSN); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("metadata.dsn: no metadata store at %s (berth serve makes it at its first start): "+
				"give the server's --config or --data-dir", c.Metadata.DSN)
		}
	}
	// metadata's errors already say "metadata: …".
	return metadata.Open(ctx, c.Metadata.Engine, c.Metadata.DSN, opts...)
}
