package ecrapi

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/metadata"
)

// ListImageReferrers: the OCI referrers of a subject, from the metadata store.

type listImageReferrersIn struct {
	RepositoryName string `json:"repositoryName"`
	SubjectID      *struct {
		ImageDigest *string `json:"imageDigest"`
	} `json:"subjectId"`
	Filter *struct {
		ArtifactTypes  []string `json:"artifactTypes"`
		ArtifactStatus *string  `json:"artifactStatus"`
	} `json:"filter"`
	NextToken  *string `json:"nextToken"`
	MaxResults *int    `json:"maxResults"`
}

// imgReferrer is ECR's ImageReferrer.
type imgReferrer struct {
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

type listImageReferrersOut struct {
	Referrers []imgReferrer `json:"referrers"`
	NextToken string        `json:"nextToken,omitempty"`
}

const (
	defaultReferrerPage = 20
	maxReferrerPage     = 50
	// referrerScans bounds the store pages one call reads when several
	// artifact types are filtered in process; a short page with a token
	// is a valid answer.
	referrerScans = 10
)

func (a *API) listImageReferrers(ctx context.Context, req *Request) (any, error) {
	var in listImageReferrersIn
	if err := req.Decode(&in); err != nil {
		return nil, err
	}
	reg, name := req.RegistryID, in.RepositoryName
	if in.SubjectID == nil {
		return nil, missingParam("subjectId")
	}
	if in.SubjectID.ImageDigest == nil {
		return nil, missingParam("subjectId.imageDigest")
	}
	subject := *in.SubjectID.ImageDigest
	if !imageDigestRE.MatchString(subject) {
		return nil, invalidParam("subjectId.imageDigest", "must satisfy regular expression '"+imageDigestPattern+"'")
	}
	var types []string
	none := false
	if f := in.Filter; f != nil {
		if len(f.ArtifactTypes) > 5 {
			return nil, invalidParam("filter.artifactTypes", "Member must have length less than or equal to 5")
		}
		for _, t := range f.ArtifactTypes {
			if n := utf8.RuneCountInString(t); n < 1 || n > 255 {
				return nil, invalidParam("filter.artifactTypes", "Member must have length between 1 and 255")
			}
		}
		types = slices.Compact(slices.Sorted(slices.Values(f.ArtifactTypes)))
		if f.ArtifactStatus != nil {
			switch *f.ArtifactStatus {
			case "ACTIVE", "ANY":
			case "ARCHIVED", "ACTIVATING":
				none = true
			default:
				return nil, invalidParam("filter.artifactStatus", "Member must satisfy enum value set: [ACTIVE, ARCHIVED, ACTIVATING, ANY]")
			}
		}
	}
	scope := reg + "/" + name + "/" + subject + "/" + strings.Join(types, "\n")
	limit, after, err := a.pageParams("ListImageReferrers", scope, in.MaxResults, in.NextToken, maxReferrerPage)
	if err != nil {
		return nil, err
	}
	if in.MaxResults == nil {
		limit = defaultReferrerPage
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	out := listImageReferrersOut{Referrers: []imgReferrer{}}
	if none {
		return out, nil
	}
	one := ""
	if len(types) == 1 {
		one = types[0]
	}
	next := after
	for scans := 0; scans < referrerScans && len(out.Referrers) < limit; scans++ {
		// Asking for exactly what is still missing keeps every match of a
		// page in the answer, so the store's cursor resumes after it.
		imgs, cursor, err := a.d.Store.Referrers(ctx, reg, name, subject, one, metadata.Page{Limit: limit - len(out.Referrers), After: next})
		if err != nil {
			return nil, a.storeErr(err, reg, name)
		}
		for _, img := range imgs {
			if len(types) > 1 && !slices.Contains(types, img.ArtifactType) {
				continue
			}
			out.Referrers = append(out.Referrers, imgReferrer{
				Digest: img.Digest, MediaType: img.MediaType, ArtifactType: img.ArtifactType,
				Size: img.ManifestSize, Annotations: img.Annotations, ArtifactStatus: "ACTIVE",
			})
		}
		next = cursor
		if next == "" {
			break
		}
	}
	out.NextToken = a.encodeToken("ListImageReferrers", scope, next)
	return out, nil
}
