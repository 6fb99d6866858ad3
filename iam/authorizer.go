package iam

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
)

// DefaultRefresh is how often a node asks the store whether anything an
// authorization decision depends on has changed: a policy change takes
// effect within about this long on every node.
const DefaultRefresh = time.Second

// Authorizer decides requests with AWS's policy evaluation over the
// principal's identity policies and the resource's policies (repository
// policy, and the registry policy as ECR's V2 scope applies it). Parsed
// policies are cached per principal and per resource and dropped whenever
// the store's authorization version moves.
type Authorizer struct {
	Store metadata.Store
	// Region is the region of berth's ARNs (aws:RequestedRegion).
	Region string
	// Enforce: false skips policy evaluation (every principal may do
	// anything in its own account, nothing in others), as before IAM. It
	// exists to measure the cost of authorization; never run it so.
	Enforce bool
	// Audit receives one record per decision (nil: none).
	Audit Sink
	// Refresh is the version check interval (DefaultRefresh when zero).
	Refresh time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
	// LastUsed records the use of the role behind every role session that
	// asks (nil: not recorded).
	LastUsed *LastUsed

	cache cache
}

// Check is one authorization question.
type Check struct {
	Principal auth.Principal
	// Action is the IAM action, e.g. "ecr:BatchGetImage".
	Action string
	// Resource is the resource ARN, or "*" for registry-level actions.
	Resource string
	// Registry owns Resource (the account of the repository); "" means the
	// principal's own account.
	Registry string
	// Repository is the repository Resource names, if any: its policy and
	// tags take part.
	Repository string
	// HTTP is the request (source address, TLS, user agent).
	HTTP *http.Request
	// RequestTags are the tags the request sets (aws:RequestTag/…);
	// TagKeys the keys it names (aws:TagKeys; the RequestTags' keys when
	// nil).
	RequestTags []metadata.ResourceTag
	TagKeys     []string
	// Keys are further condition keys (ecr:AccountSetting, ...);
	// KeyLists the multivalued ones (sts:TransitiveTagKeys).
	Keys     map[string]string
	KeyLists map[string][]string
	// Trust, for sts:AssumeRole, is the role's trust policy: it is the
	// resource-based policy, and it must allow.
	Trust string
	// Brief: the denial message names no reason, as STS's do.
	Brief bool

	// What the audit record tells: the service ("ecr.amazonaws.com",
	// "registry", "sts.amazonaws.com"), the event (operation or route) and
	// the request id.
	Source, Event, RequestID string
}

// Authorize evaluates c. A denial is a Decision with Allowed() false and
// AWS's message from Message; err is only for failures to decide (store
// errors), which callers must treat as a denial.
func (a *Authorizer) Authorize(ctx context.Context, c Check) (policy.Decision, policy.Request, error) {
	if c.Registry == "" {
		c.Registry = c.Principal.Account
	}
	if c.Principal.Kind() == auth.TypeAssumedRole {
		a.LastUsed.Record(ctx, c.Principal.RoleARN)
	}
	req := policy.Request{
		Principal:       policyPrincipal(c.Principal),
		Action:          c.Action,
		Resource:        c.Resource,
		ResourceAccount: c.Registry,
	}
	var (
		d   policy.Decision
		err error
	)
	if !a.Enforce {
		d = a.unenforced(c)
	} else {
		d, err = a.evaluate(ctx, c, &req)
	}
	if a.Audit != nil {
		a.Audit.Record(newRecord(a, c, req, d, err))
	}
	return d, req, err
}

// DenialMessage is what a denied caller of c is told: AWS's message,
// without the reason when c.Brief.
func DenialMessage(c Check, d policy.Decision, req policy.Request) string {
	if c.Brief {
		return "User: " + req.Principal.ARN + " is not authorized to perform: " + req.Action + " on resource: " + req.Resource
	}
	return d.Message(req)
}

// unenforced allows the principal's own account and denies others.
func (a *Authorizer) unenforced(c Check) policy.Decision {
	if c.Registry == c.Principal.Account && c.Principal.Kind() != auth.TypeService {
		return policy.Decision{Effect: policy.Allow, Policy: "authorization off", Index: -1}
	}
	return policy.Decision{Effect: policy.ImplicitDeny, Missing: policy.ResourceBased, Index: -1}
}

func (a *Authorizer) evaluate(ctx context.Context, c Check, req *policy.Request) (policy.Decision, error) {
	snap, err := a.snapshot(ctx)
	if err != nil {
		return deny(), err
	}
	var set policy.Set
	var tags []metadata.ResourceTag
	p := c.Principal
	if p.Kind() == auth.TypeService && c.Registry != p.Account {
		// A service credential stands in for the service in its own
		// account only: another account's policies naming the service
		// must not admit it.
		return policy.Decision{Effect: policy.ImplicitDeny, Missing: policy.ResourceBased, Index: -1}, nil
	}
	if k := p.Kind(); k != auth.TypeService && k != auth.TypeWebIdentity {
		id, err := snap.identity(ctx, a, p.PrincipalARN())
		if err != nil {
			return deny(), err
		}
		set.Identity, tags = id.policies, id.tags
		set.Bounded, set.Boundary = id.bounded, id.boundary
		if p.Kind() == auth.TypeAssumedRole {
			se, err := snap.session(ctx, a, p.AccessKeyID)
			if err != nil {
				return deny(), err
			}
			tags = mergeTags(tags, se.tags)
			set.Scoped, set.Session = se.scoped, se.policies
		}
	}
	var res *resourceEntry
	if c.Trust != "" {
		set.Trust = true
		set.Resource = []policy.Named{a.parsed("trust policy of "+c.Resource, c.Trust, policy.Trust)}
		req.Context = a.conditionContext(c, tags, nil)
		return policy.Evaluate(*req, set), nil
	}
	if c.Repository != "" {
		if res, err = snap.repository(ctx, a, c.Registry, c.Repository); err != nil {
			return deny(), err
		}
		set.Resource = append(set.Resource, res.policies...)
	}
	reg, err := snap.registry(ctx, a, c.Registry)
	if err != nil {
		return deny(), err
	}
	if reg.policy.Policy != nil && (reg.scopeV2 || v1Actions[c.Action]) {
		set.Resource = append(set.Resource, reg.policy)
	}
	req.Context = a.conditionContext(c, tags, res)
	return policy.Evaluate(*req, set), nil
}

// v1Actions are the actions a registry policy covers in ECR's V1 scope.
var v1Actions = map[string]bool{
	"ecr:ReplicateImage": true, "ecr:BatchImportUpstreamImage": true, "ecr:CreateRepository": true,
}

func deny() policy.Decision {
	return policy.Decision{Effect: policy.ImplicitDeny, Missing: policy.IdentityBased, Index: -1}
}

// policyPrincipal is p as the policy engine sees it.
func policyPrincipal(p auth.Principal) policy.Principal {
	out := policy.Principal{ARN: p.ARN, Account: p.Account, RoleARN: p.RoleARN}
	switch p.Kind() {
	case auth.TypeAssumedRole:
		out.Type = policy.AssumedRole
	case auth.TypeService:
		out.Type, out.Account = policy.Service, ""
	case auth.TypeWebIdentity:
		out.Type = policy.Federated
	default:
		out.Type = policy.User
	}
	return out
}

// mergeTags is a session's principal tags: its session tags, and the
// role's tags whose keys no session tag names. Tag keys compare without
// case, as in AWS (a session tag "department" overrides the role's
// "Department").
func mergeTags(base, over []metadata.ResourceTag) []metadata.ResourceTag {
	if len(over) == 0 {
		return base
	}
	out := make([]metadata.ResourceTag, 0, len(base)+len(over))
	seen := map[string]bool{}
	for _, t := range over {
		seen[strings.ToLower(t.Key)] = true
		out = append(out, t)
	}
	for _, t := range base {
		if !seen[strings.ToLower(t.Key)] {
			out = append(out, t)
		}
	}
	return out
}

func (a *Authorizer) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authorizer) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.New(slog.DiscardHandler)
}

// snapshot returns the cache valid for the store's current authorization
// version, checking the version at most every Refresh.
func (a *Authorizer) snapshot(ctx context.Context) (*snapshot, error) {
	refresh := a.Refresh
	if refresh <= 0 {
		refresh = DefaultRefresh
	}
	return a.cache.current(ctx, a.Store, a.now(), refresh)
}

// cache holds the current snapshot.
type cache struct {
	mu      sync.Mutex
	snap    *snapshot
	checked time.Time
	// local is the store's LocalAuthzChanges when snap was taken: this
	// node's own changes invalidate it at once.
	local uint64
}

func (c *cache) current(ctx context.Context, st metadata.Store, now time.Time, refresh time.Duration) (*snapshot, error) {
	local := st.LocalAuthzChanges()
	c.mu.Lock()
	snap, checked := c.snap, c.checked
	if snap != nil && c.local == local && now.Sub(checked) < refresh && now.Sub(checked) >= 0 {
		c.mu.Unlock()
		return snap, nil
	}
	// One caller checks; the others keep the old snapshot meanwhile.
	if snap != nil {
		c.checked = now
	}
	c.mu.Unlock()
	v, err := st.AuthzVersion(ctx)
	if err != nil {
		if snap != nil {
			return snap, nil // stale for one more interval beats failing every request
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap == nil || c.snap.version != v {
		c.snap = newSnapshot(v)
	}
	c.checked, c.local = now, local
	return c.snap, nil
}

// RepositoryExists reports whether repo exists, from the snapshot (so at
// most one store read per repository and version); false may be stale for
// a repository another node just created: ask the store then.
func (a *Authorizer) RepositoryExists(ctx context.Context, registryID, repo string) bool {
	snap, err := a.snapshot(ctx)
	if err != nil {
		return false
	}
	e, err := snap.repository(ctx, a, registryID, repo)
	return err == nil && e.exists
}
