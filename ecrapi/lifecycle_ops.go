package ecrapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/berth-registry/berth/lifecycle"
	"github.com/berth-registry/berth/metadata"
)

// Lifecycle policies: Put/Get/DeleteLifecyclePolicy store the policy text
// (validated by lifecycle.Parse); StartLifecyclePolicyPreview evaluates a
// policy against the repository at once and stores the result COMPLETE,
// which GetLifecyclePolicyPreview pages through. lifecycle.Runner applies
// stored policies.

// LifecyclePolicyText bounds (service-2.json).
const (
	lifecycleTextMin = 100
	lifecycleTextMax = 30720
)

// previewPages is GetLifecyclePolicyPreview's page size.
var previewPages = pageSize{def: 100, max: 100}

// previewComplete is the status of every stored preview: berth evaluates
// a preview when it starts (LifecyclePolicyPreviewStatus).
const previewComplete = "COMPLETE"

func (a *API) registerLifecycleOps() {
	a.add(op("PutLifecyclePolicy", onRepository, a.putLifecyclePolicy))
	a.add(op("GetLifecyclePolicy", onRepository, a.getLifecyclePolicy))
	a.add(op("DeleteLifecyclePolicy", onRepository, a.deleteLifecyclePolicy))
	a.add(op("StartLifecyclePolicyPreview", onRepository, a.startLifecyclePolicyPreview))
	a.add(op("GetLifecyclePolicyPreview", onRepository, a.getLifecyclePolicyPreview))
}

type lifecyclePolicyInput struct {
	scopeIn
	LifecyclePolicyText *string `json:"lifecyclePolicyText"`
}

type lifecyclePolicyOutput struct {
	RegistryID          string `json:"registryId"`
	RepositoryName      string `json:"repositoryName"`
	LifecyclePolicyText string `json:"lifecyclePolicyText"`
	LastEvaluatedAt     *epoch `json:"lastEvaluatedAt,omitempty"`
	Status              string `json:"status,omitempty"`
}

func (a *API) putLifecyclePolicy(ctx context.Context, req *Request, in *lifecyclePolicyInput) (any, error) {
	if in.LifecyclePolicyText == nil {
		return nil, missingParam("lifecyclePolicyText")
	}
	if _, err := lifecycleParse(*in.LifecyclePolicyText); err != nil {
		return nil, err
	}
	if err := a.lifecycleRepository(ctx, req.RegistryID, req.Repository); err != nil {
		return nil, err
	}
	if _, err := a.d.Store.PutPolicy(ctx, metadata.PolicyLifecycle, req.RegistryID, req.Repository, *in.LifecyclePolicyText); err != nil {
		return nil, a.lifecycleStoreErr(err, req.RegistryID, req.Repository)
	}
	return lifecyclePolicyOutput{RegistryID: req.RegistryID, RepositoryName: req.Repository, LifecyclePolicyText: *in.LifecyclePolicyText}, nil
}

func (a *API) getLifecyclePolicy(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	return a.readLifecyclePolicy(ctx, req, a.d.Store.GetPolicy)
}

func (a *API) deleteLifecyclePolicy(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	return a.readLifecyclePolicy(ctx, req, a.d.Store.DeletePolicy)
}

// readLifecyclePolicy answers Get and Delete, which differ only in the
// store call.
func (a *API) readLifecyclePolicy(ctx context.Context, req *Request,
	read func(context.Context, metadata.PolicyKind, string, string) (metadata.Policy, error)) (any, error) {
	if err := a.lifecycleRepository(ctx, req.RegistryID, req.Repository); err != nil {
		return nil, err
	}
	p, err := read(ctx, metadata.PolicyLifecycle, req.RegistryID, req.Repository)
	if err != nil {
		return nil, a.lifecycleStoreErr(err, req.RegistryID, req.Repository)
	}
	last, err := lifecycle.LastEvaluated(ctx, a.d.Store, req.RegistryID, req.Repository)
	if err != nil {
		return nil, err
	}
	if last.IsZero() {
		last = time.Unix(0, 0) // ECR answers the epoch for a policy never run
	}
	e := epoch(last)
	return lifecyclePolicyOutput{RegistryID: req.RegistryID, RepositoryName: req.Repository, LifecyclePolicyText: p.Text, LastEvaluatedAt: &e}, nil
}

// lifecyclePreviewResult is one LifecyclePolicyPreviewResult; stored
// previews hold a JSON list of them.
type lifecyclePreviewResult struct {
	ImageTags           []string              `json:"imageTags,omitempty"`
	ImageDigest         string                `json:"imageDigest"`
	ImagePushedAt       *epoch                `json:"imagePushedAt,omitempty"`
	Action              lifecycleActionOutput `json:"action"`
	AppliedRulePriority int                   `json:"appliedRulePriority"`
	StorageClass        string                `json:"storageClass,omitempty"`
}

type lifecycleActionOutput struct {
	Type               string `json:"type"`
	TargetStorageClass string `json:"targetStorageClass,omitempty"`
}

func (a *API) startLifecyclePolicyPreview(ctx context.Context, req *Request, in *lifecyclePolicyInput) (any, error) {
	var (
		text string
		pol  *lifecycle.Policy
		err  error
	)
	if in.LifecyclePolicyText != nil {
		text = *in.LifecyclePolicyText
		if pol, err = lifecycleParse(text); err != nil {
			return nil, err
		}
	}
	if err := a.lifecycleRepository(ctx, req.RegistryID, req.Repository); err != nil {
		return nil, err
	}
	if pol == nil {
		p, err := a.d.Store.GetPolicy(ctx, metadata.PolicyLifecycle, req.RegistryID, req.Repository)
		if err != nil {
			return nil, a.lifecycleStoreErr(err, req.RegistryID, req.Repository)
		}
		text = p.Text
		if pol, err = lifecycleParse(text); err != nil {
			return nil, err
		}
	}
	imgs, err := lifecycle.Images(ctx, a.d.Store, req.RegistryID, req.Repository)
	if err != nil {
		return nil, a.lifecycleStoreErr(err, req.RegistryID, req.Repository)
	}
	// Evaluated here and now: a preview is one read of the repository,
	// so it is COMPLETE as soon as it is stored.
	now := a.d.Now()
	results := []lifecyclePreviewResult{}
	for _, r := range lifecycle.Evaluate(pol, imgs, now) {
		if r.Subject != "" {
			continue // referrers follow their subject later, unlisted
		}
		results = append(results, lifecyclePreviewResult{
			ImageTags:           r.Tags,
			ImageDigest:         r.Digest,
			ImagePushedAt:       ts(r.PushedAt),
			Action:              lifecycleActionOutput{Type: r.Action, TargetStorageClass: r.TargetStorageClass},
			AppliedRulePriority: r.RulePriority,
			StorageClass:        "STANDARD",
		})
	}
	body, err := json.Marshal(results)
	if err != nil {
		return nil, err
	}
	pv := metadata.LifecyclePreview{RegistryID: req.RegistryID, Repository: req.Repository,
		PolicyText: text, Status: previewComplete, StartedAt: now, Results: string(body)}
	if err := a.d.Store.PutLifecyclePreview(ctx, pv); err != nil {
		return nil, a.lifecycleStoreErr(err, req.RegistryID, req.Repository)
	}
	return lifecyclePolicyOutput{RegistryID: req.RegistryID, RepositoryName: req.Repository, LifecyclePolicyText: text, Status: previewComplete}, nil
}

type lifecyclePreviewInput struct {
	scopeIn
	pagingIn
	ImageIDs *[]struct {
		ImageDigest *string `json:"imageDigest"`
		ImageTag    *string `json:"imageTag"`
	} `json:"imageIds"`
	Filter *struct {
		TagStatus *string `json:"tagStatus"`
	} `json:"filter"`
}

type lifecyclePreviewOutput struct {
	RegistryID          string                   `json:"registryId"`
	RepositoryName      string                   `json:"repositoryName"`
	LifecyclePolicyText string                   `json:"lifecyclePolicyText"`
	Status              string                   `json:"status"`
	NextToken           string                   `json:"nextToken,omitempty"`
	PreviewResults      []lifecyclePreviewResult `json:"previewResults"`
	Summary             lifecyclePreviewSummary  `json:"summary"`
}

type lifecyclePreviewSummary struct {
	ExpiringImageTotalCount       int                      `json:"expiringImageTotalCount"`
	TransitioningImageTotalCounts []lifecycleTransitionSum `json:"transitioningImageTotalCounts,omitempty"`
}

type lifecycleTransitionSum struct {
	TargetStorageClass string `json:"targetStorageClass"`
	ImageTotalCount    int    `json:"imageTotalCount"`
}

func (a *API) getLifecyclePolicyPreview(ctx context.Context, req *Request, in *lifecyclePreviewInput) (any, error) {
	status := string(metadata.TagAny)
	if in.Filter != nil && in.Filter.TagStatus != nil {
		status = *in.Filter.TagStatus
		switch metadata.TagStatus(status) {
		case metadata.TagAny, metadata.TagTagged, metadata.TagUntagged:
		default:
			return nil, invalidParam("filter.tagStatus", "must satisfy enum value set: [TAGGED, UNTAGGED, ANY]")
		}
	}
	if in.ImageIDs != nil {
		switch n := len(*in.ImageIDs); {
		case n < 1:
			return nil, invalidParam("imageIds", "must have length greater than or equal to 1")
		case n > 100:
			return nil, invalidParam("imageIds", "must have length less than or equal to 100")
		case in.MaxResults != nil || in.NextToken != nil:
			return nil, errorf("InvalidParameterException", "Invalid parameter: maxResults and nextToken cannot be used with imageIds")
		}
	}
	if err := a.lifecycleRepository(ctx, req.RegistryID, req.Repository); err != nil {
		return nil, err
	}
	pv, err := a.d.Store.GetLifecyclePreview(ctx, req.RegistryID, req.Repository)
	if err != nil {
		return nil, a.lifecycleStoreErr(err, req.RegistryID, req.Repository)
	}
	// Tokens (offsets) are bound to this preview's content: one from a
	// different preview is refused.
	sum := sha256.Sum256([]byte(strconv.FormatInt(pv.StartedAt.UnixMicro(), 10) + "\x00" + pv.PolicyText + "\x00" + pv.Results))
	scope := req.RegistryID + "/" + req.Repository + "@" + hex.EncodeToString(sum[:16])
	out := lifecyclePreviewOutput{RegistryID: req.RegistryID, RepositoryName: req.Repository,
		LifecyclePolicyText: pv.PolicyText, Status: pv.Status}
	var all []lifecyclePreviewResult
	if pv.Status == previewComplete {
		if err := json.Unmarshal([]byte(pv.Results), &all); err != nil {
			return nil, fmt.Errorf("stored lifecycle preview of %s: %w", req.Repository, err)
		}
	}
	archived := 0
	var selected []lifecyclePreviewResult
	for _, r := range all {
		if r.Action.Type == lifecycle.Expire {
			out.Summary.ExpiringImageTotalCount++
		} else {
			archived++
		}
		if lifecyclePreviewSelected(r, status, in.ImageIDs) {
			selected = append(selected, r)
		}
	}
	if archived > 0 {
		out.Summary.TransitioningImageTotalCounts = []lifecycleTransitionSum{{TargetStorageClass: "ARCHIVE", ImageTotalCount: archived}}
	}
	// The results are the stored preview's: a cursor is an offset into the
	// selected ones, and imageIds select a single page.
	page, next, err := listPage(a, req, scope, in.pagingIn, previewPages, func(p metadata.Page) ([]lifecyclePreviewResult, string, error) {
		start := 0
		if p.After != "" {
			var err error
			if start, err = strconv.Atoi(p.After); err != nil || start < 0 || start > len(selected) {
				return nil, "", invalidParam("nextToken", "Invalid pagination token")
			}
		}
		if in.ImageIDs != nil {
			p.Limit = len(selected)
		}
		end := min(start+p.Limit, len(selected))
		if end == len(selected) {
			return selected[start:end], "", nil
		}
		return selected[start:end], strconv.Itoa(end), nil
	})
	if err != nil {
		return nil, err
	}
	out.PreviewResults, out.NextToken = append([]lifecyclePreviewResult{}, page...), next
	return out, nil
}

// lifecyclePreviewSelected applies GetLifecyclePolicyPreview's filter
// and imageIds to one result.
func lifecyclePreviewSelected(r lifecyclePreviewResult, status string, ids *[]struct {
	ImageDigest *string `json:"imageDigest"`
	ImageTag    *string `json:"imageTag"`
}) bool {
	switch metadata.TagStatus(status) {
	case metadata.TagTagged:
		if len(r.ImageTags) == 0 {
			return false
		}
	case metadata.TagUntagged:
		if len(r.ImageTags) > 0 {
			return false
		}
	}
	if ids == nil {
		return true
	}
	for _, id := range *ids {
		if id.ImageDigest != nil && *id.ImageDigest == r.ImageDigest {
			return true
		}
		if id.ImageTag != nil {
			for _, t := range r.ImageTags {
				if t == *id.ImageTag {
					return true
				}
			}
		}
	}
	return false
}

// lifecycleParse checks the text's length bounds (the model's) and then
// the policy itself (ECR's validator).
func lifecycleParse(text string) (*lifecycle.Policy, error) {
	switch n := utf8.RuneCountInString(text); {
	case n < lifecycleTextMin:
		return nil, invalidParam("lifecyclePolicyText", "must have length greater than or equal to "+itoa(lifecycleTextMin))
	case n > lifecycleTextMax:
		return nil, invalidParam("lifecyclePolicyText", "must have length less than or equal to "+itoa(lifecycleTextMax))
	}
	p, err := lifecycle.Parse(text)
	var le *lifecycle.Error
	if errors.As(err, &le) {
		return nil, &Error{Type: "InvalidParameterException", Message: le.Error()}
	}
	return p, err
}

// lifecycleRepository checks the repository exists.
func (a *API) lifecycleRepository(ctx context.Context, registryID, name string) error {
	_, err := a.d.Store.GetRepository(ctx, registryID, name)
	return a.lifecycleStoreErr(err, registryID, name)
}

// lifecycleStoreErr maps the store's NotFound to the exception for the
// entity that is missing.
func (a *API) lifecycleStoreErr(err error, registryID, repo string) error {
	var me *metadata.Error
	if err == nil || !errors.As(err, &me) || me.Kind != metadata.NotFound {
		return err
	}
	// The entity names are metadata's (see its getPolicy and
	// GetLifecyclePreview).
	switch me.Entity {
	case "repository":
		return a.repoNotFound(registryID, repo)
	case "policy":
		return errorf("LifecyclePolicyNotFoundException",
			"Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", repo, registryID)
	case "lifecycle preview":
		return errorf("LifecyclePolicyPreviewNotFoundException",
			"Lifecycle policy preview does not exist for the repository with name '%s' in the registry with id '%s'", repo, registryID)
	}
	return err
}
