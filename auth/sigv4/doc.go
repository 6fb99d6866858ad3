// Package sigv4 verifies AWS Signature Version 4 on incoming requests, as an
// AWS service front end does: the Authorization header form and the
// presigned query form, the canonical request rebuilt from what arrived on
// the wire, clock skew, credential scope, session tokens. Its errors name
// AWS's exceptions (IncompleteSignatureException, InvalidSignatureException,
// UnrecognizedClientException, ...) with AWS's messages, so SDKs and the CLI
// report them exactly as they would against AWS.
//
// The package never sees where keys live: Verifier.Lookup resolves an access
// key id to its secret.
package sigv4
