// Package ecrmodel is Amazon ECR's model as berth keeps it, below every
// edge (ecrapi, registry, sts) and service (iam, lifecycle, gc): the
// repository name grammar, ARNs and registry hosts, the one wildcard
// matcher, tag immutability and its message, account settings and their
// defaults, creation templates and create-on-push, request ids, and the
// typed errors edges map to ECR exceptions or registry error codes. One
// rule, one place: every edge asks here.
package ecrmodel
