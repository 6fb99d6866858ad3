package secretsmanager

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// The staging labels berth keeps: the current value and the one before.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// Recovery window bounds of DeleteSecret, in days.
const (
	minRecoveryDays     = 7
	maxRecoveryDays     = 30
	defaultRecoveryDays = 30
)

// version is one stored value of a secret and its staging label.
type version struct {
	id, stage string
	value     []byte
}

// versions are s's values by stage: the current one, then the previous
// one when there is one.
func versions(s metadata.Secret) []version {
	vs := []version{{s.VersionID, stageCurrent, s.Value}}
	if s.PreviousVersionID != "" {
		vs = append(vs, version{s.PreviousVersionID, stagePrevious, s.PreviousValue})
	}
	return vs
}

// liveSecret is secret for calls that read or change the value: a secret
// scheduled for deletion refuses them.
func (h *Handler) liveSecret(ctx context.Context, c *call, id *string) (metadata.Secret, error) {
	s, err := h.secret(ctx, c, id)
	if err == nil && !s.DeletionDate.IsZero() {
		return s, errMarkedDeleted
	}
	return s, err
}

var (
	errMarkedDeleted = errf("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	errVersionExists = errf("ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
)

func (h *Handler) seal(v string) ([]byte, error) { return auth.SealSecret(h.Keyring, v) }

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// valueIn is a secret value as CreateSecret and PutSecretValue take it.
type valueIn struct {
	SecretString *string `json:"SecretString"`
	SecretBinary []byte  `json:"SecretBinary"`
}

func (v valueIn) text() string {
	if v.SecretString != nil {
		return *v.SecretString
	}
	return string(v.SecretBinary)
}

func (h *Handler) createSecret(ctx context.Context, c *call) (any, error) {
	var in struct {
		Name *string `json:"Name"`
		valueIn
		Description        string `json:"Description"`
		Tags               []tag  `json:"Tags"`
		ClientRequestToken string `json:"ClientRequestToken"`
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
	sealed, err := h.seal(in.text())
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
		if old, gerr := h.Store.GetSecret(ctx, c.p.Account, *in.Name); gerr == nil && !old.DeletionDate.IsZero() {
			return nil, errf("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
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
	var in struct {
		SecretID     *string `json:"SecretId"`
		VersionID    string  `json:"VersionId"`
		VersionStage string  `json:"VersionStage"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.liveSecret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	var found *version
	for _, v := range versions(s) {
		if (in.VersionID == "" || in.VersionID == v.id) && (in.VersionStage == "" || in.VersionStage == v.stage) {
			found = &v
			break
		}
	}
	switch {
	case found == nil && in.VersionID != "":
		return nil, errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: %s", in.VersionID)
	case found == nil:
		return nil, errf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", in.VersionStage)
	}
	value, vid, stage := found.value, found.id, found.stage
	v, err := auth.OpenSecret(h.Keyring, value)
	if err != nil {
		return nil, errf("DecryptionFailure", "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": vid, "SecretString": v,
		"VersionStages": []string{stage}, "CreatedDate": epoch(s.UpdatedAt)}, nil
}

// putSecretValue makes a new AWSCURRENT version; the current one becomes
// AWSPREVIOUS. A repeated ClientRequestToken with the same value is the
// same version (the SDKs retry with it); with another value it is refused.
func (h *Handler) putSecretValue(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID *string `json:"SecretId"`
		valueIn
		ClientRequestToken string `json:"ClientRequestToken"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.liveSecret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	value := in.text()
	vid := in.ClientRequestToken
	for _, v := range versions(s) {
		if vid == "" || v.id != vid {
			continue
		}
		if old, err := auth.OpenSecret(h.Keyring, v.value); err != nil || subtle.ConstantTimeCompare([]byte(old), []byte(value)) != 1 {
			return nil, errVersionExists
		}
		return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": vid, "VersionStages": []string{v.stage}}, nil
	}
	if vid == "" {
		vid = versionID()
	}
	sealed, err := h.seal(value)
	if err != nil {
		return nil, err
	}
	s, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		switch {
		case !x.DeletionDate.IsZero():
			return errMarkedDeleted
		case vid == x.VersionID || vid == x.PreviousVersionID:
			return errVersionExists // a concurrent put with the same token
		}
		x.PreviousValue, x.PreviousVersionID = x.Value, x.VersionID
		x.Value, x.VersionID = sealed, vid
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "VersionId": s.VersionID, "VersionStages": []string{stageCurrent}}, nil
}

func describe(s metadata.Secret) map[string]any {
	stages := map[string][]string{}
	for _, v := range versions(s) {
		stages[v.id] = []string{v.stage}
	}
	out := map[string]any{"ARN": s.ARN, "Name": s.Name, "Description": s.Description, "Tags": fromTags(s.Tags),
		"CreatedDate": epoch(s.CreatedAt), "LastChangedDate": epoch(s.UpdatedAt), "VersionIdsToStages": stages}
	if !s.DeletionDate.IsZero() {
		out["DeletedDate"] = epoch(s.DeletionDate) // "the date the secret is scheduled for deletion"
	}
	return out
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
		MaxResults             *int   `json:"MaxResults"`
		NextToken              string `json:"NextToken"`
		IncludePlannedDeletion bool   `json:"IncludePlannedDeletion"`
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
	list, next, err := h.Store.ListSecrets(ctx, c.p.Account, in.IncludePlannedDeletion, metadata.Page{Limit: n, After: in.NextToken})
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

// deleteSecret schedules the deletion after a recovery window (7–30 days,
// 30 by default) during which RestoreSecret brings the secret back, or
// deletes at once with ForceDeleteWithoutRecovery — which, as on AWS,
// also succeeds for a secret that does not exist.
func (h *Handler) deleteSecret(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID                   *string `json:"SecretId"`
		ForceDeleteWithoutRecovery bool    `json:"ForceDeleteWithoutRecovery"`
		RecoveryWindowInDays       *int64  `json:"RecoveryWindowInDays"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.ForceDeleteWithoutRecovery && in.RecoveryWindowInDays != nil {
		return nil, errf("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(defaultRecoveryDays)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
		if days < minRecoveryDays || days > maxRecoveryDays {
			return nil, errf("InvalidParameterException", "The RecoveryWindowInDays value must be between %d and %d days (inclusive).", minRecoveryDays, maxRecoveryDays)
		}
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if in.ForceDeleteWithoutRecovery {
		if errors.Is(err, errNotFound) {
			return map[string]any{"Name": nameOf(*in.SecretID), "DeletionDate": epoch(time.Now())}, nil
		}
		if err != nil {
			return nil, err
		}
		if _, err := h.Store.DeleteSecret(ctx, c.p.Account, s.Name); err != nil && !metadata.Is(err, metadata.NotFound) {
			return nil, err
		}
		return map[string]any{"ARN": s.ARN, "Name": s.Name, "DeletionDate": epoch(time.Now())}, nil
	}
	if err != nil {
		return nil, err
	}
	if !s.DeletionDate.IsZero() {
		return nil, errMarkedDeleted
	}
	when := time.Now().Add(time.Duration(days) * 24 * time.Hour)
	s, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		if !x.DeletionDate.IsZero() {
			return errMarkedDeleted
		}
		x.DeletionDate = when
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"ARN": s.ARN, "Name": s.Name, "DeletionDate": epoch(s.DeletionDate)}, nil
}

// restoreSecret cancels a scheduled deletion.
func (h *Handler) restoreSecret(ctx context.Context, c *call) (any, error) {
	var in idIn
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	s, err := h.secret(ctx, c, in.SecretID)
	if err != nil {
		return nil, err
	}
	s, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		x.DeletionDate = time.Time{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"ARN": s.ARN, "Name": s.Name}, nil
}

// nameOf is the secret name an id (a name or an ARN) gives.
func nameOf(id string) string {
	if _, after, ok := strings.Cut(id, ":secret:"); ok {
		return after
	}
	return id
}
func (h *Handler) tagResource(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID *string `json:"SecretId"`
		Tags     []tag   `json:"Tags"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	add := make([]metadata.ResourceTag, len(in.Tags))
	for i, t := range in.Tags {
		add[i] = metadata.ResourceTag{Key: t.Key, Value: t.Value}
	}
	return h.retag(ctx, c, in.SecretID, func(tags []metadata.ResourceTag) []metadata.ResourceTag {
		return metadata.SetTags(tags, add)
	})
}

func (h *Handler) untagResource(ctx context.Context, c *call) (any, error) {
	var in struct {
		SecretID *string  `json:"SecretId"`
		TagKeys  []string `json:"TagKeys"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return h.retag(ctx, c, in.SecretID, func(tags []metadata.ResourceTag) []metadata.ResourceTag {
		return metadata.RemoveTags(tags, in.TagKeys)
	})
}

// retag changes the tags of the secret id names (TagResource,
// UntagResource: an empty answer).
func (h *Handler) retag(ctx context.Context, c *call, id *string, change func([]metadata.ResourceTag) []metadata.ResourceTag) (any, error) {
	s, err := h.secret(ctx, c, id)
	if err != nil {
		return nil, err
	}
	_, err = h.Store.UpdateSecret(ctx, c.p.Account, s.Name, func(x *metadata.Secret) error {
		x.Tags = change(x.Tags)
		return nil
	})
	return struct{}{}, err
}
