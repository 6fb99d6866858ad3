package ecrapi

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/ecrmodel"
)

// Authorizer decides one authorization question of a call. A denial is an
// *ecrmodel.DeniedError (sent as AccessDeniedException with its message);
// every other error is a failure to decide, sent as ServerException.
type Authorizer interface {
	Authorize(ctx context.Context, q ecrmodel.Authz) error
}

// targets lists what an operation must be allowed to do. Most act on the
// repository named by repositoryName (repoScoped) or on the registry
// ("*"); the others say so with their own targets function.
func (a *API) targets(op operation, req *Request, repo *string) ([]ecrmodel.Authz, error) {
	if op.targets != nil {
		qs, err := op.targets(a, req)
		for i := range qs {
			if qs[i].Action == "" {
				qs[i].Action = op.action
			}
		}
		return qs, err
	}
	q := ecrmodel.Authz{Action: op.action, Resource: "*", Registry: req.RegistryID}
	if op.repoScoped {
		if repo == nil {
			return nil, missingParam("repositoryName")
		}
		if err := validRepositoryName(*repo); err != nil {
			return nil, err
		}
		q.Resource, q.Repository = a.repositoryARN(req.RegistryID, *repo), *repo
	}
	return []ecrmodel.Authz{q}, nil
}

// repoTarget is a repository of the call's registry as a target.
func (a *API) repoTarget(req *Request, name string) ecrmodel.Authz {
	return ecrmodel.Authz{Resource: a.repositoryARN(req.RegistryID, name), Registry: req.RegistryID, Repository: name}
}

// createRepositoryTargets: the new repository, with the tags it is
// created with.
func createRepositoryTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
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
	return []ecrmodel.Authz{q}, nil
}

// describeRepositoriesTargets: each named repository, or every repository
// of the registry when none is named.
func describeRepositoriesTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	return a.namedRepoTargets(req, in.RepositoryNames, "repositoryNames", 100)
}

func batchGetScanningTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
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

func (a *API) namedRepoTargets(req *Request, names []string, field string, max int) ([]ecrmodel.Authz, error) {
	if names == nil {
		return []ecrmodel.Authz{a.repoTarget(req, "*")}, nil
	}
	names, err := checkNameList(names, field, max)
	if err != nil {
		return nil, err
	}
	out := make([]ecrmodel.Authz, 0, len(names))
	for _, n := range names {
		out = append(out, a.repoTarget(req, n))
	}
	return out, nil
}

// tagResourceTargets: the repository resourceArn names, with the tags set.
func tagResourceTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
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
	return []ecrmodel.Authz{q}, nil
}

// untagResourceTargets: the repository, with the tag keys removed.
func untagResourceTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
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
	return []ecrmodel.Authz{q}, nil
}

func listTagsTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
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
	return []ecrmodel.Authz{q}, nil
}

func (a *API) arnTarget(arn *string) (ecrmodel.Authz, error) {
	reg, name, err := a.arnRepository(arn)
	if err != nil {
		return ecrmodel.Authz{}, err
	}
	return ecrmodel.Authz{Resource: *arn, Registry: reg, Repository: name}, nil
}

// accountSettingTargets: the registry, with ecr:AccountSetting.
func accountSettingTargets(a *API, req *Request) ([]ecrmodel.Authz, error) {
	var in struct {
		Name *string `json:"name"`
	}
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	q := ecrmodel.Authz{Resource: "*", Registry: req.RegistryID}
	if in.Name != nil {
		q.Keys = map[string]string{"ecr:AccountSetting": *in.Name}
	}
	return []ecrmodel.Authz{q}, nil
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
		q.Principal, q.HTTP, q.Event, q.RequestID = req.Principal, req.HTTP, req.Op, req.RequestID
		err := a.d.Authz.Authorize(ctx, q)
		if d := (*ecrmodel.DeniedError)(nil); errors.As(err, &d) {
			return &Error{Type: "AccessDeniedException", Message: d.Message}
		}
		if err != nil {
			return err
		}
	}
	return nil
}
