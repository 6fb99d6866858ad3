package iam

import (
	"context"
	"sync"

	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// maxEntries bounds each map of a snapshot; past it the map starts over
// (callers with random names must not grow memory without bound).
const maxEntries = 20000

// snapshot is what the store held at one authorization version, filled
// lazily: identity policy sets by principal ARN, repository policies and
// tags, registry policies and scope, session tags.
type snapshot struct {
	version int64

	mu         sync.RWMutex
	identities map[string]*identityEntry
	repos      map[string]*resourceEntry
	registries map[string]*registryEntry
	sessions   map[string]*sessionEntry
}

// sessionEntry is what an STS session adds: its tags and, when it was
// made with session policies, those policies.
type sessionEntry struct {
	tags     []metadata.ResourceTag
	scoped   bool
	policies []policy.Named
}

type identityEntry struct {
	policies []policy.Named
	tags     []metadata.ResourceTag
	// bounded: the principal has a permissions boundary, boundary its
	// policy (nil when the policy is gone, which then allows nothing).
	bounded  bool
	boundary []policy.Named
}

type resourceEntry struct {
	exists   bool
	policies []policy.Named
	tags     []metadata.ResourceTag
}

type registryEntry struct {
	policy  policy.Named
	scopeV2 bool
}

func newSnapshot(v int64) *snapshot {
	return &snapshot{version: v, identities: map[string]*identityEntry{}, repos: map[string]*resourceEntry{},
		registries: map[string]*registryEntry{}, sessions: map[string]*sessionEntry{}}
}

// lookup reads m[key] under the read lock, else loads and stores it.
func lookup[T any](s *snapshot, m map[string]T, key string, load func() (T, error)) (T, error) {
	s.mu.RLock()
	v, ok := m[key]
	s.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	s.mu.Lock()
	if len(m) >= maxEntries {
		clear(m)
	}
	m[key] = v
	s.mu.Unlock()
	return v, nil
}

// identity is the identity-based policy set of a user or role.
func (s *snapshot) identity(ctx context.Context, a *Authorizer, arn string) (*identityEntry, error) {
	return lookup(s, s.identities, arn, func() (*identityEntry, error) {
		e := &identityEntry{}
		p, err := a.Store.GetPrincipal(ctx, arn)
		switch {
		case metadata.Is(err, metadata.NotFound):
			return e, nil // deleted: nothing allows it
		case err != nil:
			return nil, err
		}
		e.tags = p.Tags
		if p.PermissionsBoundary != "" {
			e.bounded = true
			b, ok, err := a.managedPolicy(ctx, p.PermissionsBoundary)
			if err != nil {
				return nil, err
			}
			if ok {
				e.boundary = []policy.Named{b}
			}
		}
		inline, attached, err := a.Store.PrincipalPolicies(ctx, arn)
		if err != nil {
			return nil, err
		}
		for _, ip := range inline {
			name := "inline policy " + ip.Name + " of " + arn
			e.policies = append(e.policies, a.parsed(name, ip.Document, policy.Identity))
		}
		for _, mp := range attached {
			if _, pol, ok := policy.ManagedByARN(mp.ARN); ok {
				e.policies = append(e.policies, policy.Named{Name: mp.ARN, Policy: pol})
				continue
			}
			if mp.Document == "" {
				continue // an AWS managed policy berth does not know grants nothing
			}
			e.policies = append(e.policies, a.parsed(mp.ARN, mp.Document, policy.Identity))
		}
		return e, nil
	})
}

// session is an STS session's tags and session policies (nil for
// long-lived keys).
func (s *snapshot) session(ctx context.Context, a *Authorizer, accessKeyID string) (*sessionEntry, error) {
	if len(accessKeyID) < 4 || accessKeyID[:4] != "ASIA" {
		return &sessionEntry{}, nil
	}
	return lookup(s, s.sessions, accessKeyID, func() (*sessionEntry, error) {
		ss, err := a.Store.GetSession(ctx, accessKeyID)
		if metadata.Is(err, metadata.NotFound) {
			return &sessionEntry{}, nil
		} else if err != nil {
			return nil, err
		}
		e := &sessionEntry{tags: ss.Tags, scoped: ss.Policy != "" || len(ss.PolicyArns) > 0}
		if ss.Policy != "" {
			e.policies = append(e.policies, a.parsed("session policy of "+ss.AccessKeyID, ss.Policy, policy.Identity))
		}
		for _, arn := range ss.PolicyArns {
			p, ok, err := a.managedPolicy(ctx, arn)
			if err != nil {
				return nil, err
			}
			if ok { // a deleted policy grants nothing
				e.policies = append(e.policies, p)
			}
		}
		return e, nil
	})
}

// managedPolicy is an AWS or customer managed policy by ARN; ok is false
// when no such policy exists (an AWS managed one berth does not know, or
// a deleted customer managed one).
func (a *Authorizer) managedPolicy(ctx context.Context, arn string) (p policy.Named, ok bool, err error) {
	if _, pol, ok := policy.ManagedByARN(arn); ok {
		return policy.Named{Name: arn, Policy: pol}, true, nil
	}
	mp, err := a.Store.GetManagedPolicy(ctx, arn)
	if metadata.Is(err, metadata.NotFound) {
		return p, false, nil
	} else if err != nil {
		return p, false, err
	}
	return a.parsed(arn, mp.Document, policy.Identity), true, nil
}

// repository is a repository's policy and tags.
func (s *snapshot) repository(ctx context.Context, a *Authorizer, registry, name string) (*resourceEntry, error) {
	return lookup(s, s.repos, registry+"/"+name, func() (*resourceEntry, error) {
		e := &resourceEntry{}
		r, err := a.Store.GetRepository(ctx, registry, name)
		switch {
		case metadata.Is(err, metadata.NotFound):
			return e, nil
		case err != nil:
			return nil, err
		}
		e.exists, e.tags = true, r.Tags
		p, err := a.Store.GetPolicy(ctx, metadata.PolicyRepository, registry, name)
		switch {
		case metadata.Is(err, metadata.NotFound):
		case err != nil:
			return nil, err
		default:
			e.policies = append(e.policies, a.parsed("repository policy", p.Text, policy.Resource))
		}
		return e, nil
	})
}

// registry is a registry's policy and its REGISTRY_POLICY_SCOPE.
func (s *snapshot) registry(ctx context.Context, a *Authorizer, id string) (*registryEntry, error) {
	return lookup(s, s.registries, id, func() (*registryEntry, error) {
		e := &registryEntry{}
		scope, err := ecrmodel.AccountSetting(ctx, a.Store, id, "REGISTRY_POLICY_SCOPE")
		if err != nil {
			return nil, err
		}
		e.scopeV2 = scope != "V1"
		p, err := a.Store.GetPolicy(ctx, metadata.PolicyRegistry, id, "")
		switch {
		case metadata.Is(err, metadata.NotFound):
		case err != nil:
			return nil, err
		default:
			e.policy = a.parsed("registry policy", p.Text, policy.Registry)
		}
		return e, nil
	})
}

// denyAll stands in for a stored policy that no longer parses (stored by
// an older, laxer berth): failing closed beats ignoring its denies.
var denyAll = map[policy.Kind]string{
	policy.Identity: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`,
	policy.Resource: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*"}]}`,
	policy.Registry: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`,
}

// parsed parses a stored document; one that fails is logged and replaced
// by a deny of everything.
func (a *Authorizer) parsed(name, doc string, k policy.Kind) policy.Named {
	p, err := policy.Parse(doc, k)
	if err == nil {
		return policy.Named{Name: name, Policy: p}
	}
	a.log().Error("a stored policy does not parse; it denies everything until it is replaced", "policy", name, "error", err)
	p, _ = policy.Parse(denyAll[k], k)
	return policy.Named{Name: name + " (unparsable)", Policy: p}
}
