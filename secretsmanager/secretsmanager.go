// Package secretsmanager serves the part of AWS Secrets Manager that
// pull-through cache rules need (X-Amz-Target secretsmanager.*, JSON 1.1,
// SigV4 service "secretsmanager"): CreateSecret, GetSecretValue,
// PutSecretValue, DescribeSecret, ListSecrets, DeleteSecret (with a
// recovery window), RestoreSecret, TagResource and UntagResource, each
// IAM-checked as secretsmanager:<Operation> on the
// secret's ARN. Values are sealed with berth's keyring before they reach
// the metadata store.
package secretsmanager

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// TargetPrefix is Secrets Manager's X-Amz-Target prefix.
const TargetPrefix = "secretsmanager."

// Handles reports whether r is a Secrets Manager call.
func Handles(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// Store is what the secrets need of the metadata store.
type Store interface {
	CreateSecret(ctx context.Context, s metadata.Secret) (metadata.Secret, error)
	GetSecret(ctx context.Context, account, id string) (metadata.Secret, error)
	ListSecrets(ctx context.Context, account string, withScheduled bool, p metadata.Page) ([]metadata.Secret, string, error)
	UpdateSecret(ctx context.Context, account, id string, fn func(*metadata.Secret) error) (metadata.Secret, error)
	DeleteSecret(ctx context.Context, account, id string) (metadata.Secret, error)
}

// Authenticator verifies SigV4 (service secretsmanager).
type Authenticator interface {
	Precheck(r *http.Request) error
	Authenticate(r *http.Request, body []byte) (auth.Principal, error)
}

// Authorizer decides secretsmanager:* actions (a denial is an
// *ecrmodel.DeniedError).
type Authorizer interface {
	Authorize(ctx context.Context, q ecrmodel.Authz) error
}

// Handler is the Secrets Manager API.
type Handler struct {
	Store   Store
	Keyring *crypt.Keyring
	Authn   Authenticator
	Authz   Authorizer
	Region  string
	Log     *slog.Logger
}

// Error is a Secrets Manager exception.
type Error struct{ Type, Message string }

func (e *Error) Error() string { return e.Type + ": " + e.Message }

func errf(typ, format string, a ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, a...)}
}

var errNotFound = &Error{Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

type awsError interface {
	AWSErrorType() string
	AWSMessage() string
	HTTPStatus() int
}

// ServeHTTP answers one call.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := ecrmodel.NewRequestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	out, err := h.serve(r, reqID)
	if err != nil {
		h.writeError(w, reqID, err)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (h *Handler) writeError(w http.ResponseWriter, reqID string, err error) {
	typ, msg, status := "InternalServiceError", "Internal error; quote request id "+reqID, http.StatusInternalServerError
	var e *Error
	var d *ecrmodel.DeniedError
	var ae awsError
	switch {
	case errors.As(err, &e):
		typ, msg, status = e.Type, e.Message, http.StatusBadRequest
	case errors.As(err, &d):
		typ, msg, status = "AccessDeniedException", d.Message, http.StatusBadRequest
	case errors.As(err, &ae):
		typ, msg, status = ae.AWSErrorType(), ae.AWSMessage(), ae.HTTPStatus()
	default:
		if h.Log != nil {
			h.Log.Error("secretsmanager: internal error", "request_id", reqID, "err", err)
		}
	}
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type call struct {
	op   string
	p    auth.Principal
	body []byte
	r    *http.Request
	id   string
}

func (c *call) decode(v any) error {
	if err := json.Unmarshal(c.body, v); err != nil {
		return errf("SerializationException", "Invalid JSON")
	}
	return nil
}

func (h *Handler) serve(r *http.Request, reqID string) (any, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	fn, ok := map[string]func(context.Context, *call) (any, error){
		"CreateSecret": h.createSecret, "GetSecretValue": h.getSecretValue, "PutSecretValue": h.putSecretValue,
		"DescribeSecret": h.describeSecret, "ListSecrets": h.listSecrets, "DeleteSecret": h.deleteSecret,
		"TagResource": h.tagResource, "UntagResource": h.untagResource, "RestoreSecret": h.restoreSecret,
	}[op]
	if !ok {
		return nil, errf("UnknownOperationException", "Unknown operation %q", op)
	}
	if err := h.Authn.Precheck(r); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 128<<10))
	if err != nil {
		return nil, errf("InvalidRequestException", "request body too large")
	}
	p, err := h.Authn.Authenticate(r, body)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	ctx := auth.WithPrincipal(r.Context(), p)
	return fn(ctx, &call{op: op, p: p, body: body, r: r, id: reqID})
}

func (h *Handler) authorize(ctx context.Context, c *call, resource string) error {
	if h.Authz == nil {
		return nil
	}
	return h.Authz.Authorize(ctx, ecrmodel.Authz{Principal: c.p, Action: "secretsmanager:" + c.op, Resource: resource,
		Registry: c.p.Account, HTTP: c.r, Event: c.op, RequestID: c.id})
}

// secret looks up id (name or ARN) of the caller's account and checks
// the call's action on it; an unknown secret is checked on the ARN it
// would have, so a caller without permission cannot probe names.
func (h *Handler) secret(ctx context.Context, c *call, id *string) (metadata.Secret, error) {
	if id == nil || *id == "" {
		return metadata.Secret{}, errf("InvalidParameterException", "You must specify SecretId.")
	}
	s, err := h.Store.GetSecret(ctx, c.p.Account, *id)
	if metadata.Is(err, metadata.NotFound) {
		res := *id
		if !strings.HasPrefix(res, "arn:") {
			res = h.arnPrefix(c.p.Account) + *id + "-??????"
		}
		if err := h.authorize(ctx, c, res); err != nil {
			return s, err
		}
		return s, errNotFound
	}
	if err != nil {
		return s, err
	}
	return s, h.authorize(ctx, c, s.ARN)
}

func (h *Handler) arnPrefix(account string) string {
	return "arn:aws:secretsmanager:" + h.Region + ":" + account + ":secret:"
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func toTags(ts []tag) []metadata.ResourceTag {
	out := make([]metadata.ResourceTag, 0, len(ts))
	for _, t := range ts {
		out = append(out, metadata.ResourceTag{Key: t.Key, Value: t.Value})
	}
	return out
}

func fromTags(ts []metadata.ResourceTag) []tag {
	out := []tag{}
	for _, t := range ts {
		out = append(out, tag{t.Key, t.Value})
	}
	return out
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func versionID() string {
	h := randHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func suffix() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
