package ecrapi

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/lifecycle"
	"github.com/berth-registry/berth/metadata"
)

// Repository creation templates: the settings ECR gives repositories it
// creates itself. berth applies CREATE_ON_PUSH templates when a push names
// a repository that does not exist (ecrmodel.CreateFromTemplate).

func (a *API) registerTemplateOps() {
	a.add(op("CreateRepositoryCreationTemplate", onOwnRegistry, a.createTemplate))
	a.add(op("DescribeRepositoryCreationTemplates", onOwnRegistry, a.describeTemplates))
	a.add(op("UpdateRepositoryCreationTemplate", onOwnRegistry, a.updateTemplate))
	a.add(op("DeleteRepositoryCreationTemplate", onOwnRegistry, a.deleteTemplate))
}

// RootPrefix is the prefix of the template for repositories no other
// template's prefix matches.
const RootPrefix = ecrmodel.RootPrefix

// Template scenarios (RCTAppliedFor).
const (
	AppliedForCreateOnPush     = ecrmodel.AppliedForCreateOnPush
	AppliedForPullThroughCache = ecrmodel.AppliedForPullThroughCache
	AppliedForReplication      = ecrmodel.AppliedForReplication
)

var (
	// templatePrefixRE is the model's Prefix pattern.
	templatePrefixRE = regexp.MustCompile(`^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*/?|ROOT)$`)
	// templateKMSKeyRE is KmsKeyForRepositoryCreationTemplate's pattern.
	templateKMSKeyRE = regexp.MustCompile(`^(|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-z0-9-]+)$`)
)

const maxLifecyclePolicyText = 30720

func templateNotFound(reg, prefix string) *Error {
	return errorf("TemplateNotFoundException",
		"Repository creation template with prefix '%s' does not exist in the registry with id '%s'", prefix, reg)
}

func templateExists(reg, prefix string) *Error {
	return errorf("TemplateAlreadyExistsException",
		"Repository creation template with prefix '%s' already exists in the registry with id '%s'", prefix, reg)
}

func checkPrefix(p *string) error {
	if p == nil {
		return missingParam("prefix")
	}
	switch n := utf8.RuneCountInString(*p); {
	case n < 1:
		return invalidParam("prefix", "must have length greater than or equal to 1")
	case n > 256:
		return invalidParam("prefix", "must have length less than or equal to 256")
	case !templatePrefixRE.MatchString(*p):
		return invalidParam("prefix", "must satisfy regular expression '^([a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(\\/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*\\/?|ROOT)$'")
	}
	return nil
}

// templateIn is the input of Create and UpdateRepositoryCreationTemplate;
// on update, absent members keep their values.
type templateIn struct {
	scopeIn
	Prefix                             *string       `json:"prefix"`
	Description                        *string       `json:"description"`
	EncryptionConfiguration            *encryptionIn `json:"encryptionConfiguration"`
	ResourceTags                       []tagIn       `json:"resourceTags"`
	ImageTagMutability                 *string       `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []filterIn    `json:"imageTagMutabilityExclusionFilters"`
	RepositoryPolicy                   *string       `json:"repositoryPolicy"`
	LifecyclePolicy                    *string       `json:"lifecyclePolicy"`
	AppliedFor                         []string      `json:"appliedFor"`
	CustomRoleArn                      *string       `json:"customRoleArn"`
}

// apply validates in and sets what it carries on t (create: t is new).
func (in *templateIn) apply(t *metadata.Template, create bool) error {
	if d := in.Description; d != nil {
		if utf8.RuneCountInString(*d) > 256 {
			return invalidParam("description", "must have length less than or equal to 256")
		}
		t.Description = *d
	}
	if e := in.EncryptionConfiguration; e != nil {
		typ, key, err := checkTemplateEncryption(e)
		if err != nil {
			return err
		}
		t.EncryptionType, t.KMSKey = typ, key
	} else if create {
		t.EncryptionType = encAES256
	}
	if in.ResourceTags != nil || create {
		tags, err := checkTags(in.ResourceTags, "resourceTags")
		var e *Error
		if errors.As(err, &e) && e.Type == "InvalidTagParameterException" {
			// Templates have no tag exceptions of their own.
			e.Type = "InvalidParameterException"
		}
		if err != nil {
			return err
		}
		if len(tags) > maxTags {
			return invalidParam("resourceTags", "must have length less than or equal to 50")
		}
		t.ResourceTags = tags
	}
	if in.ImageTagMutability != nil || in.ImageTagMutabilityExclusionFilters != nil || create {
		mode := t.TagMutability
		if in.ImageTagMutability != nil {
			mode = *in.ImageTagMutability
		}
		var err error
		if t.TagMutability, t.MutabilityExclusions, err = checkMutability(mode, in.ImageTagMutabilityExclusionFilters); err != nil {
			return err
		}
	}
	if p := in.RepositoryPolicy; p != nil {
		if utf8.RuneCountInString(*p) > maxPolicyText {
			return invalidParam("repositoryPolicy", "must have length less than or equal to 10240")
		}
		if *p != "" {
			if _, err := policy.Parse(*p, policy.Resource); err != nil {
				return invalidParam("repositoryPolicy", "Invalid repository policy provided")
			}
		}
		t.RepositoryPolicy = *p
	}
	if p := in.LifecyclePolicy; p != nil {
		if utf8.RuneCountInString(*p) > maxLifecyclePolicyText {
			return invalidParam("lifecyclePolicy", "must have length less than or equal to 30720")
		}
		if *p != "" {
			if _, err := lifecycle.Parse(*p); err != nil {
				return errorf("InvalidParameterException", "%s", err.Error())
			}
		}
		t.LifecyclePolicy = *p
	}
	if in.AppliedFor != nil || create {
		af, err := checkAppliedFor(in.AppliedFor)
		if err != nil {
			return err
		}
		t.AppliedFor = af
	}
	if r := in.CustomRoleArn; r != nil {
		if utf8.RuneCountInString(*r) > 2048 {
			return invalidParam("customRoleArn", "must have length less than or equal to 2048")
		}
		t.CustomRoleArn = *r
	}
	return nil
}

func checkTemplateEncryption(e *encryptionIn) (typ, key string, err error) {
	const field = "encryptionConfiguration"
	if e.EncryptionType == nil {
		return "", "", missingParam(field + ".encryptionType")
	}
	typ = *e.EncryptionType
	switch typ {
	case encAES256, encKMS, encKMSDSSE:
	default:
		return "", "", invalidParam(field+".encryptionType", "Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]")
	}
	if e.KmsKey != nil {
		key = *e.KmsKey
	}
	switch {
	case len(key) > 2048 || !templateKMSKeyRE.MatchString(key):
		return "", "", invalidParam(field+".kmsKey", "must satisfy regular expression '^$|arn:aws[a-z0-9-]*:kms:[a-z0-9-]+:[0-9]{12}:key\\/[a-z0-9-]+'")
	case typ == encAES256 && key != "":
		return "", "", invalidParam(field+".kmsKey", "can only be specified when encryptionType is KMS or KMS_DSSE")
	}
	return typ, key, nil
}

// checkAppliedFor validates appliedFor (required, not empty) and returns
// it without repeats.
func checkAppliedFor(af []string) ([]string, error) {
	if af == nil {
		return nil, missingParam("appliedFor")
	}
	if len(af) == 0 {
		return nil, invalidParam("appliedFor", "must have length greater than or equal to 1")
	}
	var out []string
	for _, s := range af {
		switch s {
		case AppliedForCreateOnPush, AppliedForPullThroughCache, AppliedForReplication:
		default:
			return nil, invalidParam("appliedFor", "Member must satisfy enum value set: [REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH]")
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// templateOut is a RepositoryCreationTemplate.
type templateOut struct {
	Prefix                             string         `json:"prefix"`
	Description                        string         `json:"description,omitempty"`
	EncryptionConfiguration            *encryptionOut `json:"encryptionConfiguration,omitempty"`
	ResourceTags                       []tagOut       `json:"resourceTags"`
	ImageTagMutability                 string         `json:"imageTagMutability"`
	ImageTagMutabilityExclusionFilters []filterOut    `json:"imageTagMutabilityExclusionFilters,omitempty"`
	RepositoryPolicy                   string         `json:"repositoryPolicy,omitempty"`
	LifecyclePolicy                    string         `json:"lifecyclePolicy,omitempty"`
	AppliedFor                         []string       `json:"appliedFor"`
	CustomRoleArn                      string         `json:"customRoleArn,omitempty"`
	CreatedAt                          *epoch         `json:"createdAt,omitempty"`
	UpdatedAt                          *epoch         `json:"updatedAt,omitempty"`
}

func templateOutOf(t metadata.Template) templateOut {
	enc := &encryptionOut{EncryptionType: encAES256}
	if t.EncryptionType != "" {
		enc = &encryptionOut{EncryptionType: t.EncryptionType, KmsKey: t.KMSKey}
	}
	af := t.AppliedFor
	if af == nil {
		af = []string{}
	}
	return templateOut{
		Prefix:                             t.Prefix,
		Description:                        t.Description,
		EncryptionConfiguration:            enc,
		ResourceTags:                       tagsOut(t.ResourceTags),
		ImageTagMutability:                 mutabilityOut(t.TagMutability),
		ImageTagMutabilityExclusionFilters: filtersOut(t.MutabilityExclusions),
		RepositoryPolicy:                   t.RepositoryPolicy,
		LifecyclePolicy:                    t.LifecyclePolicy,
		AppliedFor:                         af,
		CustomRoleArn:                      t.CustomRoleArn,
		CreatedAt:                          ts(t.CreatedAt),
		UpdatedAt:                          ts(t.UpdatedAt),
	}
}

type templateResultOut struct {
	RegistryID                 string      `json:"registryId"`
	RepositoryCreationTemplate templateOut `json:"repositoryCreationTemplate"`
}

// templateErr maps the store's template errors.
func templateErr(err error, reg, prefix string) error {
	switch {
	case metadata.Is(err, metadata.NotFound):
		return templateNotFound(reg, prefix)
	case metadata.Is(err, metadata.AlreadyExists):
		return templateExists(reg, prefix)
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return err
}

func (a *API) createTemplate(ctx context.Context, req *Request, in *templateIn) (any, error) {
	if err := checkPrefix(in.Prefix); err != nil {
		return nil, err
	}
	reg := req.RegistryID
	now := a.d.Now().UTC()
	t := metadata.Template{RegistryID: reg, Prefix: *in.Prefix, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(&t, true); err != nil {
		return nil, err
	}
	if err := a.d.Store.EnsureRegistry(ctx, reg); err != nil {
		return nil, err
	}
	t, err := a.d.Store.CreateTemplate(ctx, t)
	if err != nil {
		return nil, templateErr(err, reg, *in.Prefix)
	}
	return templateResultOut{RegistryID: reg, RepositoryCreationTemplate: templateOutOf(t)}, nil
}

func (a *API) updateTemplate(ctx context.Context, req *Request, in *templateIn) (any, error) {
	if err := checkPrefix(in.Prefix); err != nil {
		return nil, err
	}
	reg := req.RegistryID
	t, err := a.d.Store.UpdateTemplate(ctx, reg, *in.Prefix, func(t *metadata.Template) error {
		if err := in.apply(t, false); err != nil {
			return err
		}
		t.UpdatedAt = a.d.Now().UTC()
		return nil
	})
	if err != nil {
		return nil, templateErr(err, reg, *in.Prefix)
	}
	return templateResultOut{RegistryID: reg, RepositoryCreationTemplate: templateOutOf(t)}, nil
}

// prefixIn is DeleteRepositoryCreationTemplate's input.
type prefixIn struct {
	scopeIn
	Prefix *string `json:"prefix"`
}

func (a *API) deleteTemplate(ctx context.Context, req *Request, in *prefixIn) (any, error) {
	if err := checkPrefix(in.Prefix); err != nil {
		return nil, err
	}
	reg := req.RegistryID
	t, err := a.d.Store.DeleteTemplate(ctx, reg, *in.Prefix)
	if err != nil {
		return nil, templateErr(err, reg, *in.Prefix)
	}
	return templateResultOut{RegistryID: reg, RepositoryCreationTemplate: templateOutOf(t)}, nil
}

type describeTemplatesOut struct {
	RegistryID                  string        `json:"registryId"`
	RepositoryCreationTemplates []templateOut `json:"repositoryCreationTemplates"`
	NextToken                   string        `json:"nextToken,omitempty"`
}

type describeTemplatesIn struct {
	scopeIn
	pagingIn
	Prefixes []string `json:"prefixes"`
}

// describeTemplates lists the templates named by prefixes (those that
// exist), else all of them a page at a time.
func (a *API) describeTemplates(ctx context.Context, req *Request, in *describeTemplatesIn) (any, error) {
	reg := req.RegistryID
	out := describeTemplatesOut{RegistryID: reg, RepositoryCreationTemplates: []templateOut{}}
	if in.Prefixes != nil {
		if n := len(in.Prefixes); n < 1 || n > 100 {
			return nil, invalidParam("prefixes", "must have length between 1 and 100")
		}
		seen := map[string]bool{}
		for _, p := range in.Prefixes {
			if err := checkPrefix(&p); err != nil {
				return nil, err
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			t, err := a.d.Store.GetTemplate(ctx, reg, p)
			if metadata.Is(err, metadata.NotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out.RepositoryCreationTemplates = append(out.RepositoryCreationTemplates, templateOutOf(t))
		}
		return out, nil
	}
	list, next, err := listPage(a, req, reg, in.pagingIn, standardPages, func(p metadata.Page) ([]metadata.Template, string, error) {
		return a.d.Store.ListTemplates(ctx, reg, p)
	})
	if err != nil {
		return nil, err
	}
	out.RepositoryCreationTemplates, out.NextToken = mapped(list, templateOutOf), next
	return out, nil
}
