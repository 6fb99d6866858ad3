// Package policy is berth's AWS IAM policy engine: it parses IAM JSON policy
// documents (identity, ECR repository, ECR registry and role trust policies)
// and decides requests the way AWS does, down to the wording of IAM's
// MalformedPolicyDocument errors and of the AccessDenied messages AWS tools
// print.
//
// The package is pure: no I/O, no clock, no mutable globals. Parse compiles
// wildcards and condition operands once, so that Evaluate, which runs on
// every registry request, does only string comparisons and map look-ups and
// allocates nothing in the common case.
//
// Sources of truth, in order: the AWS IAM User Guide ("IAM JSON policy
// elements reference", "Policy evaluation logic", "Cross-account policy
// evaluation logic", "Condition operators", "Policy variables"), IAM's
// observable error messages (as captured by moto's IAM validator), and
// /work/shared/reference/ecr.md §4 for ECR specifics. Where AWS documents no
// behaviour the choice made is stated at the code that makes it.
package policy
