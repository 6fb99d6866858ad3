package ecrapi

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// Repository and registry permission policies: validated with the IAM
// policy grammar (auth/policy) when set, stored and returned verbatim, and
// enforced by the Authorizer on every call and registry request.

func (a *API) registerPolicyOps() {
	a.add(op("SetRepositoryPolicy", onRepository, a.setRepositoryPolicy))
	a.add(op("GetRepositoryPolicy", onRepository, a.getRepositoryPolicy))
	a.add(op("DeleteRepositoryPolicy", onRepository, a.deleteRepositoryPolicy))
	a.add(op("PutRegistryPolicy", onOwnRegistry, a.putRegistryPolicy))
	a.add(op("GetRegistryPolicy", onOwnRegistry, a.getRegistryPolicy))
	a.add(op("DeleteRegistryPolicy", onOwnRegistry, a.deleteRegistryPolicy))
}

// maxPolicyText bounds RepositoryPolicyText and RegistryPolicyText.
const maxPolicyText = 10240

// checkPolicyText validates a permission policy text as kind; a policy
// that does not parse is refused with ECR's wording, never stored.
func checkPolicyText(text *string, kind policy.Kind) (*policy.Policy, error) {
	if text == nil {
		return nil, missingParam("policyText")
	}
	if utf8.RuneCountInString(*text) > maxPolicyText {
		return nil, invalidParam("policyText", "must have length less than or equal to 10240")
	}
	what := "repository"
	if kind == policy.Registry {
		what = "registry"
	}
	p, err := policy.Parse(*text, kind)
	if err != nil {
		return nil, invalidParam("PolicyText", "Invalid "+what+" policy provided")
	}
	return p, nil
}

// v1RegistryActions are what a registry policy may grant in ECR's V1
// scope.
var v1RegistryActions = map[string]bool{
	"ecr:replicateimage": true, "ecr:batchimportupstreamimage": true, "ecr:createrepository": true,
}

// repositoryPolicyOut is the answer of the three repository policy
// operations.
type repositoryPolicyOut struct {
	RegistryID     string `json:"registryId"`
	RepositoryName string `json:"repositoryName"`
	PolicyText     string `json:"policyText"`
}

func (a *API) repoPolicyNotFound(reg, name string) *Error {
	return errorf("RepositoryPolicyNotFoundException",
		"Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", name, reg)
}

type setRepositoryPolicyIn struct {
	scopeIn
	PolicyText *string `json:"policyText"`
	// Force skips ECR's check that the policy does not lock the caller
	// out; berth makes no such check, so force changes nothing.
	Force bool `json:"force"`
}

func (a *API) setRepositoryPolicy(ctx context.Context, req *Request, in *setRepositoryPolicyIn) (any, error) {
	if _, err := checkPolicyText(in.PolicyText, policy.Resource); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, req.Repository
	p, err := a.d.Store.PutPolicy(ctx, metadata.PolicyRepository, reg, name, *in.PolicyText)
	if err != nil {
		if metadata.Is(err, metadata.NotFound) {
			return nil, a.repoNotFound(reg, name)
		}
		return nil, err
	}
	return repositoryPolicyOut{RegistryID: reg, RepositoryName: name, PolicyText: p.Text}, nil
}

func (a *API) getRepositoryPolicy(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	return a.repositoryPolicy(ctx, req, a.d.Store.GetPolicy)
}

func (a *API) deleteRepositoryPolicy(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	return a.repositoryPolicy(ctx, req, a.d.Store.DeletePolicy)
}

// repositoryPolicy runs a read or delete of the repository policy: a
// missing repository and a missing policy are told apart as ECR does.
func (a *API) repositoryPolicy(ctx context.Context, req *Request,
	do func(context.Context, metadata.PolicyKind, string, string) (metadata.Policy, error)) (any, error) {
	reg, name := req.RegistryID, req.Repository
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	p, err := do(ctx, metadata.PolicyRepository, reg, name)
	if err != nil {
		if metadata.Is(err, metadata.NotFound) {
			return nil, a.repoPolicyNotFound(reg, name)
		}
		return nil, err
	}
	return repositoryPolicyOut{RegistryID: reg, RepositoryName: name, PolicyText: p.Text}, nil
}

type registryPolicyOut struct {
	RegistryID string `json:"registryId"`
	PolicyText string `json:"policyText"`
}

func registryPolicyNotFound(reg string) *Error {
	return errorf("RegistryPolicyNotFoundException", "Registry policy does not exist in the registry with id '%s'", reg)
}

// policyTextIn is PutRegistryPolicy's input.
type policyTextIn struct {
	scopeIn
	PolicyText *string `json:"policyText"`
}

func (a *API) putRegistryPolicy(ctx context.Context, req *Request, in *policyTextIn) (any, error) {
	p, err := checkPolicyText(in.PolicyText, policy.Registry)
	if err != nil {
		return nil, err
	}
	reg := req.RegistryID
	scope, err := ecrmodel.AccountSetting(ctx, a.d.Store, reg, "REGISTRY_POLICY_SCOPE")
	if err != nil {
		return nil, err
	}
	if scope == "V1" {
		for _, st := range p.Statements {
			for _, act := range st.Action {
				if !v1RegistryActions[strings.ToLower(act)] {
					return nil, invalidParam("PolicyText", "Invalid registry policy provided")
				}
			}
			if len(st.NotAction) > 0 {
				return nil, invalidParam("PolicyText", "Invalid registry policy provided")
			}
		}
	}
	if err := a.d.Store.EnsureRegistry(ctx, reg); err != nil {
		return nil, err
	}
	stored, err := a.d.Store.PutPolicy(ctx, metadata.PolicyRegistry, reg, "", *in.PolicyText)
	if err != nil {
		return nil, err
	}
	return registryPolicyOut{RegistryID: reg, PolicyText: stored.Text}, nil
}

func (a *API) getRegistryPolicy(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	return a.registryPolicy(ctx, req, a.d.Store.GetPolicy)
}

func (a *API) deleteRegistryPolicy(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	return a.registryPolicy(ctx, req, a.d.Store.DeletePolicy)
}

func (a *API) registryPolicy(ctx context.Context, req *Request,
	do func(context.Context, metadata.PolicyKind, string, string) (metadata.Policy, error)) (any, error) {
	reg := req.RegistryID
	p, err := do(ctx, metadata.PolicyRegistry, reg, "")
	if err != nil {
		if metadata.Is(err, metadata.NotFound) {
			return nil, registryPolicyNotFound(reg)
		}
		return nil, err
	}
	return registryPolicyOut{RegistryID: reg, PolicyText: p.Text}, nil
}
