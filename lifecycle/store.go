package lifecycle

import (
	"context"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// LastEvaluated returns when repo's policy was last evaluated (zero if
// never): GetLifecyclePolicy's lastEvaluatedAt.
func LastEvaluated(ctx context.Context, st interface {
	LifecycleLastEvaluated(ctx context.Context, registryID, repo string) (time.Time, error)
}, registryID, repo string) (time.Time, error) {
	return st.LifecycleLastEvaluated(ctx, registryID, repo)
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

// imageLister is what Images needs of the store.
type imageLister interface {
	ListImages(ctx context.Context, registryID, repo string, status metadata.TagStatus, p metadata.Page) ([]metadata.Image, string, error)
}

// Images lists every image of repo, a page at a time.
func Images(ctx context.Context, st imageLister, registryID, repo string) ([]Image, error) {
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
