package ecrapi

import (
	"context"

	"github.com/berth-registry/berth/metadata"
)

// Authz is one authorization question of an API call: the IAM action on
// one resource, with the request's tags and condition keys.
type Authz struct {
	Action string
	// Resource is a repository ARN, or "*" for registry-level actions.
	Resource string
	// Registry owns Resource; Repository is the repository it names ("").
	Registry, Repository string
	// RequestTags (aws:RequestTag/…) and TagKeys (aws:TagKeys).
	RequestTags []metadata.ResourceTag
	TagKeys     []string
	// Keys are further condition keys (ecr:AccountSetting).
	Keys map[string]string
}

// Authorizer decides whether the caller of req (req.Principal) may do q. A
// denial is an error naming AccessDeniedException with AWS's message;
// every other error is a failure to decide, sent as ServerException.
type Authorizer interface {
	Authorize(ctx context.Context, req *Request, q Authz) error
}

// targets lists what an operation must be allowed to do. Most act on the
// repository named by repositoryName (repoScoped) or on the registry
// ("*"); the others say so with their own targets function.
func (a *API) targets(op operation, req *Request, repo *string) ([]Authz, error) {
	if op.targets != nil {
		qs, err := op.targets(a, req)
		for i := range qs {
			if qs[i].Action == "" {
				qs[i].Action = op.action
			}
		}
		return qs, err
	}
	q := Authz{Action: op.action, Resource: "*", Registry: req.RegistryID}
	if op.repoScoped {
		if repo == nil {
			return nil, missingParam("repositoryName")
		}
		if err := validRepositoryName(*repo); err != nil {
			return nil, err
		}
		q.Resource, q.Repository = a.repositoryARN(req.RegistryID, *repo), *repo
	}
	return []Authz{q}, nil
}

// repoTarget is a repository of the call's registry as a target.
func (a *API) repoTarget(req *Request, name string) Authz {
	return Authz{Resource: a.repositoryARN(req.RegistryID, name), Registry: req.RegistryID, Repository: name}
}

// createRepositoryTargets: the new repository, with the tags it is
// created with.
func createRepositoryTargets(a *API, req *Request) ([]Authz, error) {
	var in createRepositoryIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if err := validRepositoryName(in.RepositoryName); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return nil, err
	}
	q := a.repoTarget(req, in.RepositoryName)
	q.RequestTags = tags
	return []Authz{q}, nil
}

// describeRepositoriesTargets: each named repository, or every repository
// of the registry when none is named.
func describeRepositoriesTargets(a *API, req *Request) ([]Authz, error) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return a.namedRepoTargets(req, in.RepositoryNames, "repositoryNames", 100)
}

func batchGetScanningTargets(a *API, req *Request) ([]Authz, error) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	if in.RepositoryNames == nil {
		return nil, missingParam("repositoryNames")
	}
	return a.namedRepoTargets(req, in.RepositoryNames, "repositoryNames", 25)
}

func (a *API) namedRepoTargets(req *Request, names []string, field string, max int) ([]Authz, error) {
	if names == nil {
		return []Authz{a.repoTarget(req, "*")}, nil
	}
	names, err := checkNameList(names, field, max)
	if err != nil {
		return nil, err
	}
	out := make([]Authz, 0, len(names))
	for _, n := range names {
		out = append(out, a.repoTarget(req, n))
	}
	return out, nil
}

// tagResourceTargets: the repository resourceArn names, with the tags set.
func tagResourceTargets(a *API, req *Request) ([]Authz, error) {
	var in tagResourceIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	q, err := a.arnTarget(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if q.RequestTags, err = checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	return []Authz{q}, nil
}

// untagResourceTargets: the repository, with the tag keys removed.
func untagResourceTargets(a *API, req *Request) ([]Authz, error) {
	var in untagResourceIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	q, err := a.arnTarget(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	q.TagKeys = in.TagKeys
	if q.TagKeys == nil {
		q.TagKeys = []string{}
	}
	return []Authz{q}, nil
}

func listTagsTargets(a *API, req *Request) ([]Authz, error) {
	var in struct {
		ResourceArn *string `json:"resourceArn"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	q, err := a.arnTarget(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return []Authz{q}, nil
}

func (a *API) arnTarget(arn *string) (Authz, error) {
	reg, name, err := a.arnRepository(arn)
	if err != nil {
		return Authz{}, err
	}
	return Authz{Resource: *arn, Registry: reg, Repository: name}, nil
}

// accountSettingTargets: the registry, with ecr:AccountSetting.
func accountSettingTargets(a *API, req *Request) ([]Authz, error) {
	var in struct {
		Name *string `json:"name"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	q := Authz{Resource: "*", Registry: req.RegistryID}
	if in.Name != nil {
		q.Keys = map[string]string{"ecr:AccountSetting": *in.Name}
	}
	return []Authz{q}, nil
}

// authorize asks the Authorizer about every target of the call.
func (a *API) authorize(ctx context.Context, op operation, req *Request, repo *string) error {
	qs, err := a.targets(op, req, repo)
	if err != nil {
		return err
	}
	if a.d.Authz == nil {
		return nil
	}
	for _, q := range qs {
		if err := a.d.Authz.Authorize(ctx, req, q); err != nil {
			return err
		}
	}
	return nil
}
