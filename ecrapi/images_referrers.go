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
	scopeIn
	pagingIn
	SubjectID *struct {
		ImageDigest *string `json:"imageDigest"`
	} `json:"subjectId"`
	Filter *struct {
		ArtifactTypes  []string `json:"artifactTypes"`
		ArtifactStatus *string  `json:"artifactStatus"`
	} `json:"filter"`
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

// referrerPages is ListImageReferrers' page size.
var referrerPages = pageSize{def: 20, max: 50}

const (
	// referrerScans bounds the store pages one call reads when several
	// artifact types are filtered in process; a short page with a token
	// is a valid answer.
	referrerScans = 10
)

func (a *API) listImageReferrers(ctx context.Context, req *Request, in *listImageReferrersIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
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
	refs, next, err := listPage(a, req, scope, in.pagingIn, referrerPages, func(p metadata.Page) ([]imgReferrer, string, error) {
		if _, err := a.getRepo(ctx, reg, name); err != nil || none {
			return nil, "", err
		}
		return a.referrers(ctx, reg, name, subject, types, p)
	})
	if err != nil {
		return nil, err
	}
	return listImageReferrersOut{Referrers: append([]imgReferrer{}, refs...), NextToken: next}, nil
}

// referrers reads a page of subject's referrers of the given artifact
// types (any when none). The store filters one type itself; several are
// filtered here, over at most referrerScans store pages.
func (a *API) referrers(ctx context.Context, reg, name, subject string, types []string, p metadata.Page) ([]imgReferrer, string, error) {
	one := ""
	if len(types) == 1 {
		one = types[0]
	}
	var out []imgReferrer
	next := p.After
	for scans := 0; scans < referrerScans && len(out) < p.Limit; scans++ {
		// Asking for exactly what is still missing keeps every match of a
		// page in the answer, so the store's cursor resumes after it.
		imgs, cursor, err := a.d.Store.Referrers(ctx, reg, name, subject, one, metadata.Page{Limit: p.Limit - len(out), After: next})
		if err != nil {
			return nil, "", a.storeErr(err, reg, name)
		}
		for _, img := range imgs {
			if len(types) > 1 && !slices.Contains(types, img.ArtifactType) {
				continue
			}
			out = append(out, imgReferrer{
				Digest: img.Digest, MediaType: img.MediaType, ArtifactType: img.ArtifactType,
				Size: img.ManifestSize, Annotations: img.Annotations, ArtifactStatus: "ACTIVE",
			})
		}
		next = cursor
		if next == "" {
			break
		}
	}
	return out, next, nil
}
