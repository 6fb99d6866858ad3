package ecrapi

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// Pull-through cache rules. The rules, their validation and errors live in
// package pullthrough; its *pullthrough.Error values name their ECR
// exception and are sent as they are (errors.go, awsError).

func (a *API) registerPullThroughOps() {
	if ps, ok := a.d.Store.(pullthrough.Store); ok && a.d.PullThrough == nil {
		a.d.PullThrough = &pullthrough.Rules{Store: ps, Region: a.d.Region}
	}
	a.add(op("CreatePullThroughCacheRule", onRegistry, a.createPTCRule))
	a.add(op("DescribePullThroughCacheRules", onRegistry, a.describePTCRules))
	a.add(op("UpdatePullThroughCacheRule", onRegistry, a.updatePTCRule))
	a.add(op("DeletePullThroughCacheRule", onRegistry, a.deletePTCRule))
	a.add(op("ValidatePullThroughCacheRule", onRegistry, a.validatePTCRule))
}

// rules is the registry's pull-through cache rules (a ServerException
// when berth was built without them).
func (a *API) rules() (*pullthrough.Rules, error) {
	if a.d.PullThrough == nil {
		return nil, errors.New("pull-through cache rules are not configured")
	}
	return a.d.PullThrough, nil
}

type createPTCIn struct {
	scopeIn
	EcrRepositoryPrefix      *string `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      *string `json:"upstreamRegistryUrl"`
	UpstreamRegistry         *string `json:"upstreamRegistry"`
	CredentialArn            *string `json:"credentialArn"`
	CustomRoleArn            *string `json:"customRoleArn"`
	UpstreamRepositoryPrefix *string `json:"upstreamRepositoryPrefix"`
}

type describePTCIn struct {
	scopeIn
	pagingIn
	EcrRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
}

type updatePTCIn struct {
	scopeIn
	EcrRepositoryPrefix *string `json:"ecrRepositoryPrefix"`
	CredentialArn       *string `json:"credentialArn"`
	CustomRoleArn       *string `json:"customRoleArn"`
}

type prefixPTCIn struct {
	scopeIn
	EcrRepositoryPrefix *string `json:"ecrRepositoryPrefix"`
}

// ptcRuleOut is a PullThroughCacheRule (and the members of the
// operations' outputs, which are the same names).
type ptcRuleOut struct {
	EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
	UpstreamRegistryURL      string `json:"upstreamRegistryUrl,omitempty"`
	CreatedAt                *epoch `json:"createdAt,omitempty"`
	UpdatedAt                *epoch `json:"updatedAt,omitempty"`
	RegistryID               string `json:"registryId"`
	CredentialArn            string `json:"credentialArn,omitempty"`
	CustomRoleArn            string `json:"customRoleArn,omitempty"`
	UpstreamRegistry         string `json:"upstreamRegistry,omitempty"`
	UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
}

func ptcOut(r metadata.PullThroughRule) ptcRuleOut {
	return ptcRuleOut{
		EcrRepositoryPrefix: r.Prefix, UpstreamRegistryURL: r.UpstreamURL, CreatedAt: ts(r.CreatedAt),
		RegistryID: r.RegistryID, CredentialArn: r.CredentialArn, CustomRoleArn: r.CustomRoleArn,
		UpstreamRegistry: r.UpstreamRegistry, UpstreamRepositoryPrefix: r.UpstreamPrefix,
	}
}

func (a *API) createPTCRule(ctx context.Context, req *Request, in *createPTCIn) (any, error) {
	rs, err := a.rules()
	if err != nil {
		return nil, err
	}
	r, err := rs.Create(ctx, req.RegistryID, pullthrough.CreateInput{
		EcrRepositoryPrefix: in.EcrRepositoryPrefix, UpstreamRegistryURL: in.UpstreamRegistryURL,
		UpstreamRegistry: in.UpstreamRegistry, CredentialArn: in.CredentialArn, CustomRoleArn: in.CustomRoleArn,
		UpstreamRepositoryPrefix: in.UpstreamRepositoryPrefix})
	if err != nil {
		return nil, err
	}
	return ptcOut(r), nil
}

func (a *API) describePTCRules(ctx context.Context, req *Request, in *describePTCIn) (any, error) {
	rs, err := a.rules()
	if err != nil {
		return nil, err
	}
	type out struct {
		PullThroughCacheRules []ptcRuleOut `json:"pullThroughCacheRules"`
		NextToken             string       `json:"nextToken,omitempty"`
	}
	o := out{PullThroughCacheRules: []ptcRuleOut{}}
	one := func(r metadata.PullThroughRule) {
		ro := ptcOut(r)
		ro.UpdatedAt = ts(r.UpdatedAt)
		o.PullThroughCacheRules = append(o.PullThroughCacheRules, ro)
	}
	if in.EcrRepositoryPrefixes != nil {
		if err := pullthrough.CheckPrefixes(in.EcrRepositoryPrefixes); err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, p := range in.EcrRepositoryPrefixes {
			r, err := rs.Get(ctx, req.RegistryID, &p)
			if err != nil {
				return nil, err
			}
			if !seen[r.Prefix] {
				seen[r.Prefix] = true
				one(r)
			}
		}
		return o, nil
	}
	list, next, err := listPage(a, req, req.RegistryID, in.pagingIn, standardPages, func(p metadata.Page) ([]metadata.PullThroughRule, string, error) {
		return rs.List(ctx, req.RegistryID, p)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		one(r)
	}
	o.NextToken = next
	return o, nil
}

func (a *API) updatePTCRule(ctx context.Context, req *Request, in *updatePTCIn) (any, error) {
	rs, err := a.rules()
	if err != nil {
		return nil, err
	}
	r, err := rs.Update(ctx, req.RegistryID, pullthrough.UpdateInput{
		EcrRepositoryPrefix: in.EcrRepositoryPrefix, CredentialArn: in.CredentialArn, CustomRoleArn: in.CustomRoleArn})
	if err != nil {
		return nil, err
	}
	return struct {
		EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
		RegistryID               string `json:"registryId"`
		UpdatedAt                *epoch `json:"updatedAt,omitempty"`
		CredentialArn            string `json:"credentialArn,omitempty"`
		CustomRoleArn            string `json:"customRoleArn,omitempty"`
		UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
	}{r.Prefix, r.RegistryID, ts(r.UpdatedAt), r.CredentialArn, r.CustomRoleArn, r.UpstreamPrefix}, nil
}

func (a *API) deletePTCRule(ctx context.Context, req *Request, in *prefixPTCIn) (any, error) {
	rs, err := a.rules()
	if err != nil {
		return nil, err
	}
	r, err := rs.Delete(ctx, req.RegistryID, in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	return ptcOut(r), nil
}

func (a *API) validatePTCRule(ctx context.Context, req *Request, in *prefixPTCIn) (any, error) {
	rs, err := a.rules()
	if err != nil {
		return nil, err
	}
	v, err := rs.Validate(ctx, req.RegistryID, in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	r := v.Rule
	return struct {
		EcrRepositoryPrefix      string `json:"ecrRepositoryPrefix"`
		RegistryID               string `json:"registryId"`
		UpstreamRegistryURL      string `json:"upstreamRegistryUrl"`
		CredentialArn            string `json:"credentialArn,omitempty"`
		CustomRoleArn            string `json:"customRoleArn,omitempty"`
		UpstreamRepositoryPrefix string `json:"upstreamRepositoryPrefix,omitempty"`
		IsValid                  bool   `json:"isValid"`
		Failure                  string `json:"failure,omitempty"`
	}{r.Prefix, r.RegistryID, r.UpstreamURL, r.CredentialArn, r.CustomRoleArn, r.UpstreamPrefix, v.IsValid, v.Failure}, nil
}
