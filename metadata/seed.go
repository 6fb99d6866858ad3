package metadata

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// SeedImages fills repo (created when missing) with n synthetic images for
// benchmarks: image i has a deterministic digest and, for even i, the tag
// "v<i>". Seeding again is a no-op for images already there. On this
// package's stores it uses batched multi-row inserts in one transaction,
// so 10,000 images take well under a second on SQLite.
func SeedImages(ctx context.Context, st Store, registryID, repo string, n int) error {
	if _, err := st.CreateRepository(ctx, Repository{RegistryID: registryID, Name: repo}); err != nil && !Is(err, AlreadyExists) {
		return err
	}
	imgs := make([]Image, n)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range imgs {
		imgs[i] = Image{
			RegistryID:   registryID,
			Repository:   repo,
			Digest:       seedDigest(registryID, repo, "manifest", i),
			MediaType:    "application/vnd.oci.image.manifest.v1+json",
			ArtifactType: "application/vnd.oci.image.config.v1+json",
			ManifestSize: 1024,
			Size:         int64(1<<20 + i),
			PushedAt:     base.Add(time.Duration(i) * time.Second),
			Blobs:        []string{seedDigest(registryID, repo, "config", i), seedDigest(registryID, repo, "layer", i)},
		}
		if i%2 == 0 {
			imgs[i].Tags = []string{fmt.Sprintf("v%d", i)}
		}
	}
	s, ok := st.(*sqlStore)
	if !ok {
		return seedSlow(ctx, st, imgs)
	}
	err := s.write(ctx, func(t *tx) error {
		added, err := insertBatched(t, "images", imageCols, 12, len(imgs), func(i int) []any {
			img := imgs[i]
			return []any{img.RegistryID, img.Repository, img.Digest, img.MediaType, img.ArtifactType, img.ManifestSize,
				img.Size, micros(img.PushedAt), int64(0), "", "", encJSON(img.Blobs)}
		}, "ON CONFLICT (registry_id, repo, digest) DO NOTHING")
		if err != nil {
			return err
		}
		if _, err := t.exec("UPDATE repositories SET image_count = image_count + ? WHERE registry_id = ? AND name = ?",
			added, registryID, repo); err != nil {
			return err
		}
		var tagged []Image
		for _, img := range imgs {
			if len(img.Tags) > 0 {
				tagged = append(tagged, img)
			}
		}
		_, err = insertBatched(t, "tags", "registry_id, repo, tag, digest, pushed_at", 5, len(tagged), func(i int) []any {
			img := tagged[i]
			return []any{img.RegistryID, img.Repository, img.Tags[0], img.Digest, micros(img.PushedAt)}
		}, "ON CONFLICT (registry_id, repo, tag) DO NOTHING")
		return err
	})
	if err == nil && s.engine == "postgres" {
		// Fresh statistics, as autovacuum would gather them after a
		// while: without them the planner takes the new rows for none.
		_, err = s.db.ExecContext(ctx, "ANALYZE images, tags")
	}
	return fail("SeedImages", "image", err)
}

// insertBatched inserts n rows of width values in multi-row INSERTs of at
// most 4,000 values each (within both engines' parameter limits) and
// returns the number of rows inserted.
func insertBatched(t *tx, table, cols string, width, n int, row func(int) []any, suffix string) (int64, error) {
	per := 4000 / width
	row1 := "(" + placeholders(width) + ")"
	var total int64
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		args := make([]any, 0, width*(end-start))
		for i := start; i < end; i++ {
			args = append(args, row(i)...)
		}
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row1+", ", end-start), ", ") + " " + suffix
		added, err := t.execN(q, args...)
		if err != nil {
			return total, err
		}
		total += added
	}
	return total, nil
}

// seedSlow seeds through the Store interface, one image at a time.
func seedSlow(ctx context.Context, st Store, imgs []Image) error {
	for _, img := range imgs {
		if _, err := st.PutImage(ctx, img); err != nil {
			return err
		}
		for _, tag := range img.Tags {
			if _, err := st.TagImage(ctx, img.RegistryID, img.Repository, tag, img.Digest); err != nil {
				return err
			}
		}
	}
	return nil
}

func seedDigest(registryID, repo, kind string, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%s/%d", registryID, repo, kind, i))
	return "sha256:" + hex.EncodeToString(sum[:])
}
