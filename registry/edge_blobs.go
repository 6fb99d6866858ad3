package registry

import (
	"context"
	"net/http"
	"net/url"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// Blob accounting at the edge. Every request that creates, names or asks
// about a blob tells the store first, so the garbage collector (which
// marks what it removes before it touches storage) and the writers never
// miss each other:
//
//   - an upload's completion and a mount record the repository's link
//     before distribution writes it (a blob named by a sha512 digest only
//     after, once its sha256 name is known);
//   - a blob HEAD or GET (a client deciding whether to upload it) pushes
//     a near review out, and answers BLOB_UNKNOWN for a blob being
//     collected, so the client uploads it again;
//   - uploads are recorded from start to completion or cancel, so
//     abandoned ones are purged without walking the storage.

// retryLater answers 503 with a registry error and Retry-After: a
// collector is removing what the request needs, for a few seconds.
func retryLater(w http.ResponseWriter, what string) {
	w.Header().Set("Retry-After", "5")
	serveError(w, errcode.ErrorCodeUnavailable.WithDetail(what+" is being garbage collected; retry"))
}

// registryOf is the registry the gate resolved for the request.
func registryOf(ctx context.Context) string {
	ri, _ := infoFrom(ctx)
	return ri.RegistryID
}

// serveBlob serves a blob GET or HEAD after telling the store a client
// asked for it; a blob stored before accounting began is adopted once it
// is seen to be there.
func (e *edge) serveBlob(w http.ResponseWriter, r *http.Request, name, ref string) {
	ctx := r.Context()
	reg := registryOf(ctx)
	_, err := e.meta.store.TouchBlob(ctx, reg, name, ref)
	adopt := false
	switch {
	case err == nil:
	case metadata.Is(err, metadata.Changed):
		serveError(w, errcode.ErrorCodeBlobUnknown.WithDetail(ref))
		return
	case metadata.Is(err, metadata.NotFound):
		adopt = true
	default:
		e.fail(w, "looking up the blob", err, "repository", name, "digest", ref)
		return
	}
	alias := nonCanonical(ref)
	if !adopt && alias == "" {
		if e.serveBlobBody(w, r, name, ref) {
			return
		}
		e.app.ServeHTTP(w, r)
		return
	}
	e.app.ServeHTTP(hookHeaders(w, func(code int, h http.Header) {
		if code != http.StatusOK {
			return
		}
		if adopt {
			// Stored before blob accounting (or its row is otherwise
			// missing): from now on the store knows it.
			canonical := digest.Digest(h.Get("Docker-Content-Digest"))
			var aliases []string
			if alias != "" {
				aliases = []string{alias.String()}
			}
			if canonical.Validate() == nil {
				err := e.meta.store.RecordBlob(ctx, metadata.BlobLink{RegistryID: reg, Repository: name, Digest: canonical.String(),
					Kind: metadata.LinkLayer}, 0, aliases, metadata.EventAdopted)
				if err != nil {
					e.log.Warn("adopting a blob stored before accounting", "repository", name, "digest", canonical, "error", err)
				}
			}
		}
		if alias != "" {
			// The App serves the blob through the alias link but names
			// it by its sha256 digest.
			presentAs(h, alias)
		}
	}), r)
}

// startUpload passes a POST that starts an upload to the App and records
// the upload it starts.
func (e *edge) startUpload(w http.ResponseWriter, r *http.Request, name string) {
	rec := newBufferedResponse()
	e.app.ServeHTTP(rec, r)
	if rec.code == http.StatusAccepted {
		e.noteUpload(r.Context(), name, rec.Header().Get("Docker-Upload-UUID"))
	}
	rec.sendTo(w)
}

// recordLink records the link a completed upload or a mount makes, before
// distribution writes it; false when it answered (503) instead.
func (e *edge) recordLink(w http.ResponseWriter, r *http.Request, name string, canonical digest.Digest, aliases []string, event string) bool {
	err := e.meta.recordLink(r.Context(), registryOf(r.Context()), name, canonical, aliases, event)
	switch {
	case err == nil:
		return true
	case metadata.Is(err, metadata.Changed):
		retryLater(w, "the blob "+canonical.String())
	default:
		e.fail(w, "recording the blob", err, "repository", name, "digest", canonical)
	}
	return false
}

func (e *edge) noteUpload(ctx context.Context, name, id string) {
	e.meta.noteUpload(ctx, registryOf(ctx), name, id)
}

func (e *edge) forgetUpload(ctx context.Context, id string) { e.meta.forgetUpload(ctx, id) }

// patchUpload passes a PATCH to the App and touches the upload's record.
func (e *edge) patchUpload(w http.ResponseWriter, r *http.Request, name, id string) {
	e.app.ServeHTTP(hookHeaders(w, func(code int, _ http.Header) {
		if code == http.StatusAccepted {
			e.noteUpload(r.Context(), name, id)
		}
	}), r)
}

// cancelUpload passes an upload's DELETE to the App and forgets it.
func (e *edge) cancelUpload(w http.ResponseWriter, r *http.Request, id string) {
	e.app.ServeHTTP(hookHeaders(w, func(code int, _ http.Header) {
		if code == http.StatusNoContent {
			e.forgetUpload(r.Context(), id)
		}
	}), r)
}

// completeUpload passes the closing PUT of an upload to the App, recording
// the blob's link first. distribution verifies a non-canonical ?digest=
// itself (re-hashing the upload) and links it as an alias, but answers
// with the sha256 digest; the edge records both names then and answers
// with the digest the client asked for.
func (e *edge) completeUpload(w http.ResponseWriter, r *http.Request, name, id string) {
	d, err := digest.Parse(r.URL.Query().Get("digest"))
	if err != nil {
		e.app.ServeHTTP(w, r) // the App answers DIGEST_INVALID
		return
	}
	alias := nonCanonical(d.String())
	if alias == "" && !e.recordLink(w, r, name, d, nil, metadata.EventUpload) {
		return
	}
	rec := newBufferedResponse()
	e.app.ServeHTTP(rec, r)
	if rec.code == http.StatusCreated {
		if alias != "" {
			// Only now is the sha256 name known.
			canonical := digest.Digest(rec.Header().Get("Docker-Content-Digest"))
			if canonical.Validate() != nil || !e.recordLink(w, r, name, canonical, []string{alias.String()}, metadata.EventUpload) {
				if canonical.Validate() != nil {
					e.fail(w, "completing the upload", errNoCanonical, "repository", name, "digest", alias)
				}
				return
			}
			presentAs(rec.Header(), alias)
		}
		e.forgetUpload(r.Context(), id)
	}
	rec.sendTo(w)
}

// mountBlob handles a cross-repository mount, recording the target's link
// first. For a blob named by a non-canonical digest distribution would
// link that digest to itself (a link to a blob it never stores, so the
// mounted blob answers 500); the edge instead mounts the sha256 blob the
// source repository's alias links to and links the alias in the target
// repository as an upload would have.
func (e *edge) mountBlob(w http.ResponseWriter, r *http.Request, name string, q url.Values) {
	ctx := r.Context()
	from := q.Get("from")
	d, err := digest.Parse(q.Get("mount"))
	if err != nil || from == "" {
		e.startUpload(w, r, name) // anonymous or malformed: an upload session
		return
	}
	// A blob being collected in the source is not mounted: the client
	// uploads it.
	if _, err := e.meta.store.TouchBlob(ctx, registryOf(ctx), from, d.String()); metadata.Is(err, metadata.Changed) {
		e.startUpload(w, r, name)
		return
	}
	alias := nonCanonical(d.String())
	canonical := d
	if alias != "" {
		if e.ns == nil {
			e.startUpload(w, r, name)
			return
		}
		if canonical, err = e.canonicalBlob(ctx, from, alias); err != nil {
			// Not in the source (or no such repository): an upload
			// session, as for any mount the App cannot do.
			e.startUpload(w, r, name)
			return
		}
	}
	var aliases []string
	if alias != "" {
		aliases = []string{alias.String()}
	}
	if !e.recordLink(w, r, name, canonical, aliases, metadata.EventMount) {
		return
	}
	fwd := r
	if alias != "" {
		fwd = r.Clone(ctx)
		fq := fwd.URL.Query()
		fq.Set("mount", canonical.String())
		fwd.URL.RawQuery = fq.Encode()
		fwd.RequestURI = fwd.URL.RequestURI()
	}
	rec := newBufferedResponse()
	e.app.ServeHTTP(rec, fwd)
	switch rec.code {
	case http.StatusCreated:
		if alias != "" {
			if err := e.aliases.linkBlob(ctx, name, alias, canonical); err != nil {
				e.fail(w, "linking the mounted blob's digest alias", err, "repository", name, "digest", alias)
				return
			}
			presentAs(rec.Header(), alias)
		}
	case http.StatusAccepted:
		// Not mounted after all: an upload session started instead.
		e.noteUpload(ctx, name, rec.Header().Get("Docker-Upload-UUID"))
	}
	rec.sendTo(w)
}
