package ecrapi

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// Repository operations: create, describe, delete and the per-repository
// settings (tag mutability, scan on push). Tagging and creation templates
// register here too: they are repository settings by another name.

func (a *API) registerRepositoryOps() {
	a.add(opTargets("CreateRepository", onRegistry, a.createRepositoryTargets, a.createRepository))
	a.add(opTargets("DescribeRepositories", onRegistry, a.describeRepositoriesTargets, a.describeRepositories))
	a.add(op("DeleteRepository", onRepository, a.deleteRepository))
	a.add(op("PutImageTagMutability", onRepository, a.putImageTagMutability))
	a.add(op("PutImageScanningConfiguration", onRepository, a.putImageScanningConfiguration))
	a.add(opTargets("BatchGetRepositoryScanningConfiguration", onOwnRegistry, a.batchGetScanningTargets, a.batchGetRepositoryScanningConfiguration))
	a.registerTaggingOps()
	a.registerTemplateOps()
}

const (
	encAES256  = "AES256"
	encKMS     = "KMS"
	encKMSDSSE = "KMS_DSSE"
)

// exclusionFilterRE is ImageTagMutabilityExclusionFilterValue's pattern.
var exclusionFilterRE = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)

// filterIn is an ImageTagMutabilityExclusionFilter as sent.
type filterIn struct {
	FilterType *string `json:"filterType"`
	Filter     *string `json:"filter"`
}

// encryptionIn is an EncryptionConfiguration as sent.
type encryptionIn struct {
	EncryptionType *string `json:"encryptionType"`
	KmsKey         *string `json:"kmsKey"`
}

type scanningIn struct {
	ScanOnPush *bool `json:"scanOnPush"`
}

// checkMutability validates a tag mutability mode ("" means MUTABLE) with
// its exclusion filters (nil: none sent) and returns the mode and the
// filter values. Filters are required by, and only allowed with, the
// *_WITH_EXCLUSION modes.
func checkMutability(mode string, filters []filterIn) (string, []string, error) {
	const field = "imageTagMutabilityExclusionFilters"
	if mode == "" {
		mode = metadata.Mutable
	}
	exclusion := false
	switch mode {
	case metadata.Mutable, metadata.Immutable:
	case metadata.ImmutableWithExclusion, metadata.MutableWithExclusion:
		exclusion = true
	default:
		return "", nil, invalidParam("imageTagMutability",
			"Member must satisfy enum value set: [MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE_WITH_EXCLUSION]")
	}
	switch {
	case exclusion && filters == nil:
		return "", nil, invalidParam(field, "must be specified when imageTagMutability is "+mode)
	case !exclusion && filters != nil:
		return "", nil, invalidParam(field, "can only be specified when imageTagMutability is IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION")
	case filters == nil:
		return mode, nil, nil
	case len(filters) < 1:
		return "", nil, invalidParam(field, "must have length greater than or equal to 1")
	case len(filters) > 5:
		return "", nil, invalidParam(field, "must have length less than or equal to 5")
	}
	out := make([]string, 0, len(filters))
	for i, f := range filters {
		at := field + "." + itoa(i+1) + ".member."
		switch {
		case f.FilterType == nil:
			return "", nil, missingParam(at + "filterType")
		case *f.FilterType != "WILDCARD":
			return "", nil, invalidParam(at+"filterType", "Member must satisfy enum value set: [WILDCARD]")
		case f.Filter == nil:
			return "", nil, missingParam(at + "filter")
		case !exclusionFilterRE.MatchString(*f.Filter):
			return "", nil, invalidParam(at+"filter", "must satisfy regular expression '^[0-9a-zA-Z._*-]{1,128}$'")
		}
		out = append(out, *f.Filter)
	}
	return mode, out, nil
}

// checkEncryption validates an EncryptionConfiguration (nil: AES256) and
// returns its type and key. KMS types are accepted and recorded (storage
// encryption is the storage backend's); without a key they name the AWS
// managed key of reg, as ECR does.
func (a *API) checkEncryption(enc *encryptionIn, reg string) (typ, key string, err error) {
	const field = "encryptionConfiguration"
	if enc == nil {
		return encAES256, "", nil
	}
	if enc.EncryptionType == nil {
		return "", "", missingParam(field + ".encryptionType")
	}
	typ = *enc.EncryptionType
	switch typ {
	case encAES256, encKMS, encKMSDSSE:
	default:
		return "", "", invalidParam(field+".encryptionType", "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]")
	}
	if enc.KmsKey != nil {
		key = *enc.KmsKey
		switch n := utf8.RuneCountInString(key); {
		case typ == encAES256:
			return "", "", invalidParam(field+".kmsKey", "can only be specified when encryptionType is KMS or KMS_DSSE")
		case n < 1:
			return "", "", invalidParam(field+".kmsKey", "must have length greater than or equal to 1")
		case n > 2048:
			return "", "", invalidParam(field+".kmsKey", "must have length less than or equal to 2048")
		}
	}
	if typ != encAES256 && key == "" {
		key = a.defaultKMSKey(reg)
	}
	return typ, key, nil
}

type createRepositoryIn struct {
	scopeIn
	Tags                               []tagIn       `json:"tags"`
	ImageTagMutability                 *string       `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []filterIn    `json:"imageTagMutabilityExclusionFilters"`
	ImageScanningConfiguration         *scanningIn   `json:"imageScanningConfiguration"`
	EncryptionConfiguration            *encryptionIn `json:"encryptionConfiguration"`
}

// createRepository creates an empty repository. Creation templates do not
// apply here: ECR applies them only to repositories it creates itself
// (on push, pull through cache, replication).
func (a *API) createRepository(ctx context.Context, req *Request, in *createRepositoryIn) (any, error) {
	reg, name := req.RegistryID, deref(in.RepositoryName)
	r := metadata.Repository{RegistryID: reg, Name: name}
	var err error
	if r.Tags, err = checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	if len(r.Tags) > maxTags {
		return nil, tooManyTags(a.repositoryARN(reg, r.Name))
	}
	mode := ""
	if in.ImageTagMutability != nil {
		mode = *in.ImageTagMutability
	}
	if r.TagMutability, r.MutabilityExclusions, err = checkMutability(mode, in.ImageTagMutabilityExclusionFilters); err != nil {
		return nil, err
	}
	if in.ImageScanningConfiguration != nil && in.ImageScanningConfiguration.ScanOnPush != nil {
		r.ScanOnPush = *in.ImageScanningConfiguration.ScanOnPush
	}
	if r.EncryptionType, r.KMSKey, err = a.checkEncryption(in.EncryptionConfiguration, reg); err != nil {
		return nil, err
	}
	if err := a.d.Store.EnsureRegistry(ctx, reg); err != nil {
		return nil, err
	}
	r, err = a.d.Store.CreateRepository(ctx, r)
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	return map[string]any{"repository": a.repositoryOut(r)}, nil
}

type describeRepositoriesIn struct {
	scopeIn
	pagingIn
	RepositoryNames []string `json:"repositoryNames"`
}

type describeRepositoriesOut struct {
	Repositories []repositoryOut `json:"repositories"`
	NextToken    string          `json:"nextToken,omitempty"`
}

func (a *API) describeRepositories(ctx context.Context, req *Request, in *describeRepositoriesIn) (any, error) {
	reg := req.RegistryID
	out := describeRepositoriesOut{Repositories: []repositoryOut{}}
	if in.RepositoryNames != nil {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, invalidParam("repositoryNames", "cannot be specified together with maxResults or nextToken")
		}
		names, err := checkNameList(in.RepositoryNames, "repositoryNames", 100)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			r, err := a.getRepo(ctx, reg, n)
			if err != nil {
				return nil, err
			}
			out.Repositories = append(out.Repositories, a.repositoryOut(r))
		}
		return out, nil
	}
	repos, next, err := listPage(a, req, reg, in.pagingIn, standardPages, func(p metadata.Page) ([]metadata.Repository, string, error) {
		return a.d.Store.ListRepositories(ctx, reg, p)
	})
	if err != nil {
		return nil, err
	}
	out.Repositories, out.NextToken = mapped(repos, a.repositoryOut), next
	return out, nil
}

// checkNameList validates a list of repository names of 1..max entries
// and returns it without repeats, in order.
func checkNameList(names []string, field string, max int) ([]string, error) {
	switch {
	case len(names) < 1:
		return nil, invalidParam(field, "must have length greater than or equal to 1")
	case len(names) > max:
		return nil, invalidParam(field, "must have length less than or equal to "+itoa(max))
	}
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		if err := validRepositoryName(n); err != nil {
			var e *Error
			if errors.As(err, &e) {
				// Same constraint, named after the list member.
				e.Message = strings.Replace(e.Message, "'repositoryName'", "'"+field+"'", 1)
			}
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

type deleteRepositoryIn struct {
	scopeIn
	Force bool `json:"force"`
}

// deleteRepository removes the repository's metadata (refused while it
// holds images unless force) and then its storage.
func (a *API) deleteRepository(ctx context.Context, req *Request, in *deleteRepositoryIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	r, _, err := a.d.Store.DeleteRepository(ctx, reg, name, in.Force)
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	if a.d.Registry != nil {
		// The repository is gone from the metadata, which is what every
		// read consults; storage left behind is only unreferenced data,
		// so a failure here is logged rather than undoing the delete.
		err := a.d.Registry.DeleteRepository(ctx, reg, name)
		if err != nil && !errors.Is(err, ecrmodel.ErrRepositoryUnknown) {
			a.d.Log.Error("ecr api: deleting repository storage", "request_id", req.RequestID,
				"registry", reg, "repository", name, "err", err)
		}
	}
	return map[string]any{"repository": a.repositoryOut(r)}, nil
}

type putImageTagMutabilityIn struct {
	scopeIn
	ImageTagMutability                 *string    `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []filterIn `json:"imageTagMutabilityExclusionFilters"`
}

type putImageTagMutabilityOut struct {
	RegistryID                         string      `json:"registryId"`
	RepositoryName                     string      `json:"repositoryName"`
	ImageTagMutability                 string      `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []filterOut `json:"imageTagMutabilityExclusionFilters,omitempty"`
}

func (a *API) putImageTagMutability(ctx context.Context, req *Request, in *putImageTagMutabilityIn) (any, error) {
	if in.ImageTagMutability == nil {
		return nil, missingParam("imageTagMutability")
	}
	mode, filters, err := checkMutability(*in.ImageTagMutability, in.ImageTagMutabilityExclusionFilters)
	if err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, req.Repository
	r, err := a.d.Store.UpdateRepository(ctx, reg, name, func(r *metadata.Repository) error {
		r.TagMutability, r.MutabilityExclusions = mode, filters
		return nil
	})
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	return putImageTagMutabilityOut{
		RegistryID:                         reg,
		RepositoryName:                     r.Name,
		ImageTagMutability:                 mutabilityOut(r.TagMutability),
		ImageTagMutabilityExclusionFilters: filtersOut(r.MutabilityExclusions),
	}, nil
}

type putImageScanningConfigurationIn struct {
	scopeIn
	ImageScanningConfiguration *scanningIn `json:"imageScanningConfiguration"`
}

type putImageScanningConfigurationOut struct {
	RegistryID                 string      `json:"registryId"`
	RepositoryName             string      `json:"repositoryName"`
	ImageScanningConfiguration scanningOut `json:"imageScanningConfiguration"`
}

func (a *API) putImageScanningConfiguration(ctx context.Context, req *Request, in *putImageScanningConfigurationIn) (any, error) {
	if in.ImageScanningConfiguration == nil {
		return nil, missingParam("imageScanningConfiguration")
	}
	scan := in.ImageScanningConfiguration.ScanOnPush != nil && *in.ImageScanningConfiguration.ScanOnPush
	reg, name := req.RegistryID, req.Repository
	r, err := a.d.Store.UpdateRepository(ctx, reg, name, func(r *metadata.Repository) error {
		r.ScanOnPush = scan
		return nil
	})
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	return putImageScanningConfigurationOut{
		RegistryID:                 reg,
		RepositoryName:             r.Name,
		ImageScanningConfiguration: scanningOut{ScanOnPush: r.ScanOnPush},
	}, nil
}

type repositoryScanningOut struct {
	RepositoryArn      string          `json:"repositoryArn"`
	RepositoryName     string          `json:"repositoryName"`
	ScanOnPush         bool            `json:"scanOnPush"`
	ScanFrequency      string          `json:"scanFrequency"`
	AppliedScanFilters []scanFilterOut `json:"appliedScanFilters"`
}

type scanningFailureOut struct {
	RepositoryName string `json:"repositoryName"`
	FailureCode    string `json:"failureCode"`
	FailureReason  string `json:"failureReason"`
}

// repositoryNamesIn is BatchGetRepositoryScanningConfiguration's input.
type repositoryNamesIn struct {
	scopeIn
	RepositoryNames []string `json:"repositoryNames"`
}

// batchGetRepositoryScanningConfiguration reports, per repository, the
// scanning that applies: the registry scanning rule its name matches
// (continuous scanning first), else its own scan-on-push flag.
func (a *API) batchGetRepositoryScanningConfiguration(ctx context.Context, req *Request, in *repositoryNamesIn) (any, error) {
	names, err := checkNameList(in.RepositoryNames, "repositoryNames", 25)
	if err != nil {
		return nil, err
	}
	reg := req.RegistryID
	cfg, err := a.registryScanning(ctx, reg)
	if err != nil {
		return nil, err
	}
	out := struct {
		ScanningConfigurations []repositoryScanningOut `json:"scanningConfigurations"`
		Failures               []scanningFailureOut    `json:"failures"`
	}{[]repositoryScanningOut{}, []scanningFailureOut{}}
	for _, n := range names {
		r, err := a.d.Store.GetRepository(ctx, reg, n)
		if metadata.Is(err, metadata.NotFound) {
			out.Failures = append(out.Failures, scanningFailureOut{
				RepositoryName: n, FailureCode: "REPOSITORY_NOT_FOUND", FailureReason: "REPOSITORY_NOT_FOUND",
			})
			continue
		}
		if err != nil {
			return nil, err
		}
		freq, filters := cfg.applied(r.Name)
		if freq == "" {
			freq = "MANUAL"
			if r.ScanOnPush {
				freq = "SCAN_ON_PUSH"
			}
		}
		out.ScanningConfigurations = append(out.ScanningConfigurations, repositoryScanningOut{
			RepositoryArn:      a.repositoryARN(reg, r.Name),
			RepositoryName:     r.Name,
			ScanOnPush:         r.ScanOnPush || freq == "SCAN_ON_PUSH",
			ScanFrequency:      freq,
			AppliedScanFilters: filters,
		})
	}
	return out, nil
}
