package metadata

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// ManifestWrite is one manifest push: the image record, and the tag the
// push moves ("" for a push by digest).
type ManifestWrite struct {
	Image Image
	// Blobs are the canonical digests of the config and layers the
	// manifest references (foreign layers excepted): each must be
	// recorded (RecordBlob, EnsureBlobLinks) and not being collected.
	Blobs []string
	// Alias is the non-canonical digest (sha512:…) the client pushed the
	// manifest by, "" when it used Image.Digest.
	Alias string
	Tag   string
}

// ManifestPut is what PutManifest did.
type ManifestPut struct {
	Created bool // the image is new in the repository
	// Previous is the digest Tag pointed at before ("" when the tag is
	// new or the push had none).
	Previous string
}

// ManifestRef is a manifest as /v2 resolves it: its canonical digest, its
// media type and the size of its bytes.
type ManifestRef struct {
	Digest    string
	MediaType string
	Size      int64
}

// PutManifest records a manifest whose content storage already holds, in
// one transaction: the repository must exist (Kind NotFound, so no push
// lands in a repository deleted meanwhile), every child an index lists
// must be an image of the repository (Kind NotFound, entity "child"), the
// image is inserted or updated, the alias recorded, and the tag moved
// unless tag immutability forbids it (Kind ImmutableTag: then nothing of
// the push is recorded).
func (s *sqlStore) PutManifest(ctx context.Context, w ManifestWrite) (ManifestPut, error) {
	const op = "PutManifest"
	img := w.Image
	if img.RegistryID == "" || img.Repository == "" || img.Digest == "" {
		return ManifestPut{}, newErr(op, Invalid, "image", "registry id, repository and digest are required")
	}
	img.PushedAt = stamp(img.PushedAt)
	var res ManifestPut
	err := s.write(ctx, func(t *tx) error {
		res = ManifestPut{}
		// Lock order repository → image rows → tag, as every writer of
		// images and tags.
		r, err := getRepo(t, op, img.RegistryID, img.Repository, "NO KEY UPDATE")
		if err != nil {
			return err
		}
		if err := childrenExist(t, op, img); err != nil {
			return err
		}
		if res.Created, err = upsertImage(t, op, img); err != nil {
			return err
		}
		// The manifest's own bytes, then what it references: present,
		// not being collected, and now held by this image.
		now := time.Now()
		if err := ensureBlobRow(t, op, img.Digest, img.ManifestSize, now); err != nil {
			return err
		}
		if err := ensureLinkRow(t, op, BlobLink{RegistryID: img.RegistryID, Repository: img.Repository, Digest: img.Digest, Kind: LinkManifest}); err != nil {
			return err
		}
		if err := referenceBlobs(t, op, img, w.Blobs); err != nil {
			return err
		}
		if w.Alias != "" && w.Alias != img.Digest {
			if _, err := t.exec(`INSERT INTO image_aliases (registry_id, repo, alias, digest) VALUES (?, ?, ?, ?)
				ON CONFLICT (registry_id, repo, alias) DO UPDATE SET digest = excluded.digest`,
				img.RegistryID, img.Repository, w.Alias, img.Digest); err != nil {
				return err
			}
		}
		if w.Tag != "" {
			res.Previous, err = moveTag(t, op, r, w.Tag, img.Digest)
		}
		return err
	})
	if err != nil {
		return ManifestPut{}, fail(op, "image", err)
	}
	return res, nil
}

// childrenExist checks, inside t, that every manifest img lists is an
// image (or an alias of one) in its repository, and keeps them so until t
// ends: a concurrent delete of a child waits, then finds it referenced.
func childrenExist(t *tx, op string, img Image) error {
	for _, c := range img.Children {
		if c == img.Digest {
			continue
		}
		ok, err := t.exists("SELECT 1 FROM images WHERE registry_id = ? AND repo = ? AND digest = ?"+t.lock("SHARE"),
			img.RegistryID, img.Repository, c)
		if err == nil && !ok {
			ok, err = t.exists("SELECT 1 FROM image_aliases WHERE registry_id = ? AND repo = ? AND alias = ?"+t.lock("SHARE"),
				img.RegistryID, img.Repository, c)
		}
		if err != nil {
			return err
		}
		if !ok {
			return newErr(op, NotFound, "child", "%s", c)
		}
	}
	return nil
}

// upsertImage inserts img, or updates everything but its pushed and pull
// times when the repository has it; it reports whether it is new.
func upsertImage(t *tx, op string, img Image) (bool, error) {
	n, err := t.execN(`INSERT INTO images (`+imageCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (registry_id, repo, digest) DO NOTHING`,
		img.RegistryID, img.Repository, img.Digest, img.MediaType, img.ArtifactType, img.ManifestSize,
		img.Size, micros(img.PushedAt), micros(img.LastPull), img.Subject, encMap(img.Annotations), encJSON(img.Blobs))
	if err != nil {
		if isForeignKey(err) {
			return false, newErr(op, NotFound, "repository", "%s", img.Repository)
		}
		return false, err
	}
	created := n == 1
	if created {
		if _, err := t.exec("UPDATE repositories SET image_count = image_count + 1 WHERE registry_id = ? AND name = ?",
			img.RegistryID, img.Repository); err != nil {
			return false, err
		}
	} else {
		if _, err := t.exec(`UPDATE images SET media_type = ?, artifact_type = ?, manifest_size = ?, size = ?,
			subject = ?, annotations = ?, blobs = ? WHERE registry_id = ? AND repo = ? AND digest = ?`,
			img.MediaType, img.ArtifactType, img.ManifestSize, img.Size, img.Subject,
			encMap(img.Annotations), encJSON(img.Blobs), img.RegistryID, img.Repository, img.Digest); err != nil {
			return false, err
		}
		if _, err := t.exec("DELETE FROM image_children WHERE registry_id = ? AND repo = ? AND parent = ?",
			img.RegistryID, img.Repository, img.Digest); err != nil {
			return false, err
		}
	}
	return created, insertChildren(t, img.RegistryID, img.Repository, img.Digest, img.Children)
}

// moveTag points tag of repository r at digest inside t and returns the
// digest it pointed at before; Kind ImmutableTag when r's tag mutability
// forbids the move. The image row must be locked or written by t already.
func moveTag(t *tx, op string, r Repository, tag, digest string) (string, error) {
	now := micros(time.Now())
	var previous string
	// Insert, or lock the tag that exists; an Untag committing in
	// between sends us round again.
	for attempt := 1; ; attempt++ {
		n, err := t.execN(`INSERT INTO tags (registry_id, repo, tag, digest, pushed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (registry_id, repo, tag) DO NOTHING`, r.RegistryID, r.Name, tag, digest, now)
		if err != nil || n == 1 {
			return "", err
		}
		err = t.row("SELECT digest FROM tags WHERE registry_id = ? AND repo = ? AND tag = ?"+t.lock("UPDATE"),
			r.RegistryID, r.Name, tag).Scan(&previous)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) || attempt == maxAttempts {
			return "", err
		}
	}
	if previous == digest {
		return previous, nil
	}
	if t.s.tagRule != nil && t.s.tagRule(r, tag) {
		return "", newErr(op, ImmutableTag, "tag", "tag %s in %s is immutable and points at %s", tag, r.Name, previous)
	}
	_, err := t.exec("UPDATE tags SET digest = ?, pushed_at = ? WHERE registry_id = ? AND repo = ? AND tag = ?",
		digest, now, r.RegistryID, r.Name, tag)
	return previous, err
}

// ResolveManifest resolves ref, a tag or a digest (canonical or an
// alias), to the manifest the repository holds (Kind NotFound).
func (s *sqlStore) ResolveManifest(ctx context.Context, registryID, repo, ref string) (ManifestRef, error) {
	const op = "ResolveManifest"
	var m ManifestRef
	err := s.read(ctx, func(t *tx) error {
		var err error
		m, err = resolveManifest(t, registryID, repo, ref)
		if errors.Is(err, sql.ErrNoRows) {
			entity := "image"
			if !strings.Contains(ref, ":") {
				entity = "tag"
			}
			return newErr(op, NotFound, entity, "%s", ref)
		}
		return err
	})
	if err != nil {
		return ManifestRef{}, fail(op, "image", err)
	}
	return m, nil
}

func resolveManifest(t *tx, registryID, repo, ref string) (ManifestRef, error) {
	var m ManifestRef
	const cols = "SELECT i.digest, i.media_type, i.manifest_size FROM "
	if !strings.Contains(ref, ":") { // a tag: digests always have an algorithm
		err := t.row(cols+`tags g JOIN images i ON i.registry_id = g.registry_id AND i.repo = g.repo AND i.digest = g.digest
			WHERE g.registry_id = ? AND g.repo = ? AND g.tag = ?`, registryID, repo, ref).Scan(&m.Digest, &m.MediaType, &m.Size)
		return m, err
	}
	err := t.row(cols+"images i WHERE i.registry_id = ? AND i.repo = ? AND i.digest = ?", registryID, repo, ref).
		Scan(&m.Digest, &m.MediaType, &m.Size)
	if errors.Is(err, sql.ErrNoRows) {
		err = t.row(cols+`image_aliases a JOIN images i ON i.registry_id = a.registry_id AND i.repo = a.repo AND i.digest = a.digest
			WHERE a.registry_id = ? AND a.repo = ? AND a.alias = ?`, registryID, repo, ref).Scan(&m.Digest, &m.MediaType, &m.Size)
	}
	return m, err
}

// ListTags lists repo's tag names in byte order after p.After, at most
// p.Limit; Next is the last tag returned when more follow. A repository
// that does not exist is Kind NotFound; one without tags has none.
func (s *sqlStore) ListTags(ctx context.Context, registryID, repo string, p Page) ([]string, string, error) {
	const op = "ListTags"
	n := limit(p)
	var out []string
	err := s.read(ctx, func(t *tx) error {
		out = nil
		if err := repoExists(t, op, registryID, repo); err != nil {
			return err
		}
		rows, err := t.query("SELECT tag FROM tags WHERE registry_id = ? AND repo = ? AND tag > ? ORDER BY tag LIMIT ?",
			registryID, repo, p.After, n+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var tag string
			if err := rows.Scan(&tag); err != nil {
				return err
			}
			out = append(out, tag)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fail(op, "tag", err)
	}
	out, next := cut(out, n, func(s string) string { return s })
	return out, next, nil
}

// ExpireImage deletes an image, as DeleteImage does, only if it still
// carries exactly tags (a lifecycle policy's evaluation: sorted, nil for
// untagged); otherwise it is Kind Changed and nothing happens.
func (s *sqlStore) ExpireImage(ctx context.Context, registryID, repo, digest string, tags []string) error {
	return s.deleteImage(ctx, "ExpireImage", registryID, repo, digest, tags, true)
}
