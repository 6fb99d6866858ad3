package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	v2 "github.com/distribution/distribution/v3/registry/api/v2"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// Credentials checks the Basic credentials of a registry request (ECR: the
// user "AWS" and a login token from GetAuthorizationToken).
type Credentials interface {
	Basic(ctx context.Context, user, password string) (auth.Principal, error)
}

// Authorizer decides whether p may do a on the registry; a denial is an
// *ecrmodel.DeniedError carrying AWS's message. Without one (the registry's
// own tests) a principal may do everything in its own account's registry.
type Authorizer interface {
	AuthorizeRegistry(ctx context.Context, p auth.Principal, registryID string, a ecrmodel.Access, r *http.Request) error
}

// ExistenceCache is an optional capability of an Authorizer: a cached
// "this repository exists" that spares the gate a store read per request.
// A false answer is checked against the store.
type ExistenceCache interface {
	RepositoryExists(ctx context.Context, registryID, repo string) bool
}

// GateOptions configure the /v2 gate.
type GateOptions struct {
	Store       GateStore
	Credentials Credentials
	Authorizer  Authorizer // nil: own account only
	BlobURLs    *BlobURLSigner
	// RegistryID is the registry /v2 serves; Region its region.
	RegistryID string
	Region     string
	// PublicHost is the host[:port] clients use (the Basic realm).
	PublicHost string
	// PullThrough imports pulls of repositories a pull-through cache rule
	// covers (nil: no pull-through cache).
	PullThrough *pullthrough.Importer
}

// requestInfo is what the gate learned about a /v2 request; the metadata
// recorder reads it from the request context.
type requestInfo struct {
	RegistryID string
	Principal  auth.Principal
	Method     string
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) (requestInfo, bool) {
	ri, ok := ctx.Value(requestInfoKey{}).(requestInfo)
	return ri, ok
}

// gate is ECR's front door on /v2: every request needs a valid login token
// (or is a signed blob URL from GetDownloadUrlForLayer), must be allowed,
// and must name a repository that exists (or that a CREATE_ON_PUSH
// template creates on push).
func (s *Server) gate(next http.Handler) http.Handler {
	g := s.opts.Gate
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One id names the request in the audit log, the server log and
		// the answer.
		ctx := ecrmodel.WithRequestID(r.Context(), requestID(w.Header()))
		r = r.WithContext(ctx)
		acc, routed := s.classify(r)
		ri := requestInfo{RegistryID: g.RegistryID, Method: r.Method}
		// ECR tells registries apart by host: <account>.dkr.ecr.….
		if id := ecrmodel.RegistryFromHost(r.Host); id != "" {
			ri.RegistryID = id
		}
		switch {
		case routed && acc.Route == "blob" && r.URL.Query().Has("X-Berth-Signature") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			name, dgst := acc.Repo, routeOf(s.routes, r).vars["digest"]
			if g.BlobURLs == nil || !g.BlobURLs.Verify(r, ri.RegistryID, name, dgst) {
				writeError(w, http.StatusForbidden, "DENIED", "The download URL is invalid or has expired. Call GetDownloadUrlForLayer again.", nil)
				return
			}
			// A signed URL names one blob of one repository and nothing
			// else; it stands in for the caller's authorization.
			next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, requestInfoKey{}, ri)))
			return
		default:
			p, ok := s.authenticate(w, r, ri.RegistryID)
			if !ok {
				return
			}
			ri.Principal = p
			if !routed {
				break // the edge answers NAME_INVALID / UNSUPPORTED
			}
			if acc.Route == v2.RouteNameBlobUpload && r.URL.Query().Has("mount") {
				var err error
				if r, err = s.mountOrUpload(r, ri.RegistryID, &acc); err != nil {
					s.internalError(w, r, "reading BLOB_MOUNTING", err)
					return
				}
				ctx = r.Context()
			}
			if err := s.authorize(ctx, p, ri.RegistryID, acc, r); err != nil {
				var d *ecrmodel.DeniedError
				if errors.As(err, &d) {
					writeError(w, http.StatusForbidden, "DENIED", d.Message, nil)
					return
				}
				s.internalError(w, r, "authorizing", err)
				return
			}
		}
		ctx = context.WithValue(ctx, requestInfoKey{}, ri)
		r = r.WithContext(ctx)
		if routed && acc.Route == "catalog" {
			s.serveCatalog(w, r, ri.RegistryID)
			return
		}
		if routed && acc.Repo != "" && validName(acc.Repo) {
			if ok := s.ensureRepository(w, r, ri, acc); !ok {
				return
			}
			if g.PullThrough != nil && !s.pullThrough(w, r, ri, acc, next) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// mountOrUpload lets a cross-repository mount through only when the
// registry's BLOB_MOUNTING account setting is ENABLED; otherwise, as on
// ECR, the request starts a plain upload (202) and reads nothing from the
// source repository.
func (s *Server) mountOrUpload(r *http.Request, registryID string, acc *ecrmodel.Access) (*http.Request, error) {
	v, err := ecrmodel.AccountSetting(r.Context(), s.opts.Gate.Store, registryID, "BLOB_MOUNTING")
	if err != nil || v == "ENABLED" {
		return r, err
	}
	q := r.URL.Query()
	q.Del("mount")
	q.Del("from")
	r = r.Clone(r.Context())
	r.URL.RawQuery = q.Encode()
	r.RequestURI = r.URL.RequestURI()
	acc.MountFrom = ""
	return r, nil
}

// authenticate checks the Basic credentials; without valid ones it answers
// exactly as ECR does and reports false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, registryID string) (auth.Principal, bool) {
	g := s.opts.Gate
	user, pass, ok := r.BasicAuth()
	if ok && g.Credentials != nil {
		p, err := g.Credentials.Basic(r.Context(), user, pass)
		if err == nil {
			return p, true
		}
		if errors.Is(err, ecrmodel.ErrTokenExpired) {
			writeError(w, http.StatusForbidden, "DENIED", "Your authorization token has expired. Reauthenticate and try again.", nil)
			return auth.Principal{}, false
		}
		s.opts.Log.Debug("registry credentials refused", "error", err, "path", r.URL.Path)
	}
	h := w.Header()
	h.Set("Docker-Distribution-Api-Version", "registry/2.0")
	h.Set("Www-Authenticate", fmt.Sprintf(`Basic realm="https://%s/",service="ecr.amazonaws.com"`, ecrmodel.RegistryHost(g.PublicHost, registryID)))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", "15")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write([]byte("Not Authorized\n"))
	return auth.Principal{}, false
}

func (s *Server) authorize(ctx context.Context, p auth.Principal, registryID string, a ecrmodel.Access, r *http.Request) error {
	g := s.opts.Gate
	if g.Authorizer != nil {
		return g.Authorizer.AuthorizeRegistry(ctx, p, registryID, a, r)
	}
	if a.Action == "" || p.Account == registryID {
		return nil
	}
	resource := ecrmodel.RepositoryARN(g.Region, registryID, a.Repo)
	return &ecrmodel.DeniedError{Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no resource-based policy allows the %s action",
		p.ARN, a.Action, resource, a.Action)}
}

// ensureRepository answers NAME_UNKNOWN, as ECR does, for a repository the
// registry does not have, unless the request pushes and a CREATE_ON_PUSH
// template covers the name: then the repository is created from it.
func (s *Server) ensureRepository(w http.ResponseWriter, r *http.Request, ri requestInfo, a ecrmodel.Access) bool {
	g := s.opts.Gate
	ctx := r.Context()
	if ec, ok := g.Authorizer.(ExistenceCache); ok && ec.RepositoryExists(ctx, ri.RegistryID, a.Repo) {
		return true
	}
	_, err := g.Store.GetRepository(ctx, ri.RegistryID, a.Repo)
	if err == nil {
		return true
	}
	if !metadata.Is(err, metadata.NotFound) {
		s.internalError(w, r, "looking up the repository", err)
		return false
	}
	if a.Push {
		// Creating on push is CreateRepository: the pusher needs it too.
		allow := func() error {
			return s.authorize(ctx, ri.Principal, ri.RegistryID, ecrmodel.Access{Action: "ecr:CreateRepository", Repo: a.Repo, Route: a.Route}, r)
		}
		created, err := s.createOnPush(ctx, ri.RegistryID, a.Repo, allow)
		if d := (*ecrmodel.DeniedError)(nil); errors.As(err, &d) {
			writeError(w, http.StatusForbidden, "DENIED", d.Message, nil)
			return false
		}
		if err != nil {
			s.internalError(w, r, "creating the repository from its template", err)
			return false
		}
		if created {
			return true
		}
	} else if s.createOnPull(w, r, ri, a) {
		return true
	}
	writeError(w, http.StatusNotFound, "NAME_UNKNOWN",
		fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", a.Repo, ri.RegistryID), nil)
	return false
}

// createOnPush creates repo from the CREATE_ON_PUSH template with the
// longest matching prefix, if one matches and allow does not object.
func (s *Server) createOnPush(ctx context.Context, registryID, repo string, allow func() error) (bool, error) {
	t, created, err := ecrmodel.CreateFromTemplate(ctx, s.opts.Gate.Store, registryID, repo, ecrmodel.AppliedForCreateOnPush, allow)
	if created {
		s.opts.Log.Info("repository created on push", "registry", registryID, "repository", repo, "template", t.Prefix)
	}
	return created, err
}

// serveCatalog answers GET /v2/_catalog from the metadata store (the
// repositories ECR knows, not a walk of the storage).
func (s *Server) serveCatalog(w http.ResponseWriter, r *http.Request, registryID string) {
	q := r.URL.Query()
	n := 100
	if v := q.Get("n"); v != "" {
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			writeError(w, http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", map[string]string{"n": v})
			return
		}
		n = min(i, 1000)
	}
	names := []string{}
	next := ""
	if n > 0 {
		repos, more, err := s.opts.Gate.Store.ListRepositories(r.Context(), registryID, metadata.Page{Limit: n, After: q.Get("last")})
		if err != nil {
			s.internalError(w, r, "listing repositories", err)
			return
		}
		for _, rp := range repos {
			names = append(names, rp.Name)
		}
		next = more
	}
	setAPIVersion(w)
	w.Header().Set("Content-Type", "application/json")
	if next != "" {
		w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?last=%s&n=%d>; rel="next"`, url.QueryEscape(next), n))
	}
	_ = json.NewEncoder(w).Encode(map[string][]string{"repositories": names})
}

// internalError logs err and answers 500 with a request id.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	id := requestID(w.Header())
	s.opts.Log.Error("registry gate: "+what, "error", err, "path", r.URL.Path, "request_id", id)
	writeError(w, http.StatusInternalServerError, "UNKNOWN", strings.ToUpper(what[:1])+what[1:]+" failed (the registry log has the cause)",
		map[string]string{"request_id": id})
}
