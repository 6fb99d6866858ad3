package metadata

import (
	"context"
	"time"
)

// IAM is the identity half of the store: accounts, users and roles, their
// policies, STS sessions, static registry credentials, and the version
// counter that tells every node when an authorization input changed.
// Access keys (Store) belong to users by ARN.
type IAM interface {
	// CreateAccount: Kind AlreadyExists when the id is taken.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	GetAccount(ctx context.Context, id string) (Account, error)
	ListAccounts(ctx context.Context) ([]Account, error)

	// CreatePrincipal stores a user or role (ARN unique; (account, kind,
	// name) unique). The account must exist (Kind NotFound otherwise).
	CreatePrincipal(ctx context.Context, p Principal) (Principal, error)
	// GetPrincipal: Kind NotFound if absent.
	GetPrincipal(ctx context.Context, arn string) (Principal, error)
	// FindPrincipal looks a user or role up by account and name.
	FindPrincipal(ctx context.Context, account, kind, name string) (Principal, error)
	// ListPrincipals lists an account's users or roles by name ("" kind:
	// both; "" account: every account).
	ListPrincipals(ctx context.Context, account, kind string) ([]Principal, error)
	// UpdatePrincipal applies fn in one transaction (ARN, account, kind,
	// name, id and creation time cannot change).
	UpdatePrincipal(ctx context.Context, arn string, fn func(*Principal) error) (Principal, error)
	// PrincipalUsed records that a role was used at at in region, unless
	// a later use is recorded already. It changes no authorization
	// decision (no AuthzVersion bump); Kind NotFound if the role is gone.
	PrincipalUsed(ctx context.Context, arn string, at time.Time, region string) error
	// DeletePrincipal removes a principal with its inline policies,
	// attachments, access keys, sessions and registry credentials.
	DeletePrincipal(ctx context.Context, arn string) error

	// Inline policies, keyed by (principal ARN, name). Put replaces.
	PutInlinePolicy(ctx context.Context, principalARN, name, document string) error
	DeleteInlinePolicy(ctx context.Context, principalARN, name string) error
	// Customer managed policies, keyed by ARN. Put creates or replaces
	// the document (CreatedAt kept).
	PutManagedPolicy(ctx context.Context, p ManagedPolicy) (ManagedPolicy, error)
	GetManagedPolicy(ctx context.Context, arn string) (ManagedPolicy, error)
	ListManagedPolicies(ctx context.Context, account string) ([]ManagedPolicy, error)
	// DeleteManagedPolicy: Kind Referenced while attached anywhere or
	// used as a permissions boundary.
	DeleteManagedPolicy(ctx context.Context, arn string) error
	// SetManagedPolicyTags replaces a customer managed policy's tags.
	SetManagedPolicyTags(ctx context.Context, arn string, tags []ResourceTag) error
	// Versions of a customer managed policy: Put makes v1 (and replaces
	// the default version's document); the default version's document is
	// the policy's Document. CreatePolicyVersion: Kind Limit when the
	// policy has MaxPolicyVersions. DeletePolicyVersion: Kind Referenced
	// for the default version.
	CreatePolicyVersion(ctx context.Context, arn, document string, setDefault bool, at time.Time) (PolicyVersion, error)
	GetPolicyVersion(ctx context.Context, arn, versionID string) (PolicyVersion, error)
	ListPolicyVersions(ctx context.Context, arn string) ([]PolicyVersion, error)
	SetDefaultPolicyVersion(ctx context.Context, arn, versionID string, at time.Time) error
	DeletePolicyVersion(ctx context.Context, arn, versionID string) error
	// Attach and Detach link a managed policy ARN (customer or AWS) to a
	// principal; attaching twice is a no-op, detaching what is not
	// attached Kind NotFound.
	AttachPolicy(ctx context.Context, principalARN, policyARN string) error
	DetachPolicy(ctx context.Context, principalARN, policyARN string) error
	// PrincipalPolicies returns everything identity-based that applies to
	// a principal: its inline policies and its attached ARNs with, for
	// customer managed ones, their documents (AWS managed ones have
	// Document "").
	PrincipalPolicies(ctx context.Context, principalARN string) ([]InlinePolicy, []ManagedPolicy, error)

	// STS sessions, keyed by their ASIA access key id.
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, accessKeyID string) (Session, error)
	// DeleteSessions removes every session of a role (of every role when
	// roleARN is ""), revoking their credentials and login tokens; returns
	// how many.
	DeleteSessions(ctx context.Context, roleARN string) (int, error)
	// PruneSessions removes sessions that expired before t.
	PruneSessions(ctx context.Context, t time.Time) (int, error)

	// Static registry credentials (ECS_ENGINE_AUTH_DATA style).
	CreateRegistryCredential(ctx context.Context, c RegistryCredential) error
	GetRegistryCredential(ctx context.Context, id string) (RegistryCredential, error)
	ListRegistryCredentials(ctx context.Context, principalARN string) ([]RegistryCredential, error)
	DeleteRegistryCredential(ctx context.Context, id string) error

	// AuthzVersion is a counter every write that can change an
	// authorization decision bumps (IAM entities, repository and registry
	// policies, repository tags, settings): a node's policy caches stay
	// valid while it is unchanged.
	AuthzVersion(ctx context.Context) (int64, error)
	// LocalAuthzChanges counts this process's committed writes that moved
	// the version; reading it costs no I/O.
	LocalAuthzChanges() uint64
}

// Principal kinds.
const (
	KindUser = "user"
	KindRole = "role"
)

// Account is an AWS-style account: a 12-digit id that owns principals and
// (as registry id) a registry.
type Account struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Principal is an IAM user or role.
type Principal struct {
	ARN     string // arn:aws:iam::<account>:user/<path><name> or …:role/…
	Account string
	Kind    string // KindUser | KindRole
	Name    string
	Path    string // "/" or "/a/b/"
	ID      string // AIDA… (user) or AROA… (role)
	// TrustPolicy is a role's assume-role policy document.
	TrustPolicy string
	// MaxSessionSeconds caps a role's sessions (3600–43200).
	MaxSessionSeconds int
	Description       string
	// PermissionsBoundary is the ARN of the managed policy that bounds
	// what the identity policies may grant ("" for none).
	PermissionsBoundary string
	Tags                []ResourceTag
	CreatedAt           time.Time
	// LastUsed is when a role was last used (zero: never) and
	// LastUsedRegion where; written only by PrincipalUsed.
	LastUsed       time.Time
	LastUsedRegion string
}

// InlinePolicy is a policy embedded in one principal.
type InlinePolicy struct {
	Principal, Name, Document string
}

// ManagedPolicy is a customer managed policy (or, as returned by
// PrincipalPolicies, an attachment of an AWS managed one, Document "").
type ManagedPolicy struct {
	ARN            string
	Account        string
	Name           string
	Path           string
	Description    string
	Document       string
	DefaultVersion string // "v1" until SetDefaultPolicyVersion
	// Tags are set when the policy is created (PutManagedPolicy keeps
	// them on a replace) and by SetManagedPolicyTags.
	Tags                 []ResourceTag
	CreatedAt, UpdatedAt time.Time
}

// MaxPolicyVersions is how many versions a managed policy may have (AWS's
// quota).
const MaxPolicyVersions = 5

// PolicyVersion is one version of a customer managed policy.
type PolicyVersion struct {
	PolicyARN, VersionID, Document string
	IsDefault                      bool
	CreatedAt                      time.Time
}

// Session is an STS role session: temporary credentials.
type Session struct {
	AccessKeyID string // ASIA…
	// Sealed holds the secret key and the session token, sealed by the
	// caller (the store never sees them in the clear).
	Sealed      []byte
	RoleARN     string
	SessionName string
	Account     string
	// SourceARN is who assumed the role.
	SourceARN string
	// Tags are the session tags, inherited transitive ones included.
	Tags []ResourceTag
	// TransitiveTagKeys are the keys of Tags a session assumed with these
	// credentials inherits (role chaining).
	TransitiveTagKeys []string
	// Policy and PolicyArns are the session policies ("" and nil: none).
	Policy     string
	PolicyArns []string
	CreatedAt  time.Time
	Expires    time.Time
}

// RegistryCredential is a long-lived /v2 Basic credential bound to a
// principal (ECS EC2 instances' ECS_ENGINE_AUTH_DATA): the password's
// SHA-256 is stored, never the password.
type RegistryCredential struct {
	ID         string // the Basic user name
	SecretHash []byte
	Principal  string // the role (or user) ARN it acts as
	Account    string
	Status     string // KeyActive | KeyInactive
	CreatedAt  time.Time
	Expires    time.Time // zero: never
}
