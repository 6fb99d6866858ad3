package auth

import "net/http"

// CredentialVerifier verifies a signed request; *sigv4.Verifier is one.
// Precheck refuses from the headers alone what cannot authenticate
// whatever the body (no signature, an unknown key, a wrong scope), so the
// body need not be read.
type CredentialVerifier interface {
	Precheck(r *http.Request, service string) error
	Verify(r *http.Request, body []byte, service string) (Credential, error)
}

// APIAuthenticator authenticates AWS API requests by SigV4; it is the ECR
// API's Authenticator.
type APIAuthenticator struct {
	Verifier CredentialVerifier
	// Service is the signing name (DefaultService when empty).
	Service string
}

// DefaultService is ECR's SigV4 signing name.
const DefaultService = "ecr"

func (a *APIAuthenticator) service() string {
	if a.Service == "" {
		return DefaultService
	}
	return a.Service
}

// Precheck refuses, before its body is read, a request that cannot
// authenticate: unauthenticated callers must not cost the memory of a
// body. Its errors are Authenticate's.
func (a *APIAuthenticator) Precheck(r *http.Request) error {
	return a.Verifier.Precheck(r, a.service())
}

// Authenticate verifies r (whose body the caller read) and returns the
// caller. Verification errors name their AWS exception (see
// auth/sigv4.Error) and pass through unchanged.
func (a *APIAuthenticator) Authenticate(r *http.Request, body []byte) (Principal, error) {
	c, err := a.Verifier.Verify(r, body, a.service())
	if err != nil {
		return Principal{}, err
	}
	p := c.Principal
	if p.AccessKeyID == "" {
		p.AccessKeyID = c.AccessKeyID
	}
	return p, nil
}
