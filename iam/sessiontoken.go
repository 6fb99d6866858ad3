package iam

import (
	"context"
	"strings"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/metadata"
)

// DefaultSessionTokenDuration is GetSessionToken's default for IAM users.
const DefaultSessionTokenDuration = 12 * time.Hour

// IsSessionToken reports whether p signed with GetSessionToken's
// temporary credentials: such callers may use neither the IAM API nor STS
// beyond AssumeRole and GetCallerIdentity (without MFA, which berth lacks).
func IsSessionToken(p auth.Principal) bool {
	return p.Kind() == auth.TypeUser && strings.HasPrefix(p.AccessKeyID, auth.PrefixTemporary)
}

// GetSessionToken gives an IAM user signing with a long-term key
// temporary credentials with the user's permissions. No policy is
// consulted: AWS lets no policy control it.
func (r *Roles) GetSessionToken(ctx context.Context, caller auth.Principal, durationSeconds int32) (AssumeRoleOutput, error) {
	const op = "GetSessionToken"
	if caller.Kind() != auth.TypeUser || IsSessionToken(caller) {
		return AssumeRoleOutput{}, errorf(op, Denied, "Cannot call GetSessionToken with session credentials")
	}
	u, err := r.Service.Store.GetPrincipal(ctx, caller.ARN)
	if err != nil || u.Kind != metadata.KindUser {
		return AssumeRoleOutput{}, errorf(op, Denied, "Cannot call GetSessionToken with session credentials")
	}
	dur := DefaultSessionTokenDuration
	if durationSeconds != 0 {
		dur = time.Duration(durationSeconds) * time.Second
	}
	out, err := r.Service.newSession(ctx, metadata.Session{RoleARN: u.ARN, Account: u.Account, SourceARN: caller.ARN}, u, dur)
	out.AssumedRoleID, out.AssumedRoleARN = "", ""
	return out, err
}
