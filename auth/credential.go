package auth

import (
	"fmt"
	"time"
)

// Credential is an access key as SigV4 verification needs it. It is
// sigv4.Credential; it lives here so that key sources (KeyLookup, later
// STS) need not import the verifier, which imports this package.
type Credential struct {
	AccessKeyID string
	Secret      string
	// SessionToken is the X-Amz-Security-Token temporary credentials
	// require; "" for long-lived keys (which must not send one).
	SessionToken string
	// Expires ends temporary credentials; zero means never.
	Expires   time.Time
	Principal Principal
	// Region is set by verification: the region of the request's
	// credential scope.
	Region string
}

// String hides the secret parts, should a Credential reach a log.
func (c Credential) String() string {
	return fmt.Sprintf("Credential{AccessKeyID:%s Principal:%s Region:%s}", c.AccessKeyID, c.Principal.ARN, c.Region)
}

// GoString hides them from %#v too.
func (c Credential) GoString() string { return c.String() }
