// Package oidc verifies OpenID Connect ID tokens (JWTs) against their
// issuer's discovery document and JWKS, fetched over HTTPS and cached, as
// STS's AssumeRoleWithWebIdentity does. It knows nothing of IAM: the
// caller decides which issuers and audiences are acceptable.
package oidc

// Kind classifies a verification failure; the STS edge maps it to AWS's
// code (InvalidIdentityToken, ExpiredTokenException, IDPCommunicationError).
type Kind int

const (
	// Invalid: the token is malformed, badly signed or has wrong claims.
	Invalid Kind = iota + 1
	// Expired: exp (plus the allowed skew) has passed, or nbf is ahead.
	Expired
	// NoKey: the issuer's keys could be read but none verifies the token's
	// kid (after one refetch), or the discovery document is unusable.
	NoKey
	// Unreachable: the issuer could not be reached (network, TLS, 5xx).
	Unreachable
)

// Error is a verification failure; Message is safe to show the caller
// (it never contains the token).
type Error struct {
	Kind    Kind
	Message string
	// Err is the cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(k Kind, msg string, cause error) *Error { return &Error{Kind: k, Message: msg, Err: cause} }
