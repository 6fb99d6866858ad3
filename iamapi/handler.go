// Package iamapi is the IAM Query API edge (service "iam", form bodies,
// XML answers): `aws iam` and Terraform manage berth's identities through
// it, over the same iam.Service as `berth iam` and the declarative file.
// Every call is SigV4-signed for service "iam", authorized as iam:<Action>
// on the entity's ARN, and audited.
package iamapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/internal/httpx"
	"github.com/berth-registry/berth/sts"
)

// APIVersion is the only Version IAM accepts.
const APIVersion = "2010-05-08"

// maxBody bounds a request: a policy document is at most 128 KiB of
// URL-encoded text.
const maxBody = 512 << 10

// Authenticator verifies SigV4 for service "iam" (*auth.APIAuthenticator).
type Authenticator interface {
	Precheck(r *http.Request) error
	Authenticate(r *http.Request, body []byte) (auth.Principal, error)
}

// Handler answers IAM calls.
type Handler struct {
	Authn Authenticator
	Svc   *iam.Service
	Authz *iam.Authorizer
	Log   *slog.Logger
}

// Handles reports whether r is an IAM call: a request on / signed for
// service "iam" (header or query credential scope).
func Handles(r *http.Request) bool {
	if r.URL.Path != "/" && r.URL.Path != "" {
		return false
	}
	if strings.Contains(r.Header.Get("Authorization"), "/iam/aws4_request") {
		return true
	}
	return strings.Contains(r.URL.Query().Get("X-Amz-Credential"), "/iam/aws4_request")
}

// call is one request being answered.
type call struct {
	h      *Handler
	r      *http.Request
	ctx    context.Context
	reqID  string
	action string
	p      auth.Principal
	form   url.Values
	// removing is the boundary a Delete…PermissionsBoundary call takes
	// off its target, read before the call is authorized.
	removing string
}

// ServeHTTP answers one IAM call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{h: h, r: r, ctx: r.Context(), reqID: ecrmodel.NewRequestID()}
	w.Header().Set("x-amzn-RequestId", c.reqID)
	res, err := c.serve(w)
	if err != nil {
		e := c.wire(err)
		writeXML(w, e.status(), errorDoc(e, c.reqID))
		return
	}
	writeXML(w, http.StatusOK, responseDoc(c.action, res, c.reqID))
}

func (c *call) serve(w http.ResponseWriter) (any, error) {
	r := c.r
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, &Error{Code: "InvalidAction", Message: "IAM operations are GET or POST /", Status: http.StatusMethodNotAllowed}
	}
	if err := c.h.Authn.Precheck(r); err != nil {
		return nil, err
	}
	if r.ContentLength > maxBody {
		return nil, &Error{Code: "ValidationError", Message: "Request body too large", Status: http.StatusRequestEntityTooLarge}
	}
	var body []byte
	if r.Body != nil {
		httpx.Limit(w, r, httpx.API)
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(b) > maxBody {
			return nil, &Error{Code: "MalformedInput", Message: "Unable to read the request body"}
		}
		body = b
	}
	p, err := c.h.Authn.Authenticate(r, body)
	if err != nil {
		return nil, err
	}
	c.p = p
	if iam.IsSessionToken(p) {
		return nil, &Error{Code: "InvalidClientTokenId", Message: "The security token included in the request is invalid", Status: http.StatusForbidden}
	}
	form := url.Values{}
	if len(body) > 0 {
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, &Error{Code: "MalformedInput", Message: "Unable to parse the form-encoded request body"}
		}
	}
	for k, vs := range r.URL.Query() {
		form[k] = append(form[k], vs...)
	}
	c.form, c.action = form, form.Get("Action")
	op, ok := ops[c.action]
	if !ok || form.Get("Version") != APIVersion {
		v := form.Get("Version")
		if _, has := form["Version"]; !has {
			v = "NO_VERSION_SPECIFIED"
		}
		return nil, &Error{Code: "InvalidAction", Message: "Could not find operation " + c.action + " for version " + v}
	}
	return op(c)
}

// authorize asks whether the caller may perform iam:<Action> on resource.
func (c *call) authorize(resource string) error {
	chk := iam.Check{Principal: c.p, Action: "iam:" + c.action, Resource: resource, HTTP: c.r,
		Source: "iam.amazonaws.com", Event: c.action, RequestID: c.reqID}
	// iam:PermissionsBoundary is the boundary the call sets (CreateRole,
	// CreateUser, Put…PermissionsBoundary) or removes
	// (Delete…PermissionsBoundary), as IAM has it: how an administrator
	// lets others make roles only under a given boundary, and forbids
	// taking it off.
	b := c.opt("PermissionsBoundary")
	if removesBoundary(c.action) {
		b = c.removing
	}
	if b != "" {
		chk.Keys = map[string]string{"iam:PermissionsBoundary": b}
	}
	d, req, err := c.h.Authz.Authorize(auth.WithPrincipal(c.ctx, c.p), chk)
	if err != nil {
		return err
	}
	if !d.Allowed() {
		return &Error{Code: "AccessDenied", Message: iam.DenialMessage(chk, d, req), Status: http.StatusForbidden}
	}
	return nil
}

// removesBoundary: action is Delete{Role,User}PermissionsBoundary, whose
// iam:PermissionsBoundary is the target's boundary, never a parameter.
func removesBoundary(action string) bool {
	return action == "DeleteRolePermissionsBoundary" || action == "DeleteUserPermissionsBoundary"
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

// wire maps err to IAM's wire error, once.
func (c *call) wire(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if se, ok := sts.AuthError(err); ok {
		return &Error{Code: se.Code, Message: se.Message, Status: se.HTTPStatus()}
	}
	var ie *iam.Error
	if errors.As(err, &ie) && ie.Kind != iam.Internal {
		return fromKind(ie.Kind, ie.Message)
	}
	c.h.log().LogAttrs(c.ctx, slog.LevelError, "iam api: internal failure", slog.String("request_id", c.reqID),
		slog.String("action", c.action), slog.String("error", err.Error()))
	return &Error{Code: "ServiceFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
}
