package auth

import "net/http"

// CredentialVerifier verifies a signed request; *sigv4.Verifier is one.
type CredentialVerifier interface {
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

// Authenticate verifies r (whose body the caller read) and returns the
// caller. Verification errors name their AWS exception (see
// auth/sigv4.Error) and pass through unchanged.
func (a *APIAuthenticator) Authenticate(r *http.Request, body []byte) (Principal, error) {
	svc := a.Service
	if svc == "" {
		svc = DefaultService
	}
	c, err := a.Verifier.Verify(r, body, svc)
	if err != nil {
		return Principal{}, err
	}
	p := c.Principal
	if p.AccessKeyID == "" {
		p.AccessKeyID = c.AccessKeyID
	}
	return p, nil
}
