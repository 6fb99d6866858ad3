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

// targets lists what a call must be allowed to do: the resources its
// input names (opTargets), else its repository (onRepository) or its
// registry ("*").
func (a *API) targets(op operation, req *Request, in input) ([]ecrmodel.Authz, error) {
	if op.targets != nil {
		qs, err := op.targets(req, in)
		for i := range qs {
			if qs[i].Action == "" {
				qs[i].Action = op.action
			}
		}
		return qs, err
	}
	q := ecrmodel.Authz{Action: op.action, Resource: "*", Registry: req.RegistryID}
	if op.on == onRepository {
		q.Resource, q.Repository = a.repositoryARN(req.RegistryID, req.Repository), req.Repository
	}
	return []ecrmodel.Authz{q}, nil
}

// repoTarget is a repository of the call's registry as a target.
func (a *API) repoTarget(req *Request, name string) ecrmodel.Authz {
	return ecrmodel.Authz{Resource: a.repositoryARN(req.RegistryID, name), Registry: req.RegistryID, Repository: name}
}

// createRepositoryTargets: the new repository, with the tags it is
// created with.
func (a *API) createRepositoryTargets(req *Request, in *createRepositoryIn) ([]ecrmodel.Authz, error) {
	name := deref(in.RepositoryName)
	if err := validRepositoryName(name); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags, "tags")
	if err != nil {
		return nil, err
	}
	q := a.repoTarget(req, name)
	q.RequestTags = tags
	return []ecrmodel.Authz{q}, nil
}

// describeRepositoriesTargets: each named repository, or every repository
// of the registry when none is named.
func (a *API) describeRepositoriesTargets(req *Request, in *describeRepositoriesIn) ([]ecrmodel.Authz, error) {
	return a.namedRepoTargets(req, in.RepositoryNames, "repositoryNames", 100)
}

func (a *API) batchGetScanningTargets(req *Request, in *repositoryNamesIn) ([]ecrmodel.Authz, error) {
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
func (a *API) tagResourceTargets(_ *Request, in *tagResourceIn) ([]ecrmodel.Authz, error) {
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
func (a *API) untagResourceTargets(_ *Request, in *untagResourceIn) ([]ecrmodel.Authz, error) {
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

// listTagsTargets: the repository resourceArn names.
func (a *API) listTagsTargets(_ *Request, in *resourceArnIn) ([]ecrmodel.Authz, error) {
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
func accountSettingTargets(req *Request, in *accountSettingIn) ([]ecrmodel.Authz, error) {
	q := ecrmodel.Authz{Resource: "*", Registry: req.RegistryID}
	if in.Name != nil {
		q.Keys = map[string]string{"ecr:AccountSetting": *in.Name}
	}
	return []ecrmodel.Authz{q}, nil
}

// authorize asks the Authorizer about every target of the call.
func (a *API) authorize(ctx context.Context, op operation, req *Request, in input) error {
	qs, err := a.targets(op, req, in)
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
