package sts

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/iam"
)

// Error is an STS error as sent on the wire.
type Error struct {
	Code, Message string
	// Status is the HTTP status; 0 means 400, except AccessDenied (403)
	// and InternalFailure (500).
	Status int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus is the status the error is sent with.
func (e *Error) HTTPStatus() int {
	switch {
	case e.Status != 0:
		return e.Status
	case e.Code == codeAccessDenied:
		return http.StatusForbidden
	case e.Code == codeInternalFailure:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

const (
	codeAccessDenied    = "AccessDenied"
	codeInternalFailure = "InternalFailure"
	codeValidation      = "ValidationError"
	codeInvalidAction   = "InvalidAction"
	codeMalformedInput  = "MalformedInput"
)

// AccessDenied is 403 AccessDenied, e.g. "User: ARN is not authorized to
// perform: sts:AssumeRole on resource: ROLE".
func AccessDenied(msg string) *Error {
	return &Error{Code: codeAccessDenied, Message: msg, Status: http.StatusForbidden}
}

// Validation is 400 ValidationError, e.g. "The requested DurationSeconds
// exceeds the MaxSessionDuration set for this role.".
func Validation(format string, a ...any) *Error {
	return &Error{Code: codeValidation, Message: sprintf(format, a...)}
}

// MalformedPolicyDocument is 400 MalformedPolicyDocument, which SDKs
// surface as MalformedPolicyDocumentException.
func MalformedPolicyDocument(msg string) *Error {
	return &Error{Code: "MalformedPolicyDocument", Message: msg}
}

// PackedPolicyTooLarge is 400 PackedPolicyTooLarge.
func PackedPolicyTooLarge(msg string) *Error {
	return &Error{Code: "PackedPolicyTooLarge", Message: msg}
}

// internalFailure is what any unexpected error becomes: no details leave
// the server (they are logged with the request id).
func internalFailure() *Error {
	return &Error{Code: codeInternalFailure, Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
}

func invalidAction(action, version string) *Error {
	return &Error{Code: codeInvalidAction, Message: fmt.Sprintf("Could not find operation %s for version %s", action, version)}
}

func sprintf(format string, a ...any) string {
	if len(a) == 0 {
		return format
	}
	return fmt.Sprintf(format, a...)
}

// Messages AWS's query front end sends for authentication failures.
const (
	msgMissingToken = "Request is missing Authentication Token"
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// authError translates an authentication failure into what STS answers.
// sigv4 names ECR's JSON exceptions; STS, a Query service, has its own
// codes and statuses, chosen here by the failure's Kind. It reports false
// for errors that are not about the request (a failing key store).
func authError(err error) (*Error, bool) {
	var se *Error
	if errors.As(err, &se) {
		return se, true
	}
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Kind == auth.UnknownKey {
		return &Error{Code: "InvalidClientTokenId", Message: msgInvalidToken, Status: http.StatusForbidden}, true
	}
	var ve *sigv4.Error
	if !errors.As(err, &ve) {
		return nil, false
	}
	switch ve.Kind {
	case sigv4.Missing:
		return &Error{Code: "MissingAuthenticationToken", Message: msgMissingToken, Status: http.StatusForbidden}, true
	case sigv4.Incomplete:
		return &Error{Code: "IncompleteSignature", Message: ve.Message, Status: http.StatusBadRequest}, true
	case sigv4.UnknownKey:
		return &Error{Code: "InvalidClientTokenId", Message: msgInvalidToken, Status: http.StatusForbidden}, true
	case sigv4.BadSignature, sigv4.Skewed:
		// STS reports skew as SignatureDoesNotMatch with the "Signature
		// expired: … is now earlier than …" message JSON services use.
		return &Error{Code: "SignatureDoesNotMatch", Message: ve.Message, Status: http.StatusForbidden}, true
	case sigv4.ExpiredToken:
		return &Error{Code: "ExpiredToken", Message: msgExpiredToken, Status: http.StatusBadRequest}, true
	}
	return nil, false
}

// roleError words an error of the identity service for STS (nil for an
// unexpected one, which is an internal failure): the service names the
// kind, the edge the code and the status.
func roleError(err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	var ie *iam.Error
	if !errors.As(err, &ie) {
		return nil
	}
	switch ie.Kind {
	case iam.Invalid:
		return Validation("%s", ie.Message)
	case iam.Denied:
		return AccessDenied(ie.Message)
	case iam.Malformed:
		return MalformedPolicyDocument(ie.Message)
	case iam.Limit:
		return PackedPolicyTooLarge(ie.Message)
	case iam.InvalidToken, iam.ExpiredToken, iam.IDPUnreachable, iam.InvalidParameter:
		return &Error{Code: ie.Kind.Code(), Message: ie.Message}
	}
	return nil
}

// AuthError is authError for the other Query edge (the IAM API), which
// answers authentication failures with the same codes.
func AuthError(err error) (*Error, bool) { return authError(err) }
