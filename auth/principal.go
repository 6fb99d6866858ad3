package auth

import "context"

// Principal is an authenticated caller.
type Principal struct {
	// ARN is the caller's ARN as AWS prints it in denials, e.g.
	// arn:aws:iam::123456789012:user/alice or
	// arn:aws:sts::123456789012:assumed-role/role/session.
	ARN string
	// Account is the 12-digit account the principal belongs to.
	Account string
	// AccessKeyID is the key the request was signed with, or the key the
	// login token was issued to (revoking it revokes the token).
	AccessKeyID string
	// UserID is aws:userid (AIDA… for users, AROA…:session for roles).
	UserID string
	// Username is aws:username ("" for roles).
	Username string
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
