// Package secretsmanager serves the part of AWS Secrets Manager that
// pull-through cache rules need (X-Amz-Target secretsmanager.*, JSON 1.1,
// SigV4 service "secretsmanager"): CreateSecret, GetSecretValue,
// PutSecretValue, DescribeSecret, ListSecrets, DeleteSecret, TagResource
// and UntagResource, each IAM-checked as secretsmanager:<Operation> on the
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
	"time"

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
	ListSecrets(ctx context.Context, account string, p metadata.Page) ([]metadata.Secret, string, error)
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
		"TagResource": h.tagResource, "UntagResource": h.untagResource,
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

func (h *Handler) seal(v string) ([]byte, error) { return auth.SealSecret(h.Keyring, v) }

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (h *Handler) createSecret(ctx context.Context, c *call) (any, error) {
	var in struct {
		Name               *string `json:"Name"`
		SecretString       *string `json:"SecretString"`
		SecretBinary       []byte  `json:"SecretBinary"`
		Description        string  `json:"Description"`
		Tags               []tag   `json:"Tags"`
		ClientRequestToken string  `json:"ClientRequestToken"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Name == nil || !nameRE.MatchString(*in.Name) {
		return nil, errf("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	arn := h.arnPrefix(c.p.Account) + *in.Name + "-" + suffix()
	q := ecrmodel.Authz{Principal: c.p, Action: "secretsmanager:CreateSecret", Resource: arn, Registry: c.p.Account,
		HTTP: c.r, Event: c.op, RequestID: c.id, RequestTags: toTags(in.Tags)}
	if h.Authz != nil {
		if err := h.Authz.Authorize(ctx, q); err != nil {
			return nil, err
		}
	}
	value := ""
	switch {
	case in.SecretString != nil:
		value = *in.SecretString
	case in.SecretBinary != nil:
		value = string(in.SecretBinary)
	}
	sealed, err := h.seal(value)
	if err != nil {
		return nil, err
	}
	vid := in.ClientRequestToken
	if vid == "" {
		vid = versionID()
	}
	s, err := h.Store.CreateSecret(ctx, metadata.Secret{Account: c.p.Account, Name: *in.Name, ARN: arn,
		Description: in.Description, Value: sealed, VersionID: vid, Tags: toTags(in.Tags)})
	if metadata.Is(err, metadata.AlreadyExists) {
		return nil, errf("ResourceExistsException", "The operation failed because the secret %s already exists.", *in.Name)
	}
	if err != nil {
		return nil, err
	}
	return map[string]string{"ARN": s.ARN, "Name": s.Name, "VersionId": s.VersionID}, nil
}

type idIn struct {
	SecretID *string `json:"SecretId"`
}

func (h *Handler) getSecretValue(ctx context.Context, c *call) (any, error) {
	var in idIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	v, err := auth.OpenSecret(h.Keyring, s.Value)
	if err != nil {
		return nil, errf("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": s.VersionID, "SecretString": v,
		"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": epoch(s.UpdatedAt)}, nil
}

func (h *Handler) putSecretValue(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID           *string `json:"SecretId"`
		SecretString       *string `json:"SecretString"`
		SecretBinary       []byte  `json:"SecretBinary"`
		ClientRequestToken string  `json:"ClientRequestToken"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	value := string(in.SecretBinary)
	if in.SecretString != nil {
		value = *in.SecretString
	}
	sealed, err := h.seal(value)
	if err != nil {
		return nil, err
	}
	vid := in.ClientRequestToken
	if vid == "" {
		vid = versionID()
	}
	s, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		x.Value, x.VersionID = sealed, vid
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": s.VersionID, "VersionStages": []string{"AWSCURRENT"}}, nil
}

func describe(s metadata.Secret) map[string]any {
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "Description": s.Description, "Tags": fromTags(s.Tags),
		"CreatedDate": epoch(s.CreatedAt), "LastChangedDate": epoch(s.UpdatedAt),
		"VersionIdsToStages": map[string][]string{s.VersionID: {"AWSCURRENT"}}}
}

func (h *Handler) describeSecret(ctx context.Context, c *call) (any, error) {
	var in idIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	return describe(s), nil
}

func (h *Handler) listSecrets(ctx context.Context, c *call) (any, error) {
	var in struct {
		MaxResults *int   `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if err := h.authorize(ctx, c, "*"); err != nil {
		return nil, err
	}
	n := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, errf("InvalidParameterException", "MaxResults must be between 1 and 100.")
		}
		n = *in.MaxResults
	}
	list, next, err := h.Store.ListSecrets(ctx, c.p.Account, metadata.Page{Limit: n, After: in.NextToken})
	if err != nil {
		return nil, err
	}
	out := []map[string]any{}
	for _, s := range list {
		out = append(out, describe(s))
	}
	res := map[string]any{"SecretList": out}
	if next != "" {
		res["NextToken"] = next
	}
	return res, nil
}

func (h *Handler) deleteSecret(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID                   *string `json:"SecretId"`
		ForceDeleteWithoutRecovery bool    `json:"ForceDeleteWithoutRecovery"`
		RecoveryWindowInDays       *int    `json:"RecoveryWindowInDays"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	// berth keeps no recovery window: the secret is gone at once.
	if _, err := h.Store.DeleteSecret(ctx, c.p.Account, s.Name); err != nil {
		return nil, err
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "DeletionDate": epoch(time.Now())}, nil
}

func (h *Handler) tagResource(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID *string `json:"SecretId"`
		Tags     []tag   `json:"Tags"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	add := make([]metadata.ResourceTag, len(in.Tags))
	for i, t := range in.Tags {
		add[i] = metadata.ResourceTag{Key: t.Key, Value: t.Value}
	}
	_, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		x.Tags = metadata.SetTags(x.Tags, add)
		return nil
	})
	return struct{}{}, err
}

func (h *Handler) untagResource(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID *string  `json:"SecretId"`
		TagKeys  []string `json:"TagKeys"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	_, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		x.Tags = metadata.RemoveTags(x.Tags, in.TagKeys)
		return nil
	})
	return struct{}{}, err
}

// Credentials opens a pull-through cache rule's credentialArn: the
// secret of account with that ARN, a JSON {"username", "accessToken"}.
func Credentials(st Store, kr *crypt.Keyring) func(ctx context.Context, account, arn string) (user, password string, err error) {
	return func(ctx context.Context, account, arn string) (string, string, error) {
		s, err := st.GetSecret(ctx, account, arn)
		if err != nil {
			return "", "", err
		}
		v, err := auth.OpenSecret(kr, s.Value)
		if err != nil {
			return "", "", err
		}
		var c struct {
			Username    string `json:"username"`
			AccessToken string `json:"accessToken"`
		}
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return "", "", fmt.Errorf("secret %s is not {\"username\",\"accessToken\"} JSON", s.Name)
		}
		return c.Username, c.AccessToken, nil
	}
}
