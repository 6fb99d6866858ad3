package sts

import (
	"context"
	"net/http"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/iam"
)

// Authenticator verifies the request's SigV4 signature for signing name
// "sts" over body. Precheck refuses, before the body is read, a request
// that cannot authenticate whatever its body. *auth.APIAuthenticator with
// Service "sts" is one.
type Authenticator interface {
	Precheck(r *http.Request) error
	Authenticate(r *http.Request, body []byte) (auth.Principal, error)
}

// Roles performs AssumeRole for an authenticated caller; r is the HTTP
// request (for aws:SourceIp, aws:SecureTransport). The input has passed the
// API reference's constraints. An *iam.Error is worded for STS (see
// roleError); any other error is an internal failure.
type Roles interface {
	AssumeRole(ctx context.Context, caller auth.Principal, in iam.AssumeRoleInput, r *http.Request) (iam.AssumeRoleOutput, error)
	// AssumeRoleWithWebIdentity is unsigned: the token is the credential.
	AssumeRoleWithWebIdentity(ctx context.Context, in iam.WebIdentityInput, r *http.Request) (iam.WebIdentityOutput, error)
	// GetSessionToken: durationSeconds 0 means the default.
	GetSessionToken(ctx context.Context, caller auth.Principal, durationSeconds int32) (iam.AssumeRoleOutput, error)
}
