package metadata

import (
	"context"
	"strings"
)

// Image listings are keyset-paginated on the images primary key
// (registry_id, repo, digest) and the tags index (registry_id, repo,
// digest, tag): each page reads about limit+1 index entries past the
// cursor, however deep it is.

// tagFilter is the WHERE fragment selecting images (alias i) by status
// and its argument (the cursor). The subquery repeats the cursor bound so
// that a merge join starts the tags index at the cursor too, not at the
// repository's first tag.
func tagFilter(op string, status TagStatus, after string) (string, []any, error) {
	const tagged = ` EXISTS (SELECT 1 FROM tags t WHERE t.registry_id = i.registry_id AND t.repo = i.repo
		AND t.digest = i.digest AND t.digest > ?)`
	switch status {
	case TagAny, "":
		return "", nil, nil
	case TagTagged:
		return " AND" + tagged, []any{after}, nil
	case TagUntagged:
		return " AND NOT" + tagged, []any{after}, nil
	}
	return "", nil, newErr(op, Invalid, "image", "unknown tag status %q", status)
}

func (s *sqlStore) ListImages(ctx context.Context, registryID, repo string, status TagStatus, p Page) ([]Image, string, error) {
	const op = "ListImages"
	q, args, err := imagesQuery(op, registryID, repo, status, p)
	if err != nil {
		return nil, "", err
	}
	out, err := s.listImages(ctx, registryID, repo, true, q, args...)
	if err != nil {
		return nil, "", fail(op, "image", err)
	}
	out, next := cut(out, limit(p), func(img Image) string { return img.Digest })
	return out, next, nil
}

// imagesQuery is ListImages' query: one page (plus one row) of images in
// digest order after the cursor.
func imagesQuery(op, registryID, repo string, status TagStatus, p Page) (string, []any, error) {
	filter, fargs, err := tagFilter(op, status, p.After)
	if err != nil {
		return "", nil, err
	}
	q := "SELECT " + imageCols + " FROM images i WHERE registry_id = ? AND repo = ? AND digest > ?" + filter +
		" ORDER BY digest LIMIT ?"
	return q, append(append([]any{registryID, repo, p.After}, fargs...), limit(p)+1), nil
}

func (s *sqlStore) Referrers(ctx context.Context, registryID, repo, subject, artifactType string, p Page) ([]Image, string, error) {
	const op = "Referrers"
	if subject == "" {
		return nil, "", nil
	}
	n := limit(p)
	q := "SELECT " + imageCols + " FROM images i WHERE registry_id = ? AND repo = ? AND subject = ? AND digest > ?"
	args := []any{registryID, repo, subject, p.After}
	if artifactType != "" {
		q += " AND artifact_type = ?"
		args = append(args, artifactType)
	}
	q += " ORDER BY digest LIMIT ?"
	args = append(args, n+1)
	out, err := s.listImages(ctx, registryID, repo, false, q, args...)
	if err != nil {
		return nil, "", fail(op, "image", err)
	}
	out, next := cut(out, n, func(img Image) string { return img.Digest })
	return out, next, nil
}

// listImages runs an image query and fills Tags and Children of the rows
// (see fill for dense).
func (s *sqlStore) listImages(ctx context.Context, registryID, repo string, dense bool, q string, args ...any) ([]Image, error) {
	var out []Image
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			img, err := scanImage(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, img)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return fill(t, registryID, repo, out, dense)
	})
	return out, err
}

// idCursor encodes a ListImageIDs position; digests never contain '|'.
func idCursor(id ImageID) string { return id.Digest + "|" + id.Tag }

func (s *sqlStore) ListImageIDs(ctx context.Context, registryID, repo string, status TagStatus, p Page) ([]ImageID, string, error) {
	const op = "ListImageIDs"
	q, args, err := imageIDsQuery(op, registryID, repo, status, p)
	if err != nil {
		return nil, "", err
	}
	var out []ImageID
	err = s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id  ImageID
				tag *string
			)
			if err := rows.Scan(&id.Digest, &tag); err != nil {
				return err
			}
			if tag != nil {
				id.Tag = *tag
			}
			out = append(out, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fail(op, "image", err)
	}
	out, next := cut(out, limit(p), idCursor)
	return out, next, nil
}

// imageIDsQuery is ListImageIDs' query: one page (plus one row) of
// (digest, tag) pairs after the cursor, a NULL tag for untagged images.
func imageIDsQuery(op, registryID, repo string, status TagStatus, p Page) (string, []any, error) {
	var afterDigest, afterTag string
	if p.After != "" {
		var ok bool
		if afterDigest, afterTag, ok = strings.Cut(p.After, "|"); !ok {
			return "", nil, newErr(op, Invalid, "image", "malformed cursor")
		}
	}
	n := limit(p) + 1
	switch status {
	case TagAny, "":
		// An untagged image joins no tag: its one row has a NULL tag and
		// is the only row of its digest. The join repeats the cursor
		// bound for the same reason as tagFilter.
		return `SELECT i.digest, t.tag FROM images i
			LEFT JOIN tags t ON t.registry_id = i.registry_id AND t.repo = i.repo AND t.digest = i.digest AND t.digest >= ?
			WHERE i.registry_id = ? AND i.repo = ? AND i.digest >= ? AND (i.digest > ? OR t.tag > ?)
			ORDER BY i.digest, t.tag LIMIT ?`,
			[]any{afterDigest, registryID, repo, afterDigest, afterDigest, afterTag, n}, nil
	case TagTagged:
		return `SELECT digest, tag FROM tags WHERE registry_id = ? AND repo = ? AND digest >= ? AND (digest > ? OR tag > ?)
			ORDER BY digest, tag LIMIT ?`,
			[]any{registryID, repo, afterDigest, afterDigest, afterTag, n}, nil
	case TagUntagged:
		return `SELECT i.digest, NULL FROM images i WHERE i.registry_id = ? AND i.repo = ? AND i.digest > ?
			AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.registry_id = i.registry_id AND t.repo = i.repo
				AND t.digest = i.digest AND t.digest > ?)
			ORDER BY i.digest LIMIT ?`,
			[]any{registryID, repo, afterDigest, afterDigest, n}, nil
	}
	return "", nil, newErr(op, Invalid, "image", "unknown tag status %q", status)
}
