package gc

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// adoptLease is held by the one node adopting at a time.
const adoptLease = "gc/adopt"

// Adopt brings images stored before blob accounting under it (a batch at a
// time, by one node), and reports whether that is done; until it is, no
// review runs.
func (c *Collector) Adopt(ctx context.Context) (bool, error) {
	done, err := c.Store.Adopted(ctx)
	if err != nil || done {
		return done, err
	}
	got, err := c.Store.AcquireLease(ctx, adoptLease, c.owner(), claimTTL)
	if err != nil || !got {
		return false, err
	}
	defer func() { _ = c.Store.ReleaseLease(context.WithoutCancel(ctx), adoptLease, c.owner()) }()
	start := c.now()
	for {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		done, err := c.Store.AdoptImages(ctx, c.resolve, batch)
		if err != nil {
			return false, err
		}
		if done {
			c.log().Info("gc: blobs stored before blob accounting adopted; collection starts", "took", time.Since(start).Round(time.Millisecond))
			return true, nil
		}
		if c.now().Sub(start) > claimTTL/2 {
			return false, nil // the lease would lapse: go on next pass
		}
	}
}

// resolve names a blob an image lists: a sha256 digest is its own storage
// name; another (sha512) leads there through the repository's link.
func (c *Collector) resolve(ctx context.Context, _, repo, ref string) (string, int64, bool, error) {
	d, err := digest.Parse(ref)
	if err != nil {
		return "", 0, false, nil
	}
	if d.Algorithm() != digest.Canonical {
		b, err := c.Driver.GetContent(ctx, path.Join(linkPath(repo, metadata.LinkLayer, d), "link"))
		if isNotFound(err) {
			return "", 0, false, nil
		}
		if err != nil {
			return "", 0, false, err
		}
		if d, err = digest.Parse(strings.TrimSpace(string(b))); err != nil {
			return "", 0, false, nil
		}
	}
	fi, err := c.Driver.Stat(ctx, path.Join(blobDir(d), "data"))
	if isNotFound(err) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	return d.String(), fi.Size(), true, nil
}

func isNotFound(err error) bool {
	var pnf storagedriver.PathNotFoundError
	return errors.As(err, &pnf)
}
