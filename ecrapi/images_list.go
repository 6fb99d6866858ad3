package ecrapi

import (
	"context"
	"strings"

	"github.com/berth-registry/berth/metadata"
)

// ListImages and DescribeImages: indexed, paginated listings from the metadata store.

// imgFilter is ListImagesFilter / DescribeImagesFilter.
type imgFilter struct {
	TagStatus   *string `json:"tagStatus"`
	ImageStatus *string `json:"imageStatus"`
}

// status validates the filter. none reports an image status no image has
// (berth archives nothing): the listing is empty.
func (f *imgFilter) status() (st metadata.TagStatus, none bool, err error) {
	st = metadata.TagAny
	if f == nil {
		return st, false, nil
	}
	if f.TagStatus != nil {
		switch s := metadata.TagStatus(*f.TagStatus); s {
		case metadata.TagAny, metadata.TagTagged, metadata.TagUntagged:
			st = s
		default:
			return "", false, invalidParam("filter.tagStatus", "Member must satisfy enum value set: [TAGGED, UNTAGGED, ANY]")
		}
	}
	if f.ImageStatus != nil {
		switch *f.ImageStatus {
		case "ACTIVE", "ANY":
		case "ARCHIVED", "ACTIVATING":
			none = true
		default:
			return "", false, invalidParam("filter.imageStatus", "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]")
		}
	}
	return st, none, nil
}

type listImagesIn struct {
	scopeIn
	pagingIn
	Filter *imgFilter `json:"filter"`
}

type listImagesOut struct {
	ImageIDs  []imgID `json:"imageIds"`
	NextToken string  `json:"nextToken,omitempty"`
}

func (a *API) listImages(ctx context.Context, req *Request, in *listImagesIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	st, none, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	scope := reg + "/" + name + "/" + string(st)
	ids, next, err := listPage(a, req, scope, in.pagingIn, standardPages, func(p metadata.Page) ([]metadata.ImageID, string, error) {
		// A status no image has (none) lists nothing, from a repository
		// that exists.
		if _, err := a.getRepo(ctx, reg, name); err != nil || none {
			return nil, "", err
		}
		ids, next, err := a.d.Store.ListImageIDs(ctx, reg, name, st, p)
		return ids, next, a.storeErr(err, reg, name)
	})
	if err != nil {
		return nil, err
	}
	return listImagesOut{ImageIDs: mapped(ids, imageIDOut), NextToken: next}, nil
}

func imageIDOut(id metadata.ImageID) imgID { return newImgID(id.Digest, id.Tag) }

type describeImagesIn struct {
	scopeIn
	pagingIn
	ImageIDs []imgID    `json:"imageIds"`
	Filter   *imgFilter `json:"filter"`
}

// imgDetail is ECR's ImageDetail (scan fields omitted: berth does not scan).
type imgDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          *epoch   `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
	LastRecordedPullTime   *epoch   `json:"lastRecordedPullTime,omitempty"`
	SubjectManifestDigest  string   `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string   `json:"imageStatus"`
}

func imageDetail(img metadata.Image) imgDetail {
	return imgDetail{
		RegistryID: img.RegistryID, RepositoryName: img.Repository, ImageDigest: img.Digest,
		ImageTags: img.Tags, ImageSizeInBytes: img.Size, ImagePushedAt: ts(img.PushedAt),
		ImageManifestMediaType: img.MediaType, ArtifactMediaType: img.ArtifactType,
		LastRecordedPullTime: ts(img.LastPull), SubjectManifestDigest: img.Subject, ImageStatus: "ACTIVE",
	}
}

type describeImagesOut struct {
	ImageDetails []imgDetail `json:"imageDetails"`
	NextToken    string      `json:"nextToken,omitempty"`
}

func (a *API) describeImages(ctx context.Context, req *Request, in *describeImagesIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	st, none, err := in.Filter.status()
	if err != nil {
		return nil, err
	}
	if in.ImageIDs != nil {
		if in.MaxResults != nil || in.NextToken != nil {
			return nil, errorf("InvalidParameterException",
				"Invalid parameter at 'imageIds' failed to satisfy constraint: 'cannot be combined with maxResults or nextToken'")
		}
		if err := checkImageIDs(in.ImageIDs, true); err != nil {
			return nil, err
		}
		if _, err := a.getRepo(ctx, reg, name); err != nil {
			return nil, err
		}
		return a.describeListed(ctx, reg, name, in.ImageIDs)
	}
	scope := reg + "/" + name + "/" + string(st)
	imgs, next, err := listPage(a, req, scope, in.pagingIn, standardPages, func(p metadata.Page) ([]metadata.Image, string, error) {
		if _, err := a.getRepo(ctx, reg, name); err != nil || none {
			return nil, "", err
		}
		imgs, next, err := a.d.Store.ListImages(ctx, reg, name, st, p)
		return imgs, next, a.storeErr(err, reg, name)
	})
	if err != nil {
		return nil, err
	}
	return describeImagesOut{ImageDetails: mapped(imgs, imageDetail), NextToken: next}, nil
}

// describeListed describes the images ids name, each once; one missing id
// fails the call.
func (a *API) describeListed(ctx context.Context, reg, name string, ids []imgID) (any, error) {
	out := describeImagesOut{ImageDetails: []imgDetail{}}
	seen := map[string]bool{}
	for _, id := range ids {
		if f := idProblem(id); f != nil {
			return nil, errorf("InvalidParameterException", "Invalid parameter at 'imageIds' failed to satisfy constraint: '%s'",
				strings.TrimPrefix(f.FailureReason, "Invalid request parameters: "))
		}
		img, ok, err := a.lookupImage(ctx, reg, name, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, imageNotFoundErr(id, reg, name)
		}
		if !seen[img.Digest] {
			seen[img.Digest] = true
			out.ImageDetails = append(out.ImageDetails, imageDetail(img))
		}
	}
	return out, nil
}

// lookupImage finds the image id names in the store (both digest and tag:
// the tag must name that digest).
func (a *API) lookupImage(ctx context.Context, reg, repo string, id imgID) (metadata.Image, bool, error) {
	d, t := id.digest(), id.tag()
	if t != "" {
		td, err := a.d.Store.ResolveTag(ctx, reg, repo, t)
		if metadata.Is(err, metadata.NotFound) {
			return metadata.Image{}, false, nil
		}
		if err != nil {
			return metadata.Image{}, false, err
		}
		if d != "" && d != td {
			return metadata.Image{}, false, nil
		}
		d = td
	}
	img, err := a.d.Store.GetImage(ctx, reg, repo, d)
	if metadata.Is(err, metadata.NotFound) {
		return metadata.Image{}, false, nil
	}
	return img, err == nil, err
}
