package sts

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/internal/httpx"
)

// Handler answers STS calls.
type Handler struct {
	Authn Authenticator
	Roles Roles
	// Log receives internal failures (with the request id) and, at debug
	// level, each call. Nil discards. No secret is ever logged.
	Log *slog.Logger
	// Audit, when set, is told of each call after it is answered: the
	// Action parameter ("" when unreadable), the caller (zero when not
	// authenticated) and the error code ("" on success).
	Audit func(r *http.Request, action string, p auth.Principal, errCode string)
	// BodyRate is the minimum rate of request bodies (httpx.API when
	// zero).
	BodyRate httpx.Rate
}

// Handles reports whether r is an STS call: on /, without the X-Amz-Target
// of the JSON APIs sharing the endpoint, either a POST with a form body or
// a GET or POST naming an Action in its query string.
func Handles(r *http.Request) bool {
	if r.URL.Path != "/" && r.URL.Path != "" {
		return false
	}
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	switch r.Method {
	case http.MethodPost:
		return isForm(r.Header.Get("Content-Type")) || r.URL.Query().Has("Action")
	case http.MethodGet:
		return r.URL.Query().Has("Action")
	}
	return false
}

// ServeHTTP answers one STS call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	c := call{h: h, w: w, r: r, reqID: reqID}
	doc, e := c.serve()
	code := ""
	if e != nil {
		code = e.Code
		writeXML(w, e.HTTPStatus(), errorDoc(e, reqID))
	} else {
		writeXML(w, http.StatusOK, doc)
	}
	h.log().LogAttrs(r.Context(), slog.LevelDebug, "sts call", slog.String("request_id", reqID),
		slog.String("action", c.action), slog.String("principal", c.principal.ARN), slog.String("error", code))
	if h.Audit != nil {
		h.Audit(r, c.action, c.principal, code)
	}
}

// call is one request being answered; action and principal are filled in
// as they become known, for logging and audit.
type call struct {
	h         *Handler
	w         http.ResponseWriter
	r         *http.Request
	reqID     string
	action    string
	principal auth.Principal
}

func (c *call) serve() (any, *Error) {
	r := c.r
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, &Error{Code: codeInvalidAction, Message: "STS operations are GET or POST /", Status: http.StatusMethodNotAllowed}
	}
	if c.h.Authn == nil {
		return nil, c.internal("authenticating", errors.New("sts: Handler has no Authenticator"))
	}
	// Who asks is checked from the headers before the body is read:
	// nothing unauthenticated costs the memory of a body. Until the form
	// is in, the audit trail names the action of the query string, if any.
	c.action = r.URL.Query().Get("Action")
	// An unsigned request may still be an unsigned action (whose name may
	// be in the body): its body, bounded like any other, is read to find
	// out, and the missing signature is reported for every other action.
	precheck := c.h.Authn.Precheck(r)
	mayBeUnsigned := r.ContentLength <= MaxBody && (c.action == "" || unsigned[c.action])
	if precheck != nil && (!isMissingAuth(precheck) || !mayBeUnsigned) {
		if e, ok := authError(precheck); ok {
			return nil, e
		}
		return nil, c.internal("authenticating", precheck)
	}
	rate := c.h.BodyRate
	if rate == (httpx.Rate{}) {
		rate = httpx.API
	}
	body, e := readBody(c.w, r, rate)
	if e != nil {
		return nil, e
	}
	// The form is read before the signature is checked only to name the
	// action in the audit trail; nothing in it is acted on until the
	// signature holds.
	form, formErr := parseForm(r, body)
	if formErr == nil {
		c.action = form.Get("Action")
	}
	if formErr == nil && unsigned[c.action] {
		// AWS ignores credentials on these calls; so does berth.
		if e := checkVersion(form, c.action); e != nil {
			return nil, e
		}
		return c.assumeRoleWithWebIdentity(readWebIdentity(form))
	}
	if precheck != nil {
		e, _ := authError(precheck)
		return nil, e
	}
	p, err := c.h.Authn.Authenticate(r, body)
	if err != nil {
		if e, ok := authError(err); ok {
			return nil, e
		}
		return nil, c.internal("authenticating", err)
	}
	c.principal = p
	if iam.IsSessionToken(p) && c.action != "AssumeRole" && c.action != "GetCallerIdentity" {
		// GetSessionToken's credentials reach only these two STS calls
		// (without MFA, which berth does not have).
		return nil, AccessDenied("Cannot call " + c.action + " with session credentials")
	}
	if formErr != nil {
		return nil, formErr
	}
	if e := checkVersion(form, c.action); e != nil {
		return nil, e
	}
	switch c.action {
	case "GetCallerIdentity":
		// No permission is needed: AWS answers even callers denied
		// sts:GetCallerIdentity, service principals included.
		return callerIdentityDoc(p.ARN, p.UserID, p.Account, c.reqID), nil
	case "AssumeRole":
		return c.assumeRole(readAssumeRole(form))
	case "GetSessionToken":
		return c.getSessionToken(form)
	}
	return nil, invalidAction(c.action, APIVersion)
}

// checkVersion: AWS dispatches on (Action, Version); either unknown is
// InvalidAction.
func checkVersion(form url.Values, action string) *Error {
	version := "NO_VERSION_SPECIFIED"
	if vs, ok := form["Version"]; ok && len(vs) > 0 {
		version = vs[0]
	}
	if version != APIVersion {
		return invalidAction(action, version)
	}
	return nil
}

func (c *call) assumeRole(params assumeRoleParams) (any, *Error) {
	in, e := validateAssumeRole(params)
	if e != nil {
		return nil, e
	}
	if c.h.Roles == nil {
		return nil, c.internal("AssumeRole", errors.New("sts: Handler has no Roles"))
	}
	ctx := auth.WithPrincipal(c.r.Context(), c.principal)
	out, err := c.h.Roles.AssumeRole(ctx, c.principal, in, c.r)
	if err != nil {
		if se := roleError(err); se != nil {
			return nil, se
		}
		return nil, c.internal("AssumeRole", err)
	}
	return assumeRoleDoc(out, c.reqID), nil
}

// internal logs err with the request id and returns the detail-free 500.
func (c *call) internal(op string, err error) *Error {
	c.h.log().LogAttrs(c.r.Context(), slog.LevelError, "sts: internal failure",
		slog.String("request_id", c.reqID), slog.String("action", c.action),
		slog.String("op", op), slog.String("error", err.Error()))
	return internalFailure()
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func newRequestID() string { return ecrmodel.NewRequestID() }
