package policy

// Kind says what a document is attached to; it decides which elements are
// required or prohibited.
type Kind int

const (
	// Identity: attached to a user or role (inline or managed). No Principal
	// or NotPrincipal; Resource or NotResource required.
	Identity Kind = iota + 1
	// Resource: an ECR repository policy. Principal or NotPrincipal
	// required; Resource optional (it defaults to the repository); Version
	// may be 2008-10-17; Sids may repeat and need not be alphanumeric.
	Resource
	// Registry: an ECR registry policy. Principal and Resource required.
	Registry
	// Trust: a role trust policy. Principal required, Resource prohibited,
	// actions limited to sts:*.
	Trust
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Resource:
		return "resource"
	case Registry:
		return "registry"
	case Trust:
		return "trust"
	}
	return "unknown"
}

// PrincipalType says what kind of identity asks.
type PrincipalType int

const (
	// User is an IAM user.
	User PrincipalType = iota + 1
	// AssumedRole is a role session (sts:AssumeRole and friends).
	AssumedRole
	// Root is an account's root user.
	Root
	// Service is an AWS service principal (codebuild.amazonaws.com).
	Service
	// Anonymous is an unauthenticated caller.
	Anonymous
	// Federated is a web identity (AssumeRoleWithWebIdentity): ARN is the
	// IAM OIDC provider's ARN, which trust policies name as "Federated".
	Federated
)

// Principal is who asks.
type Principal struct {
	Type PrincipalType
	// ARN as AWS prints it: arn:aws:iam::111122223333:user/path/alice,
	// arn:aws:sts::111122223333:assumed-role/RoleName/session,
	// arn:aws:iam::111122223333:root; for Service the service name, e.g.
	// "codebuild.amazonaws.com".
	ARN string
	// Account is the 12-digit account id ("" for Service and Anonymous).
	Account string
	// RoleARN is, for AssumedRole only, the role's ARN
	// (arn:aws:iam::111122223333:role/path/RoleName): what aws:PrincipalArn
	// holds and what resource and trust policies name.
	RoleARN string
}

// Request is one authorization question.
type Request struct {
	Principal Principal
	Action    string // "ecr:BatchGetImage", "sts:AssumeRole"
	Resource  string // an ARN, or "*" for actions without a resource
	// ResourceAccount owns the resource; "" means the principal's account.
	ResourceAccount string
	Context         Context
}

// Context holds condition key values, keyed by lower-cased key name
// (condition key names are case-insensitive in IAM); use Set to fill it.
// An absent key is absent: that matters for Null, ...IfExists and the set
// operators. A key set with no values counts as absent.
//
// Keys AWS derives from the principal (aws:PrincipalArn,
// aws:PrincipalAccount, aws:PrincipalType, aws:username for users,
// aws:PrincipalServiceName, aws:ResourceAccount) need not be set: Evaluate
// supplies them from the Request when the Context lacks them.
type Context map[string][]string

// Set stores values under key (any case). c must be non-nil.
func (c Context) Set(key string, values ...string) {
	c[lower(key)] = append([]string(nil), values...)
}

// Get returns the values of key (any case).
func (c Context) Get(key string) ([]string, bool) {
	v, ok := c[lower(key)]
	return v, ok
}

// Named is a policy with the name a Decision reports, e.g.
// "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
// "inline:alice/deploy", "repository policy".
type Named struct {
	Name   string
	Policy *Policy
}

// Set is every policy that bears on one request.
type Set struct {
	// Identity holds the principal's identity policies (inline and attached
	// managed; for a role session, the role's).
	Identity []Named
	// Resource holds the resource-based policies on the resource: the
	// repository policy and the registry policy, or for sts:AssumeRole the
	// role's trust policy.
	Resource []Named
	// Trust marks an sts:AssumeRole decision: the trust policy must allow
	// even in the same account, and an identity-based allow is needed as
	// well when the caller is in another account or the trust policy
	// allows only through the caller's account principal.
	Trust bool
	// Scoped marks a session with session policies: Session must allow
	// too (an empty Session then allows nothing).
	Scoped  bool
	Session []Named
	// Bounded marks a principal with a permissions boundary: Boundary
	// must allow too (an empty Boundary, say a deleted policy, then allows
	// nothing). A boundary caps the principal's own permissions; it grants
	// nothing by itself.
	Bounded  bool
	Boundary []Named
}

// Effect is the outcome of an evaluation.
type Effect int

const (
	ImplicitDeny Effect = iota
	Allow
	ExplicitDeny
)

func (e Effect) String() string {
	switch e {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Policy-type names used in Decision and in AWS's denial messages.
const (
	IdentityBased = "identity-based"
	ResourceBased = "resource-based"
	// SessionPolicy: the session policies passed to AssumeRole and
	// AssumeRoleWithWebIdentity, which bound what the session may do.
	SessionPolicy = "session"
	// PermissionsBoundary: the managed policy set as a user's or role's
	// permissions boundary. AWS's messages name it without "policy".
	PermissionsBoundary = "permissions boundary"
)

// Decision is the answer to a Request.
type Decision struct {
	Effect Effect
	// DenyIn is, for ExplicitDeny, the policy type holding the deny.
	DenyIn string
	// Missing is, for ImplicitDeny, the policy type that would have had to
	// allow.
	Missing string
	// Policy, Sid and Index name the deciding statement: for Allow the
	// first allowing statement the decision relied on, for ExplicitDeny the
	// denying one. Index is -1 when there is none (implicit deny, or a root
	// user's implicit identity allow).
	Policy string
	Sid    string
	Index  int
}

// Allowed reports whether the request may proceed.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// Message is AWS's AccessDenied text for d, or "" when d allows:
//
//	User: <principal ARN> is not authorized to perform: <action> on resource: <resource> because no identity-based policy allows the <action> action
//	User: <principal ARN> is not authorized to perform: <action> on resource: <resource> with an explicit deny in a resource-based policy
func (d Decision) Message(r Request) string {
	head := "User: " + r.Principal.ARN + " is not authorized to perform: " + r.Action + " on resource: " + r.Resource
	switch d.Effect {
	case Allow:
		return ""
	case ExplicitDeny:
		return head + " with an explicit deny in " + article(d.DenyIn) + " " + kindName(d.DenyIn)
	}
	missing := d.Missing
	if missing == "" {
		missing = IdentityBased
	}
	return head + " because no " + kindName(missing) + " allows the " + r.Action + " action"
}

// kindName is how AWS's messages name a policy type: "identity-based
// policy", "session policy", but "permissions boundary".
func kindName(kind string) string {
	if kind == PermissionsBoundary {
		return kind
	}
	return kind + " policy"
}

func article(kind string) string {
	if kind == IdentityBased {
		return "an"
	}
	return "a"
}
