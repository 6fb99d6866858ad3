package policy

// Error is a policy document IAM would refuse. Message is worded as IAM's
// MalformedPolicyDocument message for the same fault, so that it can be
// returned to AWS clients unchanged.
type Error struct {
	Message string
}

func (e *Error) Error() string { return e.Message }

// IAM's messages. The texts are IAM's own (CreatePolicy, PutUserPolicy,
// CreateRole, UpdateAssumeRolePolicy); IAM reports a whole class of faults
// (bad JSON, unknown fields, wrong types, unknown condition operators) with
// the single generic "Syntax errors in policy.".
const (
	msgSyntax          = "Syntax errors in policy."
	msgLegacy          = "The policy failed legacy parsing"
	msgNoPrincipal     = "Policy document should not specify a principal."
	msgMissingPrinc    = "Missing required field Principal"
	msgProhibitedRes   = "Has prohibited field Resource"
	msgProhibitedNotRs = "Has prohibited field NotResource"
	msgNoActions       = "Policy statement must contain actions."
	msgNoResources     = "Policy statement must contain resources."
	msgSidUnique       = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum        = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon        = "Actions/Condition can contain only one colon."
	msgTrustActions    = "AssumeRole policy may only specify STS AssumeRole actions."
)

func errorf(msg string) *Error { return &Error{Message: msg} }

func errVendor(vendor string) *Error { return &Error{Message: "Vendor " + vendor + " is not valid"} }

func errResourceFormat(r string) *Error {
	return &Error{Message: "Resource " + r + ` must be in ARN format or "*".`}
}

// errPrincipal names the offending entry the way IAM does:
// Invalid principal in policy: "AWS":"foo" (service principals are printed
// with an upper-case key, "SERVICE":"foo").
func errPrincipal(key, value string) *Error {
	return &Error{Message: `Invalid principal in policy: "` + key + `":"` + value + `"`}
}
