package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	v2 "github.com/distribution/distribution/v3/registry/api/v2"
	"github.com/distribution/distribution/v3/registry/storage"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/gorilla/mux"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// edge wraps the App with what distribution v3.1.2 cannot do itself:
//
//   - the referrers API (GET /v2/<name>/referrers/<digest>), answered from
//     the metadata store, and the OCI-Subject header on the PUT of a
//     manifest with a subject;
//   - manifest DELETE with the store deciding (ECR's semantics: an image an
//     index lists stays);
//   - content addressed by a non-canonical digest (sha512): see
//     digestAliases; the edge verifies such manifests itself, stores them
//     under their sha256 digest, and presents every response in the
//     digest the client used;
//   - single-request blob uploads (POST ?digest= with the blob as body),
//     which distribution accepts but ignores.
//
// Everything else goes to the App untouched. The requests the edge makes of
// the App on a client's behalf carry the client's headers, so they are
// authorized like the client's own; the referrers route never reaches the
// App, so whatever authorizes /v2/ must do it in front of the edge (it is a
// pull of <name>).
func (s *Server) edge(app http.Handler) http.Handler {
	log := s.opts.Log
	if log == nil {
		log = slog.Default()
	}
	drv := s.opts.App.Driver
	e := &edge{
		app:     app,
		routes:  s.routes,
		meta:    s.opts.App.Meta,
		aliases: &digestAliases{driver: drv},
		driver:  drv,
		log:     log,
	}
	// A Namespace of our own over the App's driver, for reads only (the
	// canonical digest of a blob to mount). It cannot fail without options.
	ns, err := storage.NewRegistry(context.Background(), drv)
	if err != nil {
		log.Error("registry edge: no namespace; sha512 mounts are off", "error", err)
	}
	e.ns = ns
	return e
}

type edge struct {
	app     http.Handler
	routes  *mux.Router
	ns      distribution.Namespace
	meta    *Meta
	aliases *digestAliases
	driver  storagedriver.StorageDriver
	log     *slog.Logger
}

// maxManifestBody is distribution's limit for a manifest PUT body.
const maxManifestBody = 4 << 20

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ref, ok := referrersPath(r.URL.Path); ok {
		e.serveReferrers(w, r, name, ref)
		return
	}
	m := routeOf(e.routes, r)
	if m.name == "" {
		e.app.ServeHTTP(w, r)
		return
	}
	name := m.vars["name"]
	switch m.name {
	case v2.RouteNameManifest:
		switch r.Method {
		case http.MethodPut:
			e.putManifest(w, r, name, m.vars["reference"])
			return
		case http.MethodDelete:
			e.deleteManifest(w, r, name, m.vars["reference"])
			return
		}
	case v2.RouteNameBlob:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			e.serveBlob(w, r, name, m.vars["digest"])
			return
		}
	case v2.RouteNameBlobUpload:
		if r.Method == http.MethodPost {
			q := r.URL.Query()
			switch {
			case q.Get("mount") != "":
				e.mountBlob(w, r, name, q)
			case q.Has("digest"):
				defer readAhead(r)()
				e.singlePostUpload(w, r, name, q.Get("digest"))
			default:
				e.startUpload(w, r, name)
			}
			return
		}
	case v2.RouteNameBlobUploadChunk:
		switch r.Method {
		case http.MethodPut:
			defer readAhead(r)()
			e.completeUpload(w, r, name, m.vars["uuid"])
			return
		case http.MethodPatch:
			defer readAhead(r)()
			e.patchUpload(w, r, name, m.vars["uuid"])
			return
		case http.MethodDelete:
			e.cancelUpload(w, r, m.vars["uuid"])
			return
		}
	}
	e.app.ServeHTTP(w, r)
}

// errNoCanonical: distribution completed an upload without naming it.
var errNoCanonical = errors.New("the registry answered without a Docker-Content-Digest")

// nonCanonical returns ref as a digest when it is a valid digest of another
// algorithm than distribution's sha256.
func nonCanonical(ref string) digest.Digest {
	d, err := digest.Parse(ref)
	if err != nil || d.Algorithm() == digest.Canonical {
		return ""
	}
	return d
}

// putManifest passes a manifest PUT to the App and, once it is stored,
// sets OCI-Subject for a manifest with a subject. A PUT by a non-canonical
// digest is verified here and stored by its sha256 digest, with an alias
// link (content, written first) for the digest the client used.
func (e *edge) putManifest(w http.ResponseWriter, r *http.Request, name, ref string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestBody+1))
	if err != nil {
		serveError(w, errcode.ErrorCodeManifestInvalid.WithDetail("reading the request body: "+err.Error()))
		return
	}
	if len(body) > maxManifestBody {
		// Too large: the App rejects it; hand it over unread.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		e.app.ServeHTTP(w, r)
		return
	}
	canonical := digest.Canonical.FromBytes(body)
	var alias digest.Digest
	if d, err := digest.Parse(ref); err == nil && d.Algorithm() != digest.Canonical {
		if d.Algorithm().FromBytes(body) != d {
			serveError(w, errcode.ErrorCodeDigestInvalid.WithDetail("manifest content does not match "+d.String()))
			return
		}
		alias = d
	}
	var fields manifestFields
	if json.Unmarshal(body, &fields) != nil {
		fields = manifestFields{} // not JSON: the App rejects it
	}
	if fields.Subject != nil {
		if err := fields.Subject.Digest.Validate(); err != nil {
			serveError(w, errcode.ErrorCodeManifestInvalid.WithDetail("subject: invalid digest "+strconv.Quote(fields.Subject.Digest.String())+": "+err.Error()))
			return
		}
	}

	ctx := r.Context()
	fwd := r.Clone(ctx)
	fwd.Body = io.NopCloser(bytes.NewReader(body))
	fwd.ContentLength = int64(len(body))
	if alias != "" {
		// The link is content (distribution resolves an index's sha512
		// children through it); the store records the alias with the push.
		if err := e.aliases.addManifest(ctx, name, canonical, alias); err != nil {
			e.fail(w, "linking the manifest's digest alias", err, "repository", name, "digest", alias)
			return
		}
		fwd = fwd.WithContext(withAlias(ctx, alias))
		setPath(fwd, "/v2/"+name+"/manifests/"+canonical.String())
	}
	rec := newBufferedResponse()
	e.app.ServeHTTP(rec, fwd)
	if rec.code == http.StatusCreated {
		if alias != "" {
			presentAs(rec.Header(), alias)
		}
		if fields.Subject != nil {
			rec.Header().Set("OCI-Subject", fields.Subject.Digest.String())
		}
	}
	rec.sendTo(w)
}

// deleteManifest deletes a manifest (by digest: with its tags, unless an
// index lists it) or a tag (the manifest stays), the store deciding.
func (e *edge) deleteManifest(w http.ResponseWriter, r *http.Request, name, ref string) {
	ri, ok := infoFrom(r.Context())
	if !ok || e.meta == nil {
		e.fail(w, "deleting", errNoGate)
		return
	}
	ctx := r.Context()
	setAPIVersion(w)
	d, err := digest.Parse(ref)
	if err != nil {
		if strings.ContainsRune(ref, ':') {
			serveError(w, errcode.ErrorCodeDigestInvalid.WithDetail(err.Error()))
			return
		}
		_, err = e.meta.store.Untag(ctx, ri.RegistryID, name, ref, "")
	} else {
		err = e.meta.DeleteManifest(ctx, ri.RegistryID, name, d, nil)
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusAccepted)
	case metadata.Is(err, metadata.NotFound):
		serveError(w, errcode.ErrorCodeManifestUnknown.WithDetail(ref))
	case metadata.Is(err, metadata.Referenced):
		serveError(w, errcode.ErrorCodeDenied.WithMessage(
			"The image is referenced by a manifest list in the repository; delete the manifest list first."))
	default:
		e.fail(w, "deleting the manifest", err, "repository", name, "reference", ref)
	}
}

func isManifestUnknown(err error) bool {
	var rev distribution.ErrManifestUnknownRevision
	var unk distribution.ErrManifestUnknown
	return errors.As(err, &rev) || errors.As(err, &unk) || errors.Is(err, distribution.ErrBlobUnknown)
}

func (e *edge) canonicalBlob(ctx context.Context, repoName string, d digest.Digest) (digest.Digest, error) {
	named, err := reference.WithName(repoName)
	if err != nil {
		return "", err
	}
	repo, err := e.ns.Repository(ctx, named)
	if err != nil {
		return "", err
	}
	desc, err := repo.Blobs(ctx).Stat(ctx, d)
	if err != nil {
		return "", err
	}
	if desc.Digest.Algorithm() != digest.Canonical {
		return "", errors.New("blob link does not lead to a sha256 blob")
	}
	return desc.Digest, nil
}

// singlePostUpload handles POST /v2/<name>/blobs/uploads/?digest=<d> with
// the whole blob as body (distribution-spec "single POST"), which
// distribution answers 202 while ignoring the body: the edge opens the upload
// session with the App and completes it with the body in one PUT.
func (e *edge) singlePostUpload(w http.ResponseWriter, r *http.Request, name, dgst string) {
	if _, err := digest.Parse(dgst); err != nil {
		serveError(w, errcode.ErrorCodeDigestInvalid.WithDetail(err.Error()))
		return
	}
	ctx := r.Context()
	start := r.Clone(ctx)
	start.Body, start.ContentLength, start.TransferEncoding = http.NoBody, 0, nil
	start.Header.Del("Content-Length")
	start.Header.Del("Content-Type")
	sq := start.URL.Query()
	sq.Del("digest")
	start.URL.RawQuery = sq.Encode()
	start.RequestURI = start.URL.RequestURI()
	rec := newBufferedResponse()
	e.app.ServeHTTP(rec, start)
	if rec.code != http.StatusAccepted {
		rec.sendTo(w) // e.g. NAME_UNKNOWN, UNAUTHORIZED
		return
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Path == "" {
		e.fail(w, "opening the upload session", errors.New("no usable Location from the App"), "location", rec.Header().Get("Location"))
		return
	}
	put := r.Clone(ctx)
	put.Method = http.MethodPut
	lq := loc.Query()
	lq.Set("digest", dgst)
	put.URL.Path, put.URL.RawPath, put.URL.RawQuery = loc.Path, loc.RawPath, lq.Encode()
	put.RequestURI = put.URL.RequestURI()
	e.noteUpload(ctx, name, rec.Header().Get("Docker-Upload-UUID"))
	e.completeUpload(w, put, name, rec.Header().Get("Docker-Upload-UUID"))
}

// fail answers 500 for a storage error after (or instead of) the App's own
// answer; the operations before it are idempotent, so a retry repairs it.
func (e *edge) fail(w http.ResponseWriter, what string, err error, args ...any) {
	e.log.Error("registry edge: "+what, append(args, "error", err)...)
	serveError(w, errcode.ErrorCodeUnknown.WithDetail(what+" failed"))
}

func setPath(r *http.Request, p string) {
	r.URL.Path, r.URL.RawPath = p, ""
	r.RequestURI = r.URL.RequestURI()
}

// presentAs rewrites a response about stored (sha256) content so that it
// names the content by alias, the digest the client used.
func presentAs(h http.Header, alias digest.Digest) {
	canonical := h.Get("Docker-Content-Digest")
	if canonical == "" {
		return
	}
	h.Set("Docker-Content-Digest", alias.String())
	if loc := h.Get("Location"); strings.HasSuffix(loc, "/"+canonical) {
		h.Set("Location", strings.TrimSuffix(loc, canonical)+alias.String())
	}
}

// bufferedResponse holds a (small) response of the App so the edge can act
// on its outcome and amend its headers before anything reaches the client.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse { return &bufferedResponse{header: http.Header{}} }

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) sendTo(w http.ResponseWriter) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	h := w.Header()
	for k, v := range b.header {
		h[k] = v
	}
	w.WriteHeader(b.code)
	_, _ = w.Write(b.body.Bytes())
}

// headerHook lets the edge amend the headers of a streamed App response
// (blob GETs) just before they are sent.
type headerHook struct {
	http.ResponseWriter
	hook  func(code int, h http.Header)
	fired bool
}

func hookHeaders(w http.ResponseWriter, hook func(code int, h http.Header)) *headerHook {
	return &headerHook{ResponseWriter: w, hook: hook}
}

func (w *headerHook) WriteHeader(code int) {
	if !w.fired && code >= 200 {
		w.fired = true
		w.hook(code, w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *headerHook) Write(p []byte) (int, error) {
	if !w.fired {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// ReadFrom keeps the copy path of the writer underneath (blob GETs).
func (w *headerHook) ReadFrom(r io.Reader) (int64, error) {
	if !w.fired {
		w.WriteHeader(http.StatusOK)
	}
	return io.Copy(w.ResponseWriter, r)
}

func (w *headerHook) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *headerHook) Unwrap() http.ResponseWriter { return w.ResponseWriter }
