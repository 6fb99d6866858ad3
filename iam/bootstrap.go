package iam

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/metadata"
)

// AdminPolicy is what the bootstrap admin user holds.
const AdminPolicy = "AdministratorAccess"

// asError is errors.As for *Error.
func asError(err error, target **Error) bool { return errors.As(err, target) }

// EnsureBootstrapAdmin makes, on first start, the registry's account and
// its admin user (berth-admin, AdministratorAccess) and gives the user an
// access key when it has none; the secret is returned for the caller to
// show once. An admin key made by an older berth gets its user record.
func (s *Service) EnsureBootstrapAdmin(ctx context.Context, account string) (id, secret string, created bool, err error) {
	const op = "EnsureBootstrapAdmin"
	if _, err := s.EnsureAccount(ctx, account, "berth"); err != nil {
		return "", "", false, err
	}
	arn := UserARN(account, "/", auth.BootstrapUser)
	if _, err := s.Store.GetPrincipal(ctx, arn); metadata.Is(err, metadata.NotFound) {
		if _, err := s.CreateUser(ctx, account, auth.BootstrapUser, "/", nil); err != nil && KindOf(err) != Exists {
			return "", "", false, err
		}
		if err := s.AttachPolicy(ctx, arn, AdminPolicy); err != nil {
			return "", "", false, err
		}
	} else if err != nil {
		return "", "", false, internal(op, err)
	}
	id, secret, created, err = auth.EnsureBootstrapAdmin(ctx, s.Store, s.Keyring, account)
	if err != nil {
		return "", "", false, internal(op, err)
	}
	return id, secret, created, nil
}
