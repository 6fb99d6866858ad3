// Package auth will decide who is asking and whether they may: SigV4
// verification, ECR login tokens and IAM policy evaluation (issues 3 and 4).
// The registry core serves anonymously on a trusted listener until then.
package auth
