package auth

import (
	"context"
	"strings"
)

// PrincipalType is aws:PrincipalType.
type PrincipalType string

// The principal types berth authenticates.
const (
	// TypeUser is an IAM user signing with its access key.
	TypeUser PrincipalType = "User"
	// TypeAssumedRole is an STS role session (or a registry credential
	// bound to a role).
	TypeAssumedRole PrincipalType = "AssumedRole"
	// TypeService is a service principal (codebuild.amazonaws.com, ...)
	// holding a service credential: it may only assume roles that trust it.
	TypeService PrincipalType = "Service"
	// TypeWebIdentity is the holder of an OIDC token calling
	// AssumeRoleWithWebIdentity: ARN is the IAM OIDC provider's ARN and
	// Account its account. It exists only for that call's trust check.
	TypeWebIdentity PrincipalType = "WebIdentityUser"
)

// Principal is an authenticated caller.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN as AWS prints it in denials, e.g.
	// arn:aws:iam::123456789012:user/alice or
	// arn:aws:sts::123456789012:assumed-role/role/session; for a service
	// principal its name (codebuild.amazonaws.com).
	ARN string
	// Account is the 12-digit account the principal belongs to (for a
	// service principal, the account whose roles it may assume).
	Account string
	// AccessKeyID is the key the request was signed with, or the key the
	// login token was issued to (revoking it revokes the token). For a
	// registry credential it is the credential's id.
	AccessKeyID string
	// UserID is aws:userid (AIDA… for users, AROA…:session for roles).
	UserID string
	// Username is aws:username ("" for roles).
	Username string
	// RoleARN is the role of an assumed-role session (what aws:PrincipalArn
	// is and what resource policies name); "" otherwise.
	RoleARN string
	// SessionName is the role session name.
	SessionName string
}

// PrincipalARN is aws:PrincipalArn: the role for a session, else the ARN.
func (p Principal) PrincipalARN() string {
	if p.RoleARN != "" {
		return p.RoleARN
	}
	return p.ARN
}

// Kind is the principal's type, derived from its ARN for principals made
// before types were recorded (login tokens of older berths).
func (p Principal) Kind() PrincipalType {
	switch {
	case p.Type != "":
		return p.Type
	case strings.Contains(p.ARN, ":assumed-role/"):
		return TypeAssumedRole
	case !strings.HasPrefix(p.ARN, "arn:"):
		return TypeService
	}
	return TypeUser
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
