package iamapi

import (
	"net/http"

	"github.com/berth-registry/berth/iam"
)

// Error is an IAM error as sent.
type Error struct {
	Code, Message string
	Status        int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) status() int {
	if e.Status != 0 {
		return e.Status
	}
	return http.StatusBadRequest
}

// fromKind is IAM's code and status for an iam.Kind.
func fromKind(k iam.Kind, msg string) *Error {
	switch k {
	case iam.NotFound:
		return &Error{Code: "NoSuchEntity", Message: msg, Status: http.StatusNotFound}
	case iam.Exists:
		return &Error{Code: "EntityAlreadyExists", Message: msg, Status: http.StatusConflict}
	case iam.Conflict:
		return &Error{Code: "DeleteConflict", Message: msg, Status: http.StatusConflict}
	case iam.Limit:
		return &Error{Code: "LimitExceeded", Message: msg, Status: http.StatusConflict}
	case iam.Malformed:
		return &Error{Code: "MalformedPolicyDocument", Message: msg}
	case iam.Denied:
		return &Error{Code: "AccessDenied", Message: msg, Status: http.StatusForbidden}
	}
	return &Error{Code: "InvalidInput", Message: msg}
}

func noSuch(format string, a ...any) *Error {
	return &Error{Code: "NoSuchEntity", Message: sprintf(format, a...), Status: http.StatusNotFound}
}

func invalid(format string, a ...any) *Error {
	return &Error{Code: "ValidationError", Message: sprintf(format, a...)}
}
