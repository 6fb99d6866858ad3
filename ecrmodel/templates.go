package ecrmodel

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-registry/berth/metadata"
)

// RootPrefix is the template prefix that applies to every repository no
// other template's prefix matches.
const RootPrefix = "ROOT"

// Template scenarios (RCTAppliedFor).
const (
	AppliedForCreateOnPush     = "CREATE_ON_PUSH"
	AppliedForPullThroughCache = "PULL_THROUGH_CACHE"
	AppliedForReplication      = "REPLICATION"
)

// Repository defaults.
const (
	EncryptionAES256 = "AES256"
)

// TemplatePrefixMatches reports whether a template prefix applies to
// repository name: ECR reads a prefix as ending in '/', so "prod" matches
// "prod/api" but neither "prod" nor "production".
func TemplatePrefixMatches(prefix, name string) bool {
	p := strings.TrimSuffix(prefix, "/")
	return strings.HasPrefix(name, p+"/")
}

// TemplateLister lists a registry's creation templates.
type TemplateLister interface {
	ListTemplates(ctx context.Context, registryID string, p metadata.Page) ([]metadata.Template, string, error)
}

// MatchTemplate returns the template of registryID applied for scenario
// that applies to a new repository repo: the one with the longest matching
// prefix, else the ROOT template. ok is false when none applies.
func MatchTemplate(ctx context.Context, st TemplateLister, registryID, repo, scenario string) (metadata.Template, bool, error) {
	var best, root metadata.Template
	found, haveRoot := false, false
	after := ""
	for {
		list, next, err := st.ListTemplates(ctx, registryID, metadata.Page{Limit: 1000, After: after})
		if err != nil {
			return metadata.Template{}, false, err
		}
		for _, t := range list {
			if !slices.Contains(t.AppliedFor, scenario) {
				continue
			}
			switch {
			case t.Prefix == RootPrefix:
				root, haveRoot = t, true
			case TemplatePrefixMatches(t.Prefix, repo) &&
				(!found || len(strings.TrimSuffix(t.Prefix, "/")) > len(strings.TrimSuffix(best.Prefix, "/"))):
				best, found = t, true
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if found {
		return best, true, nil
	}
	return root, haveRoot, nil
}

// MutabilityOrDefault renders the store's "" as MUTABLE.
func MutabilityOrDefault(m string) string {
	if m == "" {
		return metadata.Mutable
	}
	return m
}

// RepositoryFromTemplate is the repository a template creates as name in
// registryID: its tag mutability, encryption and resource tags. The
// template's RepositoryPolicy and LifecyclePolicy (when not empty) are
// stored with it by CreateFromTemplate.
func RepositoryFromTemplate(t metadata.Template, registryID, name string) metadata.Repository {
	r := metadata.Repository{
		RegistryID:           registryID,
		Name:                 name,
		TagMutability:        MutabilityOrDefault(t.TagMutability),
		MutabilityExclusions: slices.Clone(t.MutabilityExclusions),
		EncryptionType:       t.EncryptionType,
		KMSKey:               t.KMSKey,
		Tags:                 slices.Clone(t.ResourceTags),
	}
	if r.EncryptionType == "" {
		r.EncryptionType = EncryptionAES256
	}
	return r
}

// RepositoryCreator is what CreateFromTemplate needs of the store.
type RepositoryCreator interface {
	TemplateLister
	EnsureRegistry(ctx context.Context, registryID string) error
	CreateRepository(ctx context.Context, r metadata.Repository) (metadata.Repository, error)
	PutPolicy(ctx context.Context, kind metadata.PolicyKind, registryID, repo, text string) (metadata.Policy, error)
}

// CreateFromTemplate creates repo in registryID from the template applied
// for scenario (CREATE_ON_PUSH, PULL_THROUGH_CACHE) that matches it, if
// one does and allow (the caller's ecr:CreateRepository check) does not
// object; it stores the template's policies with it. A concurrent
// creation of the same repository is success. created is false when no
// template applies.
func CreateFromTemplate(ctx context.Context, st RepositoryCreator, registryID, repo, scenario string, allow func() error) (t metadata.Template, created bool, err error) {
	t, ok, err := MatchTemplate(ctx, st, registryID, repo, scenario)
	if err != nil || !ok {
		return t, false, err
	}
	if err := allow(); err != nil {
		return t, false, err
	}
	if err := st.EnsureRegistry(ctx, registryID); err != nil {
		return t, false, err
	}
	if _, err := st.CreateRepository(ctx, RepositoryFromTemplate(t, registryID, repo)); err != nil {
		if metadata.Is(err, metadata.AlreadyExists) {
			return t, true, nil
		}
		return t, false, err
	}
	for _, p := range []struct {
		kind metadata.PolicyKind
		text string
	}{{metadata.PolicyRepository, t.RepositoryPolicy}, {metadata.PolicyLifecycle, t.LifecyclePolicy}} {
		if p.text == "" {
			continue
		}
		if _, err := st.PutPolicy(ctx, p.kind, registryID, repo, p.text); err != nil {
			return t, false, err
		}
	}
	return t, true, nil
}
