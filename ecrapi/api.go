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
	"github.com/berth-registry/berth/metadata"
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
	Store    metadata.Store
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

// operation is one ECR operation: the IAM action it checks, whether that
// action is on the repository named in the input (else "*"), and the
// handler.
type operation struct {
	name   string
	action string
	// repoScoped: the resource is the repository ARN of the input's
	// repositoryName (registryId selects the registry).
	repoScoped bool
	// ownRegistry: the operation has no registryId member (registry-level
	// settings, policies, templates): it always addresses the caller's
	// account, and a registryId sent anyway is ignored, as on ECR.
	ownRegistry bool
	// targets, when set, lists the resources the call acts on instead
	// (taken from other input members).
	targets func(a *API, req *Request) ([]ecrmodel.Authz, error)
	handle  func(ctx context.Context, req *Request) (any, error)
}

// Request is one decoded API call.
type Request struct {
	Op        string
	Principal auth.Principal
	// RegistryID is the registry the call addresses (input registryId or
	// the default).
	RegistryID string
	Body       []byte
	HTTP       *http.Request
	RequestID  string
}

// Decode unmarshals the request body into v, strictly: unknown fields are
// ignored as AWS does, malformed JSON is a SerializationException.
func (r *Request) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return &Error{Type: "SerializationException", Message: "Invalid JSON: " + jsonProblem(err)}
	}
	return nil
}

// New builds the API. Every operation is registered here, group by group.
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
	if op.action == "" {
		op.action = "ecr:" + op.name
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
	req := &Request{Op: name, Principal: p, Body: body, HTTP: r, RequestID: reqID}
	var scope struct {
		RegistryID     *string `json:"registryId"`
		RepositoryName *string `json:"repositoryName"`
	}
	if err := req.Decode(&scope); err != nil {
		return nil, err
	}
	// As on ECR, the default registry is the caller's account's.
	req.RegistryID = p.Account
	if req.RegistryID == "" {
		req.RegistryID = a.d.RegistryID
	}
	if scope.RegistryID != nil && !op.ownRegistry {
		if err := validRegistryID(*scope.RegistryID); err != nil {
			return nil, err
		}
		req.RegistryID = *scope.RegistryID
	}
	ctx := auth.WithPrincipal(r.Context(), p)
	if err := a.authorize(ctx, op, req, scope.RepositoryName); err != nil {
		return nil, err
	}
	return op.handle(ctx, req)
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

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("'%s' must be of type %s", te.Field, te.Type.String())
	}
	return err.Error()
}
