package lifecycle

import (
	"context"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// LastEvaluatedSetting is the registry setting under which the runner
// records when it last evaluated repo's policy (GetLifecyclePolicy's
// lastEvaluatedAt), as RFC 3339 text.
func LastEvaluatedSetting(repo string) string { return "lifecycle.lastEvaluatedAt/" + repo }

// LastEvaluated returns when repo's policy was last evaluated (zero if
// never).
func LastEvaluated(ctx context.Context, st metadata.Store, registryID, repo string) (time.Time, error) {
	v, ok, err := st.GetSetting(ctx, registryID, LastEvaluatedSetting(repo))
	if err != nil || !ok {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, nil // an unreadable stamp only loses the date
	}
	return t, nil
}

// FromMetadata converts a stored image.
func FromMetadata(m metadata.Image) Image {
	return Image{
		Digest:       m.Digest,
		Tags:         m.Tags,
		PushedAt:     m.PushedAt,
		LastPull:     m.LastPull,
		Size:         m.Size,
		ArtifactType: m.ArtifactType,
		MediaType:    m.MediaType,
		Subject:      m.Subject,
		Children:     m.Children,
	}
}

// Images lists every image of repo, a page at a time.
func Images(ctx context.Context, st metadata.Store, registryID, repo string) ([]Image, error) {
	var out []Image
	after := ""
	for {
		page, next, err := st.ListImages(ctx, registryID, repo, metadata.TagAny, metadata.Page{Limit: 1000, After: after})
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			out = append(out, FromMetadata(m))
		}
		if next == "" {
			return out, nil
		}
		after = next
	}
}
