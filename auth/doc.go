// Package auth decides who is asking: SigV4 verification of API requests
// (auth/sigv4), ECR login tokens (auth/token), sealed access-key secrets and
// the bootstrap admin key. Package iam decides whether they may. Nothing
// here does network I/O of its own.
package auth
