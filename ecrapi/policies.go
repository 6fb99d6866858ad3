package ecrapi

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/berth-registry/berth/metadata"
)

// Repository and registry permission policies: stored verbatim and
// returned verbatim. Until the IAM issue they are checked for shape only
// (a JSON object whose statements have an Effect and an Action or
// NotAction) and not enforced.

func (a *API) registerPolicyOps() {
	a.add(operation{name: "SetRepositoryPolicy", repoScoped: true, handle: a.setRepositoryPolicy})
	a.add(operation{name: "GetRepositoryPolicy", repoScoped: true, handle: a.getRepositoryPolicy})
	a.add(operation{name: "DeleteRepositoryPolicy", repoScoped: true, handle: a.deleteRepositoryPolicy})
	a.add(operation{name: "PutRegistryPolicy", handle: a.putRegistryPolicy})
	a.add(operation{name: "GetRegistryPolicy", handle: a.getRegistryPolicy})
	a.add(operation{name: "DeleteRegistryPolicy", handle: a.deleteRegistryPolicy})
}

// maxPolicyText bounds RepositoryPolicyText and RegistryPolicyText.
const maxPolicyText = 10240

// checkPolicyText validates a permission policy text; what ("repository"
// or "registry") words ECR's refusal.
func checkPolicyText(text *string, what string) error {
	if text == nil {
		return missingParam("policyText")
	}
	if utf8.RuneCountInString(*text) > maxPolicyText {
		return invalidParam("policyText", "must have length less than or equal to 10240")
	}
	if !policyShapeOK(*text) {
		return invalidParam("PolicyText", "Invalid "+what+" policy provided")
	}
	return nil
}

// policyShapeOK: a JSON object with a Statement (one object or a list of
// them), each with Effect Allow or Deny and an Action or NotAction.
func policyShapeOK(text string) bool {
	var doc map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &doc) != nil || doc == nil {
		return false
	}
	raw, ok := doc["Statement"]
	if !ok {
		return false
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(raw, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) != nil || one == nil {
			return false
		}
		stmts = []map[string]json.RawMessage{one}
	}
	if len(stmts) == 0 {
		return false
	}
	for _, s := range stmts {
		var effect string
		if s == nil || json.Unmarshal(s["Effect"], &effect) != nil || (effect != "Allow" && effect != "Deny") {
			return false
		}
		_, action := s["Action"]
		_, notAction := s["NotAction"]
		if action == notAction {
			return false
		}
	}
	return true
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
	RepositoryName string  `json:"repositoryName"`
	PolicyText     *string `json:"policyText"`
	// Force would skip ECR's lock-out check, which arrives with IAM.
	Force bool `json:"force"`
}

func (a *API) setRepositoryPolicy(ctx context.Context, req *Request) (any, error) {
	var in setRepositoryPolicyIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkPolicyText(in.PolicyText, "repository"); err != nil {
		return nil, err
	}
	reg := req.RegistryID
	p, err := a.d.Store.PutPolicy(ctx, metadata.PolicyRepository, reg, in.RepositoryName, *in.PolicyText)
	if err != nil {
		if metadata.Is(err, metadata.NotFound) {
			return nil, a.repoNotFound(reg, in.RepositoryName)
		}
		return nil, err
	}
	return repositoryPolicyOut{RegistryID: reg, RepositoryName: in.RepositoryName, PolicyText: p.Text}, nil
}

func (a *API) getRepositoryPolicy(ctx context.Context, req *Request) (any, error) {
	return a.repositoryPolicy(ctx, req, a.d.Store.GetPolicy)
}

func (a *API) deleteRepositoryPolicy(ctx context.Context, req *Request) (any, error) {
	return a.repositoryPolicy(ctx, req, a.d.Store.DeletePolicy)
}

// repositoryPolicy runs a read or delete of the repository policy: a
// missing repository and a missing policy are told apart as ECR does.
func (a *API) repositoryPolicy(ctx context.Context, req *Request,
	do func(context.Context, metadata.PolicyKind, string, string) (metadata.Policy, error)) (any, error) {
	var in struct {
		RepositoryName string `json:"repositoryName"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg := req.RegistryID
	if _, err := a.getRepo(ctx, reg, in.RepositoryName); err != nil {
		return nil, err
	}
	p, err := do(ctx, metadata.PolicyRepository, reg, in.RepositoryName)
	if err != nil {
		if metadata.Is(err, metadata.NotFound) {
			return nil, a.repoPolicyNotFound(reg, in.RepositoryName)
		}
		return nil, err
	}
	return repositoryPolicyOut{RegistryID: reg, RepositoryName: in.RepositoryName, PolicyText: p.Text}, nil
}

type registryPolicyOut struct {
	RegistryID string `json:"registryId"`
	PolicyText string `json:"policyText"`
}

func registryPolicyNotFound(reg string) *Error {
	return errorf("RegistryPolicyNotFoundException", "Registry policy does not exist in the registry with id '%s'", reg)
}

func (a *API) putRegistryPolicy(ctx context.Context, req *Request) (any, error) {
	var in struct {
		PolicyText *string `json:"policyText"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := checkPolicyText(in.PolicyText, "registry"); err != nil {
		return nil, err
	}
	reg := req.RegistryID
	if err := a.d.Store.EnsureRegistry(ctx, reg); err != nil {
		return nil, err
	}
	p, err := a.d.Store.PutPolicy(ctx, metadata.PolicyRegistry, reg, "", *in.PolicyText)
	if err != nil {
		return nil, err
	}
	return registryPolicyOut{RegistryID: reg, PolicyText: p.Text}, nil
}

func (a *API) getRegistryPolicy(ctx context.Context, req *Request) (any, error) {
	return a.registryPolicy(ctx, req, a.d.Store.GetPolicy)
}

func (a *API) deleteRegistryPolicy(ctx context.Context, req *Request) (any, error) {
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
