package metadata

import (
	"context"
	"encoding/json"
	"time"
)

// Adoption brings blobs stored before blob accounting existed under it:
// every image gets its references (image_blobs), its blobs and their
// links rows. Until it has run to the end, a collector must not review
// anything (an unadopted image's blobs look unreferenced).

const adoptedFlag = "gc.adopted"

// BlobResolver names the blob an image of repo lists as digest: its
// canonical digest (the digest itself, or what a sha512 name links to)
// and its size (0 when unknown). ok is false when storage does not have
// it (it is then not adopted).
type BlobResolver func(ctx context.Context, registryID, repo, digest string) (canonical string, size int64, ok bool, err error)

// Adopted reports whether adoption has run to the end.
func (s *sqlStore) Adopted(ctx context.Context) (bool, error) {
	var ok bool
	err := s.read(ctx, func(t *tx) (err error) {
		ok, err = flag(t, adoptedFlag)
		return err
	})
	return ok, fail("Adopted", "store", err)
}

// AdoptImages adopts up to limit images not adopted yet and reports
// whether none is left (then adoption is marked done). Images pushed by
// this version are adopted as they are pushed.
func (s *sqlStore) AdoptImages(ctx context.Context, resolve BlobResolver, limit int) (bool, error) {
	const op = "AdoptImages"
	type pending struct {
		registryID, repo, digest, blobs string
		size                            int64
	}
	var batch []pending
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT i.registry_id, i.repo, i.digest, i.blobs, i.manifest_size FROM images i
			WHERE NOT EXISTS (SELECT 1 FROM repository_blobs r WHERE r.registry_id = i.registry_id AND r.repo = i.repo
				AND r.digest = i.digest AND r.kind = ?)
			ORDER BY i.registry_id, i.repo, i.digest LIMIT ?`, string(LinkManifest), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.registryID, &p.repo, &p.digest, &p.blobs, &p.size); err != nil {
				return err
			}
			batch = append(batch, p)
		}
		return rows.Err()
	})
	if err != nil {
		return false, fail(op, "image", err)
	}
	for _, p := range batch {
		var listed []string
		if p.blobs != "" {
			if err := json.Unmarshal([]byte(p.blobs), &listed); err != nil {
				return false, fail(op, "image", err)
			}
		}
		type blob struct {
			digest string
			size   int64
		}
		var blobs []blob
		for _, d := range listed {
			canonical, size, ok, err := resolve(ctx, p.registryID, p.repo, d)
			if err != nil {
				return false, fail(op, "blob", err)
			}
			if ok {
				blobs = append(blobs, blob{canonical, size})
			}
		}
		err := s.write(ctx, func(t *tx) error {
			now := time.Now()
			ok, err := t.exists("SELECT 1 FROM images WHERE registry_id = ? AND repo = ? AND digest = ?"+t.lock("SHARE"),
				p.registryID, p.repo, p.digest)
			if err != nil || !ok {
				return err // deleted meanwhile: nothing to adopt
			}
			if err := ensureBlobRow(t, op, p.digest, p.size, now); err != nil {
				return err
			}
			if err := ensureLinkRow(t, op, BlobLink{RegistryID: p.registryID, Repository: p.repo, Digest: p.digest, Kind: LinkManifest}); err != nil {
				return err
			}
			for _, b := range blobs {
				if err := ensureBlobRow(t, op, b.digest, b.size, now); err != nil {
					return err
				}
				if err := ensureLinkRow(t, op, BlobLink{RegistryID: p.registryID, Repository: p.repo, Digest: b.digest, Kind: LinkLayer}); err != nil {
					return err
				}
				if _, err := t.exec(`INSERT INTO image_blobs (registry_id, repo, image, blob) VALUES (?, ?, ?, ?)
					ON CONFLICT (registry_id, repo, image, blob) DO NOTHING`, p.registryID, p.repo, p.digest, b.digest); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return false, fail(op, "image", err)
		}
	}
	if len(batch) == limit {
		return false, nil
	}
	err = s.write(ctx, func(t *tx) error {
		_, err := t.exec(`INSERT INTO store_state (name, value) VALUES (?, '1')
			ON CONFLICT (name) DO UPDATE SET value = '1'`, adoptedFlag)
		return err
	})
	return err == nil, fail(op, "store", err)
}
