package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	v2 "github.com/distribution/distribution/v3/registry/api/v2"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// Pull-through cache on /v2: a pull of a repository a pull-through cache
// rule covers creates the repository (PULL_THROUGH_CACHE template, else
// defaults) when the caller may ecr:CreateRepository, and imports the
// image from the upstream (ecr:BatchImportUpstreamImage) through berth's
// own push path — the same handlers a docker push reaches behind the gate,
// so content is encrypted, blob links accounted and images and tags
// recorded in the store like any push.

// pullThroughTarget is the rule covering repo, if any.
func (s *Server) pullThroughTarget(ctx context.Context, registryID, repo string) (pullthrough.Target, bool, error) {
	im := s.opts.Gate.PullThrough
	if im == nil {
		return pullthrough.Target{}, false, nil
	}
	return im.Match(ctx, registryID, repo)
}

// createForPullThrough creates a cache repository on its first pull: from
// the PULL_THROUGH_CACHE template with the longest matching prefix, else
// with the defaults. allow asks for ecr:CreateRepository.
func (s *Server) createForPullThrough(ctx context.Context, registryID, repo string, allow func() error) (bool, error) {
	g := s.opts.Gate
	t, created, err := ecrmodel.CreateFromTemplate(ctx, g.Store, registryID, repo, ecrmodel.AppliedForPullThroughCache, allow)
	if err != nil || created {
		if created {
			s.opts.Log.Info("pull-through cache repository created", "registry", registryID, "repository", repo, "template", t.Prefix)
		}
		return created, err
	}
	if err := allow(); err != nil {
		return false, err
	}
	if err := g.Store.EnsureRegistry(ctx, registryID); err != nil {
		return false, err
	}
	if _, err := g.Store.CreateRepository(ctx, metadata.Repository{RegistryID: registryID, Name: repo,
		TagMutability: "MUTABLE", EncryptionType: "AES256"}); err != nil && !metadata.Is(err, metadata.AlreadyExists) {
		return false, err
	}
	s.opts.Log.Info("pull-through cache repository created", "registry", registryID, "repository", repo)
	return true, nil
}

// pullThrough runs before a manifest or blob GET/HEAD of a cache
// repository: it answers from the upstream what the cache lacks (or a
// tag due for its re-check that moved) and imports it. It reports false
// when it answered.
func (s *Server) pullThrough(w http.ResponseWriter, r *http.Request, ri requestInfo, a ecrmodel.Access, next http.Handler) bool {
	if (a.Route != v2.RouteNameManifest && a.Route != v2.RouteNameBlob) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return true
	}
	ctx := r.Context()
	t, ok, err := s.pullThroughTarget(ctx, ri.RegistryID, a.Repo)
	if err != nil {
		s.internalError(w, r, "matching pull-through cache rules", err)
		return false
	}
	if !ok {
		return true
	}
	allow := func() error {
		return s.authorize(ctx, ri.Principal, ri.RegistryID, ecrmodel.Access{Action: "ecr:BatchImportUpstreamImage", Repo: a.Repo, Route: a.Route}, r)
	}
	local := &localRepo{s: s, next: next, ri: ri, repo: a.Repo, host: r.Host}
	if a.Route == v2.RouteNameBlob {
		s.pullThroughBlob(w, r, t, local, allow)
		return false
	}
	ref := routeOf(s.routes, r).vars["reference"]
	m, err := s.opts.Gate.PullThrough.EnsureManifest(ctx, t, ref, local, allow)
	if err != nil {
		s.pullThroughError(w, r, a.Repo, ref, err, "MANIFEST_UNKNOWN", "Requested image not found")
		return false
	}
	if m == nil {
		return true // the cache answers
	}
	// The upstream's manifest as is, while the import runs.
	h := w.Header()
	setAPIVersion(w)
	h.Set("Content-Type", m.MediaType)
	h.Set("Docker-Content-Digest", m.Digest)
	h.Set("Etag", `"`+m.Digest+`"`)
	h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(m.Body)
	}
	return false
}

// pullThroughError answers a failed pull through the cache: not found and
// a denied ecr:BatchImportUpstreamImage alike (as ECR does), a refused
// upstream login, an unreachable upstream.
func (s *Server) pullThroughError(w http.ResponseWriter, r *http.Request, repo, ref string, err error, code, msg string) {
	var d *ecrmodel.DeniedError
	switch {
	case errors.As(err, &d), errors.Is(err, pullthrough.ErrImageNotFound), pullthrough.NotFoundUpstream(err):
		writeError(w, http.StatusNotFound, code, msg, nil)
	case pullthrough.Denied(err):
		writeError(w, http.StatusForbidden, "DENIED", "The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again.", nil)
	case pullthrough.Unreachable(err):
		s.opts.Log.Warn("pull-through: upstream unavailable", "repository", repo, "ref", ref, "error", err)
		writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", "The upstream registry is unavailable and the image is not cached; try again later.", nil)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client left.
	default:
		s.internalError(w, r, "importing from the upstream registry", err)
	}
}

// localRepo is one cache repository as the importer sees it: requests to
// the handlers behind the gate, on behalf of the puller (audit and blob
// accounting name them).
type localRepo struct {
	s    *Server
	next http.Handler
	ri   requestInfo
	repo string
	host string
}

// do sends one request to the handlers behind the gate and records the
// answer.
func (l *localRepo) do(ctx context.Context, method, path string, body io.Reader, size int64, hdr ...string) *httptest.ResponseRecorder {
	ri := l.ri
	ri.Method = method
	// A fresh route match: the puller's request carries its own.
	ctx = context.WithValue(context.WithValue(ctx, routeKey{}, nil), requestInfoKey{}, ri)
	r := httptest.NewRequestWithContext(ctx, method, path, body)
	r.Host = l.host
	r.RemoteAddr = "127.0.0.1:0"
	if size >= 0 && body != nil {
		r.ContentLength = size
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, r)
	return rec
}

func (l *localRepo) ManifestDigest(ctx context.Context, ref string) (string, bool, error) {
	rec := l.do(ctx, http.MethodHead, "/v2/"+l.repo+"/manifests/"+ref, nil, -1, "Accept", pullthrough.ManifestAccept+", */*")
	switch rec.Code {
	case http.StatusOK:
		return rec.Header().Get("Docker-Content-Digest"), true, nil
	case http.StatusNotFound:
		return "", false, nil
	}
	return "", false, fmt.Errorf("local manifest HEAD %s: %d %s", ref, rec.Code, rec.Body.String())
}

func (l *localRepo) HasBlob(ctx context.Context, dgst string) (bool, error) {
	rec := l.do(ctx, http.MethodHead, "/v2/"+l.repo+"/blobs/"+dgst, nil, -1)
	switch rec.Code {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("local blob HEAD %s: %d", dgst, rec.Code)
}

func (l *localRepo) PutBlob(ctx context.Context, dgst string, size int64, body io.Reader) error {
	rec := l.do(ctx, http.MethodPost, "/v2/"+l.repo+"/blobs/uploads/", nil, -1)
	if rec.Code != http.StatusAccepted {
		return fmt.Errorf("starting the upload of %s: %d %s", dgst, rec.Code, rec.Body.String())
	}
	loc := rec.Header().Get("Location")
	if i := strings.Index(loc, "/v2/"); i > 0 {
		loc = loc[i:]
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	rec = l.do(ctx, http.MethodPut, loc+sep+"digest="+dgst, body, size, "Content-Type", "application/octet-stream")
	if rec.Code != http.StatusCreated {
		// Cancel what was written: nothing half-stored stays.
		l.do(context.WithoutCancel(ctx), http.MethodDelete, loc, nil, -1)
		return &pullthrough.UpstreamError{Status: http.StatusBadGateway, Err: fmt.Errorf("storing %s: %d %s", dgst, rec.Code, rec.Body.String())}
	}
	return nil
}

func (l *localRepo) PutManifest(ctx context.Context, ref, mediaType string, body []byte) error {
	rec := l.do(ctx, http.MethodPut, "/v2/"+l.repo+"/manifests/"+ref, bytes.NewReader(body), int64(len(body)),
		"Content-Type", mediaType, "Content-Length", strconv.Itoa(len(body)))
	if rec.Code != http.StatusCreated {
		return fmt.Errorf("storing manifest %s: %d %s", ref, rec.Code, rec.Body.String())
	}
	return nil
}

// createOnPull creates a cache repository a pull names, when a rule covers
// it and the puller may ecr:CreateRepository; otherwise the pull gets
// NAME_UNKNOWN, as on ECR.
func (s *Server) createOnPull(w http.ResponseWriter, r *http.Request, ri requestInfo, a ecrmodel.Access) bool {
	if s.opts.Gate.PullThrough == nil || a.Route != v2.RouteNameManifest {
		return false
	}
	ctx := r.Context()
	if _, ok, err := s.pullThroughTarget(ctx, ri.RegistryID, a.Repo); err != nil || !ok {
		if err != nil {
			s.opts.Log.Error("pull-through: matching rules", "error", err)
		}
		return false
	}
	allow := func() error {
		return s.authorize(ctx, ri.Principal, ri.RegistryID, ecrmodel.Access{Action: "ecr:CreateRepository", Repo: a.Repo, Route: a.Route}, r)
	}
	created, err := s.createForPullThrough(ctx, ri.RegistryID, a.Repo, allow)
	if err != nil && !errors.As(err, new(*ecrmodel.DeniedError)) {
		s.opts.Log.Error("pull-through: creating the repository", "repository", a.Repo, "error", err)
	}
	return created
}
