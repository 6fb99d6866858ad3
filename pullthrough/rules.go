package pullthrough

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// MaxRules is ECR's quota: "Pull through cache rules per registry: 50, not
// adjustable".
const MaxRules = 50

// Root is the prefix of the rule for every repository (and the default
// upstreamRepositoryPrefix).
const Root = "ROOT"

// Store is what the rules need of the metadata store.
type Store interface {
	CreatePullThroughRule(ctx context.Context, r metadata.PullThroughRule, check func(existing int) error) (metadata.PullThroughRule, error)
	GetPullThroughRule(ctx context.Context, registryID, prefix string) (metadata.PullThroughRule, error)
	ListPullThroughRules(ctx context.Context, registryID string, p metadata.Page) ([]metadata.PullThroughRule, string, error)
	UpdatePullThroughRule(ctx context.Context, registryID, prefix string, fn func(*metadata.PullThroughRule) error) (metadata.PullThroughRule, error)
	DeletePullThroughRule(ctx context.Context, registryID, prefix string) (metadata.PullThroughRule, error)
}

// Upstream registries of ECR's UpstreamRegistry enum and the hosts ECR
// documents for them.
var upstreamRegistries = []string{"ecr", "ecr-public", "quay", "k8s", "docker-hub",
	"github-container-registry", "azure-container-registry", "gitlab-container-registry", "chainguard"}

var knownHosts = map[string]string{
	"public.ecr.aws":       "ecr-public",
	"registry-1.docker.io": "docker-hub",
	"ghcr.io":              "github-container-registry",
	"registry.gitlab.com":  "gitlab-container-registry",
	"registry.k8s.io":      "k8s",
	"quay.io":              "quay",
	"cgr.dev":              "chainguard",
}

var (
	prefixRE        = regexp.MustCompile(`^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$`)
	credentialArnRE = regexp.MustCompile(`^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache/[a-zA-Z0-9/_+=.@-]+$`)
	// hostRE is an upstream registry URL berth reaches over HTTPS:
	// host[:port], optionally with a path (ECR's URLs are bare hosts).
	hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$`)
)

const prefixPattern = `^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$`
const credentialArnPattern = `^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$`

// checkPrefix validates an ecrRepositoryPrefix or upstreamRepositoryPrefix
// (length 2..30, the model's pattern) and returns it without its trailing
// "/" ("ecr-public/" is "ecr-public").
func checkPrefix(field string, p *string) (string, error) {
	if p == nil {
		return "", missingParam(field)
	}
	switch n := utf8.RuneCountInString(*p); {
	case n < 2:
		return "", invalidParam(field, "must have length greater than or equal to 2")
	case n > 30:
		return "", invalidParam(field, "must have length less than or equal to 30")
	case !prefixRE.MatchString(*p):
		return "", invalidParam(field, "must satisfy regular expression '"+prefixPattern+"'")
	}
	return strings.TrimSuffix(*p, "/"), nil
}

// checkCredentialArn validates a credentialArn (length 50..612, pattern).
func checkCredentialArn(a string) error {
	switch n := utf8.RuneCountInString(a); {
	case n < 50:
		return invalidParam("credentialArn", "must have length greater than or equal to 50")
	case n > 612:
		return invalidParam("credentialArn", "must have length less than or equal to 612")
	case !credentialArnRE.MatchString(a):
		return invalidParam("credentialArn", "must satisfy regular expression '"+credentialArnPattern+"'")
	}
	return nil
}

func checkCustomRoleArn(a string) error {
	if utf8.RuneCountInString(a) > 2048 {
		return invalidParam("customRoleArn", "must have length less than or equal to 2048")
	}
	return nil
}

// CreateInput is CreatePullThroughCacheRule's input.
type CreateInput struct {
	EcrRepositoryPrefix      *string
	UpstreamRegistryURL      *string
	UpstreamRegistry         *string
	CredentialArn            *string
	CustomRoleArn            *string
	UpstreamRepositoryPrefix *string
}

// UpdateInput is UpdatePullThroughCacheRule's input.
type UpdateInput struct {
	EcrRepositoryPrefix *string
	CredentialArn       *string
	CustomRoleArn       *string
}

// SecretChecker checks that a credentialArn names a secret of the rule's
// registry berth can read (SecretNotFoundException, …). nil: secrets are
// not checked.
type SecretChecker interface {
	CheckSecret(ctx context.Context, registryID, arn string) error
}

// Rules are the registry's pull-through cache rules.
type Rules struct {
	Store   Store
	Secrets SecretChecker
	// Region is berth's region: a credentialArn must be in it and in the
	// rule's account.
	Region string
	// Upstreams reaches upstream registries (ValidatePullThroughCacheRule).
	Upstreams *Upstreams
	// RoleCheck tells whether a customRoleArn names an existing role (nil:
	// not checked).
	RoleCheck RoleChecker
}

// Create validates and stores a rule of registry reg.
func (rs *Rules) Create(ctx context.Context, reg string, in CreateInput) (metadata.PullThroughRule, error) {
	prefix, err := checkPrefix("ecrRepositoryPrefix", in.EcrRepositoryPrefix)
	if err != nil {
		return metadata.PullThroughRule{}, err
	}
	if in.UpstreamRegistryURL == nil {
		return metadata.PullThroughRule{}, missingParam("upstreamRegistryUrl")
	}
	url := *in.UpstreamRegistryURL
	if url == "" {
		return metadata.PullThroughRule{}, invalidParam("upstreamRegistryUrl", "must have length greater than or equal to 1")
	}
	// berth reaches any registry over HTTPS; a URL that is no host name
	// is an upstream it cannot reach.
	host := strings.TrimPrefix(url, "https://")
	host = strings.TrimSuffix(host, "/")
	if !hostRE.MatchString(host) {
		return metadata.PullThroughRule{}, ErrUnsupported
	}
	r := metadata.PullThroughRule{RegistryID: reg, Prefix: prefix, UpstreamURL: host, UpstreamPrefix: Root}
	if in.UpstreamRegistry != nil {
		if !slices.Contains(upstreamRegistries, *in.UpstreamRegistry) {
			return metadata.PullThroughRule{}, validation(*in.UpstreamRegistry, "upstreamRegistry",
				"Member must satisfy enum value set: ["+strings.Join(upstreamRegistries, ", ")+"]")
		}
		r.UpstreamRegistry = *in.UpstreamRegistry
	} else if _, _, ok := ecrmodel.ParseRegistryHost(host); ok {
		r.UpstreamRegistry = "ecr"
	} else {
		r.UpstreamRegistry = knownHosts[host]
	}
	if in.UpstreamRepositoryPrefix != nil {
		up, err := checkPrefix("upstreamRepositoryPrefix", in.UpstreamRepositoryPrefix)
		if err != nil {
			return metadata.PullThroughRule{}, err
		}
		if prefix == Root && up != Root {
			return metadata.PullThroughRule{}, invalidParam("upstreamRepositoryPrefix",
				"upstreamRepositoryPrefix can only be set when ecrRepositoryPrefix is not ROOT")
		}
		r.UpstreamPrefix = up
	}
	if in.CredentialArn != nil {
		if err := rs.checkCredential(ctx, reg, *in.CredentialArn); err != nil {
			return metadata.PullThroughRule{}, err
		}
		r.CredentialArn = *in.CredentialArn
	}
	if in.CustomRoleArn != nil {
		if err := rs.checkCustomRole(ctx, reg, *in.CustomRoleArn); err != nil {
			return metadata.PullThroughRule{}, err
		}
		r.CustomRoleArn = *in.CustomRoleArn
		if err := roleUpstream(r); err != nil {
			return metadata.PullThroughRule{}, err
		}
	}
	out, err := rs.Store.CreatePullThroughRule(ctx, r, func(existing int) error {
		if existing >= MaxRules {
			return ErrLimitExceeded
		}
		return nil
	})
	if metadata.Is(err, metadata.AlreadyExists) {
		return out, ErrRuleExists
	}
	return out, err
}

func (rs *Rules) checkCredential(ctx context.Context, reg, arn string) error {
	if err := checkCredentialArn(arn); err != nil {
		return err
	}
	// The secret must be in the rule's account and region.
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[4] != reg || (rs.Region != "" && parts[3] != rs.Region) {
		return ErrSecretNotFound
	}
	if rs.Secrets != nil {
		return rs.Secrets.CheckSecret(ctx, reg, arn)
	}
	return nil
}

// Get is the rule of prefix (as given, with or without its "/").
func (rs *Rules) Get(ctx context.Context, reg string, prefix *string) (metadata.PullThroughRule, error) {
	p, err := checkPrefix("ecrRepositoryPrefix", prefix)
	if err != nil {
		return metadata.PullThroughRule{}, err
	}
	r, err := rs.Store.GetPullThroughRule(ctx, reg, p)
	if metadata.Is(err, metadata.NotFound) {
		return r, ErrRuleNotFound
	}
	return r, err
}

// CheckPrefixes validates DescribePullThroughCacheRules' ecrRepositoryPrefixes.
func CheckPrefixes(ps []string) error {
	if n := len(ps); n < 1 || n > 100 {
		return invalidParam("ecrRepositoryPrefixes", "must have length between 1 and 100")
	}
	for _, p := range ps {
		if _, err := checkPrefix("ecrRepositoryPrefixes", &p); err != nil {
			return err
		}
	}
	return nil
}

// List pages the registry's rules.
func (rs *Rules) List(ctx context.Context, reg string, p metadata.Page) ([]metadata.PullThroughRule, string, error) {
	return rs.Store.ListPullThroughRules(ctx, reg, p)
}

// Update changes a rule's credentials.
func (rs *Rules) Update(ctx context.Context, reg string, in UpdateInput) (metadata.PullThroughRule, error) {
	p, err := checkPrefix("ecrRepositoryPrefix", in.EcrRepositoryPrefix)
	if err != nil {
		return metadata.PullThroughRule{}, err
	}
	if in.CredentialArn != nil {
		if err := rs.checkCredential(ctx, reg, *in.CredentialArn); err != nil {
			return metadata.PullThroughRule{}, err
		}
	}
	if in.CustomRoleArn != nil {
		if err := rs.checkCustomRole(ctx, reg, *in.CustomRoleArn); err != nil {
			return metadata.PullThroughRule{}, err
		}
	}
	r, err := rs.Store.UpdatePullThroughRule(ctx, reg, p, func(r *metadata.PullThroughRule) error {
		if in.CredentialArn != nil {
			r.CredentialArn = *in.CredentialArn
		}
		if in.CustomRoleArn == nil {
			return nil
		}
		r.CustomRoleArn = *in.CustomRoleArn
		return roleUpstream(*r)
	})
	if metadata.Is(err, metadata.NotFound) {
		return r, ErrRuleNotFound
	}
	return r, err
}

// Delete removes a rule; cached repositories stay.
func (rs *Rules) Delete(ctx context.Context, reg string, prefix *string) (metadata.PullThroughRule, error) {
	p, err := checkPrefix("ecrRepositoryPrefix", prefix)
	if err != nil {
		return metadata.PullThroughRule{}, err
	}
	r, err := rs.Store.DeletePullThroughRule(ctx, reg, p)
	if metadata.Is(err, metadata.NotFound) {
		return r, ErrRuleNotFound
	}
	return r, err
}

// Match is the rule a repository name falls under — the longest prefix
// that is the name or a "/"-bounded start of it, else the ROOT rule — and
// the upstream repository it is cached from. ok=false: none.
func (rs *Rules) Match(ctx context.Context, reg, repo string) (r metadata.PullThroughRule, upstreamRepo string, ok bool, err error) {
	var all []metadata.PullThroughRule
	after := ""
	for {
		page, next, err := rs.Store.ListPullThroughRules(ctx, reg, metadata.Page{Limit: 100, After: after})
		if err != nil {
			return r, "", false, err
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		after = next
	}
	best := -1
	for i, c := range all {
		switch {
		case c.Prefix == Root:
			if best < 0 {
				best = i
			}
		case strings.HasPrefix(repo, c.Prefix+"/") && len(repo) > len(c.Prefix)+1:
			if best < 0 || all[best].Prefix == Root || len(c.Prefix) > len(all[best].Prefix) {
				best = i
			}
		}
	}
	if best < 0 {
		return r, "", false, nil
	}
	r = all[best]
	return r, UpstreamRepository(r, repo), true, nil
}

// UpstreamRepository maps a cache repository to its upstream repository:
// the rule's prefix is replaced by its upstream prefix (nothing for ROOT).
func UpstreamRepository(r metadata.PullThroughRule, repo string) string {
	rest := repo
	if r.Prefix != Root {
		rest = strings.TrimPrefix(repo, r.Prefix+"/")
	}
	if r.UpstreamPrefix == "" || r.UpstreamPrefix == Root {
		return rest
	}
	return r.UpstreamPrefix + "/" + rest
}

// IsError reports whether err is a pull-through *Error of type typ.
func IsError(err error, typ string) bool {
	var e *Error
	return errors.As(err, &e) && e.Type == typ
}

// Validation is ValidatePullThroughCacheRule's answer.
type Validation struct {
	Rule    metadata.PullThroughRule
	IsValid bool
	Failure string
}

// Validate logs in to the rule's upstream with its credentials.
func (rs *Rules) Validate(ctx context.Context, reg string, prefix *string) (Validation, error) {
	r, err := rs.Get(ctx, reg, prefix)
	if err != nil {
		return Validation{}, err
	}
	v := Validation{Rule: r}
	if rs.Upstreams == nil {
		v.Failure = "berth has no upstream client configured"
		return v, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// For logs in (a role's login asks the upstream already); Ping checks
	// the login on /v2.
	u, err := rs.Upstreams.For(ctx, r)
	if err != nil {
		v.Failure = err.Error()
		return v, nil
	}
	if err := u.Ping(ctx); err != nil {
		switch {
		case Denied(err):
			v.Failure = "The authentication to the upstream registry failed. Verify that the credentials provided in the pull through cache rule are correct, and try again."
		default:
			v.Failure = "Unable to reach the upstream registry: " + err.Error()
		}
		return v, nil
	}
	v.IsValid = true
	return v, nil
}

// Upstreams makes the client of a rule's upstream, with its credentials.
type Upstreams struct {
	HTTP *http.Client
	// Credentials opens a rule's credentialArn (nil: anonymous only).
	Credentials func(ctx context.Context, registryID, arn string) (*Credentials, error)
	// Observe, when set, sees every upstream request's latency and
	// outcome.
	Observe func(d time.Duration, err error)
	// Roles assumes the customRoleArn of ECR-to-ECR rules (nil: they
	// cannot log in).
	Roles RoleAssumer

	reused expiring[*Upstream]    // rules' clients, for reuseFor
	logins expiring[*Credentials] // ECR logins of roles, until renewal
}

// reuseFor is how long pulls share one rule's client: its login (a
// bearer token, or Basic learned from a challenge) and its credentials,
// so a pull's blob GETs do not each open the secret and log in again. A
// changed secret is picked up after it.
const reuseFor = time.Minute

// Reused is the upstream of rule r for pulls: For's client, shared for
// reuseFor. (ValidatePullThroughCacheRule logs in afresh with For.)
func (us *Upstreams) Reused(ctx context.Context, r metadata.PullThroughRule) (*Upstream, error) {
	key := strings.Join([]string{r.RegistryID, r.Prefix, r.UpstreamURL, r.UpstreamPrefix, r.CredentialArn, r.CustomRoleArn}, "\x00")
	now := time.Now()
	if u, ok := us.reused.get(key, now); ok {
		return u, nil
	}
	u, err := us.open(ctx, r, false)
	if err != nil {
		return nil, err
	}
	us.reused.put(key, u, now.Add(reuseFor), now)
	return u, nil
}

// For is the upstream of rule r, logged in afresh.
func (us *Upstreams) For(ctx context.Context, r metadata.PullThroughRule) (*Upstream, error) {
	return us.open(ctx, r, true)
}

// open is the upstream of rule r: with the ECR login of its role (the
// cached one unless fresh), or with its secret's credentials. An ECR
// upstream without either cannot be logged in to.
func (us *Upstreams) open(ctx context.Context, r metadata.PullThroughRule, fresh bool) (*Upstream, error) {
	u := &Upstream{HTTP: us.HTTP, Host: r.UpstreamURL, Observe: us.Observe}
	_, _, ecrHost := ecrmodel.ParseRegistryHost(r.UpstreamURL)
	switch {
	case r.CustomRoleArn != "" && ecrHost:
		// (A role stored on another upstream by an older berth, which
		// only stored it, is still not used.)
		c, err := us.ecrLogin(ctx, r, fresh)
		if err != nil {
			return nil, err
		}
		u.Creds = c
	case r.UpstreamRegistry == "ecr" && r.CredentialArn == "" && r.CustomRoleArn == "":
		return nil, errNoRole(r)
	case r.CredentialArn != "":
		if us.Credentials == nil {
			return nil, ErrSecretNotFound
		}
		c, err := us.Credentials(ctx, r.RegistryID, r.CredentialArn)
		if err != nil {
			return nil, err
		}
		u.Creds = c
	}
	return u, nil
}
