package registry

import (
	"context"
	"errors"
	"path"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"
)

// digestAliases lets content addressed by a non-canonical digest (sha512)
// live in distribution's sha256-only store.
//
// distribution stores every blob and manifest under its sha256 digest. For
// blobs it already keeps an alias: an upload completed with ?digest=sha512:…
// links both digests in the repository (_layers/<alg>/<hex>/link holds the
// canonical digest), and reads follow such a link. Manifests have no such
// path, so the edge stores a sha512 manifest under its sha256 digest and
// writes the same kind of link for the alias:
//
//	repositories/<name>/_manifests/revisions/sha512/<hex>/link = "sha256:…"
//
// which distribution's manifest store then resolves for GET, HEAD and for
// the existence checks of image indexes. A reverse record
//
//	repositories/<name>/_manifest_aliases/sha256/<hex>/sha512/<hex>
//
// lets a DELETE by any of the digests remove all of them.
type digestAliases struct {
	driver storagedriver.StorageDriver
}

func manifestLinkPath(repo string, d digest.Digest) string {
	return path.Join(repositoriesRoot, repo, "_manifests", "revisions", d.Algorithm().String(), d.Encoded(), "link")
}

func layerLinkPath(repo string, d digest.Digest) string {
	return path.Join(repositoriesRoot, repo, "_layers", d.Algorithm().String(), d.Encoded(), "link")
}

func (a *digestAliases) reverseDir(repo string, canonical digest.Digest) string {
	return path.Join(repositoriesRoot, repo, "_manifest_aliases", canonical.Algorithm().String(), canonical.Encoded())
}

// addManifest links alias to the stored manifest canonical. The reverse
// record goes first, so there is never a link a DELETE could not find.
func (a *digestAliases) addManifest(ctx context.Context, repo string, canonical, alias digest.Digest) error {
	rev := path.Join(a.reverseDir(repo, canonical), alias.Algorithm().String(), alias.Encoded())
	if err := a.driver.PutContent(ctx, rev, []byte(alias.String())); err != nil {
		return err
	}
	return a.driver.PutContent(ctx, manifestLinkPath(repo, alias), []byte(canonical.String()))
}

// manifestAliases lists the aliases recorded for canonical.
func (a *digestAliases) manifestAliases(ctx context.Context, repo string, canonical digest.Digest) ([]digest.Digest, error) {
	algDirs, err := a.driver.List(ctx, a.reverseDir(repo, canonical))
	if isPathNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, dir := range algDirs {
		files, err := a.driver.List(ctx, dir)
		if isPathNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			d := digest.NewDigestFromEncoded(digest.Algorithm(path.Base(dir)), path.Base(f))
			if d.Validate() == nil {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// removeManifest deletes the alias links of canonical and their records.
func (a *digestAliases) removeManifest(ctx context.Context, repo string, canonical digest.Digest, aliases []digest.Digest) error {
	var errs []error
	for _, d := range aliases {
		if err := a.driver.Delete(ctx, path.Dir(manifestLinkPath(repo, d))); err != nil && !isPathNotFound(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := a.driver.Delete(ctx, a.reverseDir(repo, canonical)); err != nil && !isPathNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// linkBlob makes the blob canonical reachable in repo as alias, the link an
// upload completed with ?digest=<alias> would have written.
func (a *digestAliases) linkBlob(ctx context.Context, repo string, alias, canonical digest.Digest) error {
	return a.driver.PutContent(ctx, layerLinkPath(repo, alias), []byte(canonical.String()))
}
