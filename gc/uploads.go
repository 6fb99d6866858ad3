package gc

import (
	"context"
	"time"
)

// PurgeUploads aborts the uploads idle for longer than PurgeAge (on S3,
// deleting an upload's directory aborts its multipart upload) and returns
// how many. An upload written to meanwhile, or being written now (its
// writer holds the upload's lease), is left alone.
func (c *Collector) PurgeUploads(ctx context.Context) (int, error) {
	if c.PurgeAge <= 0 {
		return 0, nil
	}
	n := 0
	for {
		now := c.now()
		idleSince := now.Add(-c.PurgeAge)
		ups, err := c.Store.ClaimIdleUploads(ctx, idleSince, now, c.owner(), claimTTL, batch)
		if err != nil {
			return n, err
		}
		for _, u := range ups {
			lease := "upload/" + u.ID
			got, err := c.Store.AcquireLease(ctx, lease, "gc/"+c.owner(), time.Minute)
			if err != nil {
				return n, err
			}
			if !got {
				continue // a request is writing it
			}
			gone, err := c.Store.ForgetIdleUpload(ctx, u.ID, idleSince)
			if err == nil && gone {
				if err = c.delete(ctx, uploadDir(u.Repository, u.ID)); err == nil {
					n++
					if c.Metrics != nil {
						c.Metrics.UploadsPurged.Inc()
					}
					c.log().Info("gc: purged an abandoned upload", "repository", u.Repository, "upload", u.ID,
						"idle", now.Sub(u.LastActivity).Round(time.Second))
				}
			}
			_ = c.Store.ReleaseLease(context.WithoutCancel(ctx), lease, "gc/"+c.owner())
			if err != nil {
				return n, err
			}
		}
		if len(ups) < batch {
			return n, nil
		}
	}
}
