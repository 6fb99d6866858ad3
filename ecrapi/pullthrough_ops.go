package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// Pull-through cache rules. The rules, their validation and errors live in
// package pullthrough; its *pullthrough.Error values name their ECR
// exception and are sent as they are (errors.go, awsError).

func (a *API) registerPullThroughOps() {
	if a.d.PullThrough == nil {
		a.d.PullThrough = &pullthrough.Rules{Store: a.d.Store, Region: a.d.Region}
	}
	a.add(operation{name: "CreatePullThroughCacheRule", handle: a.createPTCRule})
	a.add(operation{name: "DescribePullThroughCacheRules", handle: a.describePTCRules})
	a.add(operation{name: "UpdatePullThroughCacheRule", handle: a.updatePTCRule})
	a.add(operation{name: "DeletePullThroughCacheRule", handle: a.deletePTCRule})
	a.add(operation{name: "ValidatePullThroughCacheRule", handle: a.validatePTCRule})
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

func (a *API) createPTCRule(ctx context.Context, req *Request) (any, error) {
	var in struct {
		EcrRepositoryPrefix      *string `json:"ecrRepositoryPrefix"`
		UpstreamRegistryURL      *string `json:"upstreamRegistryUrl"`
		UpstreamRegistry         *string `json:"upstreamRegistry"`
		CredentialArn            *string `json:"credentialArn"`
		CustomRoleArn            *string `json:"customRoleArn"`
		UpstreamRepositoryPrefix *string `json:"upstreamRepositoryPrefix"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	r, err := a.d.PullThrough.Create(ctx, req.RegistryID, pullthrough.CreateInput(in))
	if err != nil {
		return nil, err
	}
	return ptcOut(r), nil
}

func (a *API) describePTCRules(ctx context.Context, req *Request) (any, error) {
	var in struct {
		EcrRepositoryPrefixes []string `json:"ecrRepositoryPrefixes"`
		MaxResults            *int     `json:"maxResults"`
		NextToken             *string  `json:"nextToken"`
	}
	if err := req.Decode(&in); err != nil {
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
			r, err := a.d.PullThrough.Get(ctx, req.RegistryID, &p)
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
	const op = "DescribePullThroughCacheRules"
	limit, after, err := a.pageParams(op, req.RegistryID, in.MaxResults, in.NextToken, maxPage)
	if err != nil {
		return nil, err
	}
	list, next, err := a.d.PullThrough.List(ctx, req.RegistryID, metadata.Page{Limit: limit, After: after})
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		one(r)
	}
	o.NextToken = a.encodeToken(op, req.RegistryID, next)
	return o, nil
}

func (a *API) updatePTCRule(ctx context.Context, req *Request) (any, error) {
	var in struct {
		EcrRepositoryPrefix *string `json:"ecrRepositoryPrefix"`
		CredentialArn       *string `json:"credentialArn"`
		CustomRoleArn       *string `json:"customRoleArn"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	r, err := a.d.PullThrough.Update(ctx, req.RegistryID, pullthrough.UpdateInput(in))
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

func (a *API) deletePTCRule(ctx context.Context, req *Request) (any, error) {
	var in struct {
		EcrRepositoryPrefix *string `json:"ecrRepositoryPrefix"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	r, err := a.d.PullThrough.Delete(ctx, req.RegistryID, in.EcrRepositoryPrefix)
	if err != nil {
		return nil, err
	}
	return ptcOut(r), nil
}

func (a *API) validatePTCRule(ctx context.Context, req *Request) (any, error) {
	var in struct {
		EcrRepositoryPrefix *string `json:"ecrRepositoryPrefix"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	v, err := a.d.PullThrough.Validate(ctx, req.RegistryID, in.EcrRepositoryPrefix)
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
