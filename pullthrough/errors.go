// Package pullthrough is berth's pull-through cache: the rules of a
// registry (ECR's Create/Describe/Update/Delete/ValidatePullThroughCacheRule,
// with ECR's validation, limits and errors), the upstream client that
// logs in to and reads from an upstream registry over HTTPS, and the
// importer the /v2 edge runs: a miss is answered from the upstream at once
// and imported in the background (importer.go, flight.go), a blob is
// streamed to the client while it is stored (stream.go), each fetch once
// across nodes (lease.go). ECR-to-ECR rules log in upstream as their
// customRoleArn (ecrrole.go).
//
// Errors leave the package as *Error values that name their ECR exception;
// the edges map them once (ecrapi sends them as they are).
package pullthrough

import (
	"fmt"
	"net/http"
)

// Error is a pull-through cache error in ECR's words: Type is the ECR
// exception's shape name.
type Error struct {
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// AWSErrorType, AWSMessage and HTTPStatus make *Error an error the ECR
// API edge sends as is.
func (e *Error) AWSErrorType() string { return e.Type }
func (e *Error) AWSMessage() string   { return e.Message }
func (e *Error) HTTPStatus() int {
	if e.Type == "ServerException" {
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// ECR's exception messages (the model's documentation strings).
const (
	msgAlreadyExists   = "A pull through cache rule with these settings already exists for the private registry."
	msgNotFound        = "The pull through cache rule was not found. Specify a valid pull through cache rule and try again."
	msgUnsupported     = "The specified upstream registry isn't supported."
	msgSecretNotFound  = "The ARN of the secret specified in the pull through cache rule was not found. Update the pull through cache rule with a valid secret ARN and try again."
	msgLimitExceeded   = "The operation did not succeed because it would have exceeded a service limit for your account."
	msgUnableToAccess  = "The secret is unable to be accessed. Verify the resource permissions for the secret and try again."
	msgUnableToDecrypt = "The secret is accessible but is unable to be decrypted. Verify the resource permisisons and try again."
)

// ErrNotFound etc. are the typed errors of the rules.
var (
	ErrRuleExists     = &Error{Type: "PullThroughCacheRuleAlreadyExistsException", Message: msgAlreadyExists}
	ErrRuleNotFound   = &Error{Type: "PullThroughCacheRuleNotFoundException", Message: msgNotFound}
	ErrUnsupported    = &Error{Type: "UnsupportedUpstreamRegistryException", Message: msgUnsupported}
	ErrSecretNotFound = &Error{Type: "SecretNotFoundException", Message: msgSecretNotFound}
	ErrLimitExceeded  = &Error{Type: "LimitExceededException", Message: msgLimitExceeded}
	ErrSecretAccess   = &Error{Type: "UnableToAccessSecretException", Message: msgUnableToAccess}
	ErrSecretDecrypt  = &Error{Type: "UnableToDecryptSecretValueException", Message: msgUnableToDecrypt}
)

// invalidParam is ECR's InvalidParameterException wording.
func invalidParam(field, constraint string) *Error {
	return &Error{Type: "InvalidParameterException",
		Message: fmt.Sprintf("Invalid parameter at '%s' failed to satisfy constraint: '%s'", field, constraint)}
}

// missingParam is AWS's ValidationException for a missing required member.
func missingParam(field string) *Error {
	return &Error{Type: "ValidationException",
		Message: fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)}
}

// validation is AWS's ValidationException for one constraint.
func validation(value, field, constraint string) *Error {
	return &Error{Type: "ValidationException",
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)}
}
