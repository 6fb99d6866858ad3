package ecrmodel

import (
	"context"
	"errors"
	"net/http"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/metadata"
)

// Authz is one authorization question of an ECR call or a /v2 request:
// may Principal do Action on Resource, with the request's tags and
// condition keys. The edges ask it; the identity service answers.
type Authz struct {
	Principal auth.Principal
	Action    string
	// Resource is a repository ARN, or "*" for registry-level actions.
	Resource string
	// Registry owns Resource; Repository is the repository it names ("").
	Registry, Repository string
	// RequestTags (aws:RequestTag/…) and TagKeys (aws:TagKeys).
	RequestTags []metadata.ResourceTag
	TagKeys     []string
	// Keys are further condition keys (ecr:AccountSetting).
	Keys map[string]string
	// HTTP is the request (aws:SourceIp, aws:SecureTransport).
	HTTP *http.Request
	// Event names the operation or route in the audit log; RequestID is
	// the id the answer carries.
	Event, RequestID string
}

// Access is what a /v2 request asks to do, in ECR's terms: the IAM action
// ECR checks for it and the repository it acts on. The same mapping
// decides authorization and audit records.
type Access struct {
	// Action is the ECR IAM action, e.g. "ecr:BatchGetImage"; "" for the
	// version check (GET /v2/), which needs only a valid token.
	Action string
	// Repo is the repository the request names ("" for /v2/ and the
	// catalog).
	Repo string
	// Push: the request writes to Repo (so a CREATE_ON_PUSH template may
	// create it).
	Push bool
	// MountFrom is the source repository of a cross-repository mount: it
	// needs read access there as well.
	MountFrom string
	// Route is distribution's route name (or "referrers", "catalog",
	// "base").
	Route string
}

// DeniedError is a policy denial, carrying AWS's message (AccessDenied
// on the API, 403 DENIED on /v2).
type DeniedError struct{ Message string }

func (e *DeniedError) Error() string { return e.Message }

// ErrTokenExpired is an expired login token: the client is told so in
// ECR's words instead of being challenged again.
var ErrTokenExpired = errors.New("authorization token has expired")

type requestIDKey struct{}

// WithRequestID carries the id a request's answer will quote.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom is the id WithRequestID put in ctx ("" for none).
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
