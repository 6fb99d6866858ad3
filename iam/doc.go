// Package iam is berth's identity and access management: accounts, users
// with access keys, roles with trust policies, inline and managed
// policies, STS role sessions and static registry credentials (Service),
// and the Authorizer that decides every ECR call and every registry
// request with AWS's policy evaluation (auth/policy) over what the
// metadata store holds, caching per principal and policy version.
package iam
