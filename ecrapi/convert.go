package ecrapi

import (
	"context"
	"errors"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// The metadata store's errors become ECR exceptions here, once, for every
// operation of the package; the wire shapes shared by several operations
// are converted from the store's types here too.

// repoNotFound is ECR's RepositoryNotFoundException for name in reg.
func (a *API) repoNotFound(reg, name string) *Error {
	return errorf("RepositoryNotFoundException",
		"The repository with name '%s' does not exist in the registry with id '%s'", name, reg)
}

// repoExists is ECR's RepositoryAlreadyExistsException.
func (a *API) repoExists(reg, name string) *Error {
	return errorf("RepositoryAlreadyExistsException",
		"The repository with name '%s' already exists in the registry with id '%s'", name, reg)
}

// repoNotEmpty is ECR's RepositoryNotEmptyException.
func (a *API) repoNotEmpty(reg, name string) *Error {
	return errorf("RepositoryNotEmptyException",
		"The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", name, reg)
}

// storeErr maps a metadata error of an operation on repository repo of
// registry reg to ECR's exception: a missing repository is
// RepositoryNotFoundException, a duplicate one
// RepositoryAlreadyExistsException, a non-empty one
// RepositoryNotEmptyException. *Error values (returned by update
// callbacks) pass unchanged; every other error is returned as is, for the
// caller to map (or, unmapped, to be a ServerException).
func (a *API) storeErr(err error, reg, repo string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var me *metadata.Error
	if !errors.As(err, &me) {
		return err
	}
	switch {
	case me.Kind == metadata.NotFound && me.Entity == "repository":
		return a.repoNotFound(reg, repo)
	case me.Kind == metadata.AlreadyExists && me.Entity == "repository":
		return a.repoExists(reg, repo)
	case me.Kind == metadata.NotEmpty:
		return a.repoNotEmpty(reg, repo)
	}
	return err
}

// getRepo reads a repository; absence is RepositoryNotFoundException.
func (a *API) getRepo(ctx context.Context, reg, name string) (metadata.Repository, error) {
	r, err := a.d.Store.GetRepository(ctx, reg, name)
	if metadata.Is(err, metadata.NotFound) {
		return r, a.repoNotFound(reg, name)
	}
	return r, err
}

// repositoryOut is ECR's Repository shape.
type repositoryOut struct {
	RepositoryArn                      string         `json:"repositoryArn"`
	RegistryID                         string         `json:"registryId"`
	RepositoryName                     string         `json:"repositoryName"`
	RepositoryURI                      string         `json:"repositoryUri"`
	CreatedAt                          *epoch         `json:"createdAt,omitempty"`
	ImageTagMutability                 string         `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []filterOut    `json:"imageTagMutabilityExclusionFilters,omitempty"`
	ImageScanningConfiguration         scanningOut    `json:"imageScanningConfiguration"`
	EncryptionConfiguration            *encryptionOut `json:"encryptionConfiguration"`
}

type scanningOut struct {
	ScanOnPush bool `json:"scanOnPush"`
}

// filterOut is an ImageTagMutabilityExclusionFilter.
type filterOut struct {
	FilterType string `json:"filterType"`
	Filter     string `json:"filter"`
}

// encryptionOut is an EncryptionConfiguration.
type encryptionOut struct {
	EncryptionType string `json:"encryptionType"`
	KmsKey         string `json:"kmsKey,omitempty"`
}

// tagOut is a Tag (capitalised members, unlike every other ECR shape).
type tagOut struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (a *API) repositoryOut(r metadata.Repository) repositoryOut {
	return repositoryOut{
		RepositoryArn:                      a.repositoryARN(r.RegistryID, r.Name),
		RegistryID:                         r.RegistryID,
		RepositoryName:                     r.Name,
		RepositoryURI:                      a.repositoryURI(r.RegistryID, r.Name),
		CreatedAt:                          ts(r.CreatedAt),
		ImageTagMutability:                 mutabilityOut(r.TagMutability),
		ImageTagMutabilityExclusionFilters: filtersOut(r.MutabilityExclusions),
		ImageScanningConfiguration:         scanningOut{ScanOnPush: r.ScanOnPush},
		EncryptionConfiguration:            a.encryptionOut(r.RegistryID, r.EncryptionType, r.KMSKey),
	}
}

// mutabilityOut renders the store's "" as MUTABLE.
func mutabilityOut(m string) string { return ecrmodel.MutabilityOrDefault(m) }

func filtersOut(fs []string) []filterOut {
	if len(fs) == 0 {
		return nil
	}
	out := make([]filterOut, len(fs))
	for i, f := range fs {
		out[i] = filterOut{FilterType: "WILDCARD", Filter: f}
	}
	return out
}

// encryptionOut renders a repository's encryption: AES256 when unset, and
// for KMS types without a key the AWS managed key ECR uses by default.
func (a *API) encryptionOut(reg, typ, key string) *encryptionOut {
	switch typ {
	case "", encAES256:
		return &encryptionOut{EncryptionType: encAES256}
	}
	if key == "" {
		key = a.defaultKMSKey(reg)
	}
	return &encryptionOut{EncryptionType: typ, KmsKey: key}
}

// defaultKMSKey is the AWS managed key for ECR in reg's account.
func (a *API) defaultKMSKey(reg string) string {
	return "arn:aws:kms:" + a.d.Region + ":" + reg + ":alias/aws/ecr"
}

func tagsOut(tags []metadata.ResourceTag) []tagOut {
	out := make([]tagOut, len(tags))
	for i, t := range tags {
		out[i] = tagOut{Key: t.Key, Value: t.Value}
	}
	return out
}
