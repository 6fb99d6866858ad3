package metadata

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"
)

const imageCols = `registry_id, repo, digest, media_type, artifact_type, manifest_size,
	size, pushed_at, last_pull, subject, annotations, blobs`

func scanImage(sc scanner) (Image, error) {
	var (
		img          Image
		pushed, pull int64
		ann, blobs   string
	)
	err := sc.Scan(&img.RegistryID, &img.Repository, &img.Digest, &img.MediaType, &img.ArtifactType,
		&img.ManifestSize, &img.Size, &pushed, &pull, &img.Subject, &ann, &blobs)
	if err != nil {
		return img, err
	}
	img.PushedAt, img.LastPull = fromMicros(pushed), fromMicros(pull)
	if img.Annotations, err = decMap(ann); err != nil {
		return img, err
	}
	img.Blobs, err = decJSON[string](blobs)
	return img, err
}

func (s *sqlStore) PutImage(ctx context.Context, img Image) (bool, error) {
	res, err := s.PutManifest(ctx, ManifestWrite{Image: img})
	if err != nil {
		if e := (*Error)(nil); errors.As(err, &e) {
			e.Op = "PutImage"
		}
		return false, err
	}
	return res.Created, nil
}

// childBatch bounds the rows of one multi-row INSERT (5 values each).
const childBatch = 200

func insertChildren(t *tx, registryID, repo, parent string, children []string) error {
	for start := 0; start < len(children); start += childBatch {
		end := min(start+childBatch, len(children))
		q := "INSERT INTO image_children (registry_id, repo, parent, pos, child) VALUES "
		args := make([]any, 0, 5*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				q += ", "
			}
			q += "(?, ?, ?, ?, ?)"
			args = append(args, registryID, repo, parent, i, children[i])
		}
		if _, err := t.exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) GetImage(ctx context.Context, registryID, repo, digest string) (Image, error) {
	const op = "GetImage"
	var img Image
	err := s.read(ctx, func(t *tx) error {
		var err error
		img, err = scanImage(t.row("SELECT "+imageCols+" FROM images WHERE registry_id = ? AND repo = ? AND digest = ?",
			registryID, repo, digest))
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "image", "%s", digest)
		}
		if err != nil {
			return err
		}
		imgs := []Image{img}
		if err := fill(t, registryID, repo, imgs, false); err != nil {
			return err
		}
		img = imgs[0]
		return nil
	})
	if err != nil {
		return Image{}, fail(op, "image", err)
	}
	return img, nil
}

// fill sets Tags and Children of images of one repository with one
// indexed query each. A page of ListImages (dense: in digest order, and
// the listing read every image between its first and last) takes the
// digest range, two parameters however long the page; other sets take
// digest IN (...).
func fill(t *tx, registryID, repo string, imgs []Image, dense bool) error {
	if len(imgs) == 0 {
		return nil
	}
	at := make(map[string]int, len(imgs))
	for i, img := range imgs {
		at[img.Digest] = i
	}
	args := []any{registryID, repo}
	where := func(col string) string { return col + " IN (" + placeholders(len(imgs)) + ")" }
	if dense {
		args = append(args, imgs[0].Digest, imgs[len(imgs)-1].Digest)
		where = func(col string) string { return col + " >= ? AND " + col + " <= ?" }
	} else {
		for _, img := range imgs {
			args = append(args, img.Digest)
		}
	}
	for _, q := range []struct{ key, query string }{
		{"digest", "SELECT digest, tag FROM tags WHERE registry_id = ? AND repo = ? AND " + where("digest") + " ORDER BY digest, tag"},
		{"parent", "SELECT parent, child FROM image_children WHERE registry_id = ? AND repo = ? AND " + where("parent") + " ORDER BY parent, pos"},
	} {
		rows, err := t.query(q.query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d, v string
			if err := rows.Scan(&d, &v); err != nil {
				rows.Close()
				return err
			}
			i, ok := at[d]
			if !ok {
				continue // in the range, not on the page
			}
			if q.key == "digest" {
				imgs[i].Tags = append(imgs[i].Tags, v)
			} else {
				imgs[i].Children = append(imgs[i].Children, v)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) DeleteImage(ctx context.Context, registryID, repo, digest string) error {
	return s.deleteImage(ctx, "DeleteImage", registryID, repo, digest, nil, false)
}

// deleteImage removes an image with its tags, children and aliases; with
// check, only while its tags are exactly tags (Kind Changed otherwise).
func (s *sqlStore) deleteImage(ctx context.Context, op, registryID, repo, digest string, tags []string, check bool) error {
	err := s.write(ctx, func(t *tx) error {
		if err := repoExists(t, op, registryID, repo); err != nil {
			return err
		}
		// Same lock order as PutManifest: the repository row (its
		// counter) first, then the image.
		n, err := t.execN("UPDATE repositories SET image_count = image_count - 1 WHERE registry_id = ? AND name = ?",
			registryID, repo)
		if err != nil {
			return err
		}
		ok, err := t.exists("SELECT 1 FROM images WHERE registry_id = ? AND repo = ? AND digest = ?"+t.lock("UPDATE"),
			registryID, repo, digest)
		if err != nil {
			return err
		}
		if !ok || n == 0 {
			return newErr(op, NotFound, "image", "%s", digest)
		}
		var parent string
		err = t.row(`SELECT parent FROM image_children WHERE registry_id = ? AND repo = ? AND parent <> ?
			AND (child = ? OR child IN (SELECT alias FROM image_aliases WHERE registry_id = ? AND repo = ? AND digest = ?)) LIMIT 1`,
			registryID, repo, digest, digest, registryID, repo, digest).Scan(&parent)
		if err == nil {
			return newErr(op, Referenced, "image", "%s is referenced by %s", digest, parent)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if check {
			imgs := []Image{{Digest: digest}}
			if err := fill(t, registryID, repo, imgs, false); err != nil {
				return err
			}
			if !slices.Equal(imgs[0].Tags, tags) {
				return newErr(op, Changed, "image", "%s now has tags %v, not %v", digest, imgs[0].Tags, tags)
			}
		}
		if err := s.queueImageBlobs(t, registryID, repo, digest, EventImageDeleted); err != nil {
			return err
		}
		for _, q := range []string{
			"DELETE FROM tags WHERE registry_id = ? AND repo = ? AND digest = ?",
			"DELETE FROM image_children WHERE registry_id = ? AND repo = ? AND parent = ?",
			"DELETE FROM image_aliases WHERE registry_id = ? AND repo = ? AND digest = ?",
			"DELETE FROM images WHERE registry_id = ? AND repo = ? AND digest = ?",
		} {
			if _, err := t.exec(q, registryID, repo, digest); err != nil {
				return err
			}
		}
		return nil
	})
	return fail(op, "image", err)
}

func (s *sqlStore) RecordPulls(ctx context.Context, pulls []Pull) error {
	const op = "RecordPulls"
	if len(pulls) == 0 {
		return nil
	}
	// A fixed order keeps concurrent batches from deadlocking on
	// PostgreSQL.
	pulls = slices.Clone(pulls)
	slices.SortFunc(pulls, func(a, b Pull) int {
		return cmp.Or(cmp.Compare(a.RegistryID, b.RegistryID), cmp.Compare(a.Repository, b.Repository),
			cmp.Compare(a.Digest, b.Digest))
	})
	err := s.write(ctx, func(t *tx) error {
		for _, p := range pulls {
			at := p.At
			if at.IsZero() {
				at = time.Now()
			}
			if _, err := t.exec("UPDATE images SET last_pull = ? WHERE registry_id = ? AND repo = ? AND digest = ? AND last_pull < ?",
				micros(at), p.RegistryID, p.Repository, p.Digest, micros(at)); err != nil {
				return err
			}
		}
		return nil
	})
	return fail(op, "image", err)
}

func (s *sqlStore) ImagesReferencing(ctx context.Context, registryID, repo, digest string) ([]string, error) {
	const op = "ImagesReferencing"
	var out []string
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT DISTINCT parent FROM image_children WHERE registry_id = ? AND repo = ?
			AND (child = ? OR child IN (SELECT alias FROM image_aliases WHERE registry_id = ? AND repo = ? AND digest = ?)) ORDER BY parent`,
			registryID, repo, digest, registryID, repo, digest)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fail(op, "image", err)
	}
	return out, nil
}
