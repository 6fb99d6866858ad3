package sigv4

import (
	"fmt"
	"net/http"
)

// Kind classifies a verification failure.
type Kind int

const (
	// Missing: the request carries no authentication at all.
	Missing Kind = iota + 1
	// Incomplete: the Authorization header or presigned query is malformed
	// or lacks a part.
	Incomplete
	// UnknownKey: the access key id is unknown or inactive, or the session
	// token is missing, unexpected or wrong.
	UnknownKey
	// BadSignature: the signature, its scope or the payload hash do not
	// match.
	BadSignature
	// Skewed: the request date is outside the allowed clock skew, or a
	// presigned request is past its X-Amz-Expires.
	Skewed
	// ExpiredToken: the temporary credentials have expired.
	ExpiredToken
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "missing authentication"
	case Incomplete:
		return "incomplete signature"
	case UnknownKey:
		return "unrecognized client"
	case BadSignature:
		return "invalid signature"
	case Skewed:
		return "signature expired"
	case ExpiredToken:
		return "expired token"
	}
	return "error"
}

// Error is a verification failure carrying the AWS exception name (Type),
// AWS's message and the HTTP status AWS answers with. Messages never hold
// secrets: no secret key, no derived key, no expected signature.
type Error struct {
	Op      string
	Kind    Kind
	Type    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// AWSErrorType, AWSMessage and HTTPStatus let the API edge send the error
// as AWS does.
func (e *Error) AWSErrorType() string { return e.Type }
func (e *Error) AWSMessage() string   { return e.Message }
func (e *Error) HTTPStatus() int      { return e.Status }

// Messages AWS sends; see the package tests for where each is checked.
const (
	msgMissing         = "Missing Authentication Token"
	msgInvalidToken    = "The security token included in the request is invalid."
	msgExpiredToken    = "The security token included in the request is expired"
	msgSignatureDiffer = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

func newErr(k Kind, typ string, status int, format string, a ...any) *Error {
	msg := format
	if len(a) > 0 {
		msg = fmt.Sprintf(format, a...)
	}
	return &Error{Op: "sigv4.Verify", Kind: k, Type: typ, Message: msg, Status: status}
}

func missingAuth() *Error {
	// API-Gateway-fronted services (ECR among them) answer 403 here; older
	// JSON services (DynamoDB) say "Request is missing Authentication
	// Token" with 400.
	return newErr(Missing, "MissingAuthenticationTokenException", http.StatusForbidden, msgMissing)
}

func incomplete(format string, a ...any) *Error {
	return newErr(Incomplete, "IncompleteSignatureException", http.StatusBadRequest, format, a...)
}

func invalidSignature(format string, a ...any) *Error {
	return newErr(BadSignature, "InvalidSignatureException", http.StatusBadRequest, format, a...)
}

// UnrecognizedClient is the error for an unknown or inactive access key and
// for a missing or wrong session token. Lookup functions return it for keys
// they do not know.
func UnrecognizedClient() *Error {
	return newErr(UnknownKey, "UnrecognizedClientException", http.StatusBadRequest, msgInvalidToken)
}

func expiredToken() *Error {
	return newErr(ExpiredToken, "ExpiredTokenException", http.StatusBadRequest, msgExpiredToken)
}

func skewed(format string, a ...any) *Error {
	// JSON services (ECR, DynamoDB, ...) report skew as
	// InvalidSignatureException; query services say RequestExpired.
	return newErr(Skewed, "InvalidSignatureException", http.StatusBadRequest, format, a...)
}
