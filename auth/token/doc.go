// Package token mints and checks ECR login tokens: the password half of
// GetAuthorizationToken's "AWS:<password>", which docker and the other
// registry clients then send as HTTP Basic credentials on every /v2/
// request. A token is a compact JWT signed with ES256 under a key from a
// small key set (Keys) persisted beside berth's other keys; the kid header
// names the key, so a rotation leaves earlier tokens valid until they
// expire. Any berth node sharing the key file verifies any node's tokens.
package token
