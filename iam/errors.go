package iam

import (
	"errors"
	"fmt"
)

// Kind classifies an error of this package; the edges (STS, the CLI, the
// declarative file) word it for their audience.
type Kind int

const (
	// Invalid: a parameter breaks a rule (name pattern, length, range).
	Invalid Kind = iota + 1
	// Malformed: a policy document does not parse or validate.
	Malformed
	// NotFound: the named entity does not exist (IAM's NoSuchEntity).
	NotFound
	// Exists: the entity exists already (EntityAlreadyExists).
	Exists
	// Limit: a quota is reached (two access keys per user, policy size).
	Limit
	// Conflict: the entity is still in use (DeleteConflict).
	Conflict
	// Denied: the caller may not (AccessDenied).
	Denied
	// Internal: the store or the keyring failed.
	Internal
	// InvalidToken: a web identity token is malformed, badly signed, from
	// no registered provider or for another audience.
	InvalidToken
	// ExpiredToken: a web identity token has expired.
	ExpiredToken
	// IDPUnreachable: the token's issuer could not be reached.
	IDPUnreachable
	// InvalidParameter: parameters that are each valid do not fit
	// together or with the caller's session (STS's
	// InvalidParameterValue, e.g. a session tag clashing with an inherited
	// transitive one).
	InvalidParameter
)

// Code is IAM's / STS's error code for k.
func (k Kind) Code() string {
	switch k {
	case Invalid:
		return "ValidationError"
	case Malformed:
		return "MalformedPolicyDocument"
	case NotFound:
		return "NoSuchEntity"
	case Exists:
		return "EntityAlreadyExists"
	case Limit:
		return "LimitExceeded"
	case Conflict:
		return "DeleteConflict"
	case Denied:
		return "AccessDenied"
	case InvalidToken:
		return "InvalidIdentityToken"
	case ExpiredToken:
		return "ExpiredTokenException"
	case IDPUnreachable:
		return "IDPCommunicationError"
	case InvalidParameter:
		return "InvalidParameterValue"
	}
	return "ServiceFailure"
}

// Error is this package's error: the operation, its kind and a message in
// AWS's words (never a secret).
type Error struct {
	Op      string
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	s := "iam: " + e.Op + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(op string, k Kind, format string, a ...any) *Error {
	return &Error{Op: op, Kind: k, Message: fmt.Sprintf(format, a...)}
}

func internal(op string, err error) *Error {
	return &Error{Op: op, Kind: Internal, Message: "internal error", Err: err}
}

// KindOf returns err's Kind (Internal when it is not an *Error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
