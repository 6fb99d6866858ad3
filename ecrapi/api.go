// Package ecrapi serves the Amazon ECR JSON 1.1 API (X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.*, application/x-amz-json-1.1) at
// POST /: it authenticates each request by SigV4, validates its input
// exactly as ECR does, calls the metadata store and the embedded registry,
// and answers with ECR's shapes or ECR's exceptions.
package ecrapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/internal/httpx"
	"github.com/berth-registry/berth/pullthrough"
)

// TargetPrefix is ECR's X-Amz-Target prefix.
const TargetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// Authenticator verifies a request's SigV4 signature (service "ecr") over
// body and returns the caller. Precheck refuses, before the body is read,
// a request that cannot authenticate whatever its body (no signature, an
// unknown key, another region). Errors name AWS's exceptions
// (MissingAuthenticationTokenException, UnrecognizedClientException,
// InvalidSignatureException, ...).
type Authenticator interface {
	Precheck(r *http.Request) error
	Authenticate(r *http.Request, body []byte) (auth.Principal, error)
}

// TokenIssuer mints registry login tokens (the password half of
// GetAuthorizationToken's AWS:<password>).
type TokenIssuer interface {
	Issue(ctx context.Context, p auth.Principal) (password string, expiresAt time.Time, err error)
}

// Deps are the API's typed dependencies.
type Deps struct {
	Store    Store // the metadata store, or as much of it as Store asks
	Registry Registry
	Authn    Authenticator
	Authz    Authorizer // nil: every authenticated principal is allowed
	Tokens   TokenIssuer
	// PullThrough holds the pull-through cache rules (nil: rules over
	// Store, without an upstream client).
	PullThrough *pullthrough.Rules
	// RegistryID is the default registry's 12-digit id; Region its region.
	RegistryID string
	Region     string
	// Host is the public host[:port] clients reach the registry at; it
	// makes repositoryUri (Host/name) and proxyEndpoint (https://Host).
	Host string
	// PageKey authenticates nextToken values (HMAC key, ≥ 32 bytes).
	PageKey []byte
	// BodyRate is the minimum rate of request bodies (httpx.API when
	// zero).
	BodyRate httpx.Rate
	Log      *slog.Logger
	Now      func() time.Time
}

// API is the ECR JSON API handler.
type API struct {
	d   Deps
	ops map[string]operation
	// bodies is the body budget (see bodyBudget).
	bodies *semaphore.Weighted
}

// Request is one authenticated API call.
type Request struct {
	Op        string
	Principal auth.Principal
	// RegistryID is the registry the call addresses (input registryId or
	// the caller's account).
	RegistryID string
	// Repository is the input's repositoryName, validated, for
	// operations on a repository (onRepository); "" for the others.
	Repository string
	HTTP       *http.Request
	RequestID  string
}

// New builds the API with every operation registered, group by group.
func New(d Deps) *API {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.BodyRate == (httpx.Rate{}) {
		d.BodyRate = httpx.API
	}
	a := &API{d: d, ops: map[string]operation{}, bodies: newBudget()}
	a.registerRepositoryOps()
	a.registerImageOps()
	a.registerLayerOps()
	a.registerPolicyOps()
	a.registerLifecycleOps()
	a.registerRegistryOps()
	a.registerPullThroughOps()
	return a
}

func (a *API) add(op operation) {
	if _, dup := a.ops[op.name]; dup {
		panic("ecrapi: operation registered twice: " + op.name)
	}
	a.ops[op.name] = op
}

// Handles reports whether r is an ECR API call (by its X-Amz-Target).
func Handles(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// ServeHTTP answers one API call.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	resp, err := a.serve(w, r, reqID)
	if err != nil {
		a.writeError(w, r, reqID, err)
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		a.writeError(w, r, reqID, fmt.Errorf("encoding response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, reqID string) (any, error) {
	if r.Method != http.MethodPost {
		return nil, &Error{Type: "UnknownOperationException", Message: "ECR operations are POST /", status: http.StatusMethodNotAllowed}
	}
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	op, ok := a.ops[name]
	if !ok {
		return nil, &Error{Type: "UnknownOperationException", Message: fmt.Sprintf("Unknown operation %q", name)}
	}
	// Nothing unauthenticated costs the memory of a body: who asks is
	// checked from the headers first, the declared length next.
	if err := a.d.Authn.Precheck(r); err != nil {
		return nil, err
	}
	body, release, err := a.readBody(w, r, name)
	if err != nil {
		return nil, err
	}
	defer release()
	p, err := a.d.Authn.Authenticate(r, body)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	// One decode: authorization and the handler read the same input.
	in, err := op.decode(body)
	if err != nil {
		return nil, err
	}
	req := &Request{Op: name, Principal: p, HTTP: r, RequestID: reqID}
	if err := a.resolveScope(op, req, in.scope()); err != nil {
		return nil, err
	}
	ctx := auth.WithPrincipal(r.Context(), p)
	if err := a.authorize(ctx, op, req, in); err != nil {
		return nil, err
	}
	return op.handle(ctx, req, in)
}

// resolveScope sets the registry and repository the call addresses: the
// input's registryId (unless the operation is onOwnRegistry), else the
// caller's account, else the default registry; and, for an operation on a
// repository, its repositoryName, which must be valid.
func (a *API) resolveScope(op operation, req *Request, sc *scopeIn) error {
	// As on ECR, the default registry is the caller's account's.
	req.RegistryID = req.Principal.Account
	if req.RegistryID == "" {
		req.RegistryID = a.d.RegistryID
	}
	if sc.RegistryID != nil && op.on != onOwnRegistry {
		if err := validRegistryID(*sc.RegistryID); err != nil {
			return err
		}
		req.RegistryID = *sc.RegistryID
	}
	if op.on != onRepository {
		return nil
	}
	if sc.RepositoryName == nil {
		return missingParam("repositoryName")
	}
	if err := validRepositoryName(*sc.RepositoryName); err != nil {
		return err
	}
	req.Repository = *sc.RepositoryName
	return nil
}

// repositoryARN is the ARN of repository name of registryID.
func (a *API) repositoryARN(registryID, name string) string {
	return ecrmodel.RepositoryARN(a.d.Region, registryID, name)
}

// repositoryURI is <host>/<name>: what docker tags and pushes.
func (a *API) repositoryURI(registryID, name string) string {
	return a.RegistryHost(registryID) + "/" + name
}

// RegistryHost is the host[:port] registry id is reached at (see
// ecrmodel.RegistryHost).
func (a *API) RegistryHost(registryID string) string {
	return ecrmodel.RegistryHost(a.d.Host, registryID)
}

// epoch renders a time as ECR does: epoch seconds, fractional allowed.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	return []byte(fmt.Sprintf("%.3f", float64(tt.UnixMilli())/1000)), nil
}

func (t *epoch) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t = epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// ts returns an *epoch for t, nil when t is zero (omitted from JSON).
func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// embedded removes the names of the structs inputs embed from a member's
// path: encoding/json puts them in front (scopeIn.registryId), and they
// are no members of ECR's.
var embedded = strings.NewReplacer("scopeIn.", "", "pagingIn.", "")

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	case errors.As(err, &te) && te.Field == "":
		// Not an object: the input's Go type would mean nothing to a client.
		return "the request body must be a JSON object"
	case errors.As(err, &te):
		return fmt.Sprintf("'%s' must be of type %s", embedded.Replace(te.Field), te.Type.String())
	}
	return err.Error()
}
