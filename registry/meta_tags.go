package registry

import (
	"context"
	"fmt"
	"io"

	"github.com/distribution/distribution/v3"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/metadata"
)

// storeTags is the TagService /v2 sees: the store's tags, nothing in
// storage.
type storeTags struct {
	repo *storeRepo
	ri   requestInfo
}

func (t *storeTags) Get(ctx context.Context, tag string) (v1.Descriptor, error) {
	if t.ri.RegistryID == "" {
		return v1.Descriptor{}, errNoGate
	}
	ref, err := t.repo.resolve(ctx, t.ri.RegistryID, tag)
	if metadata.Is(err, metadata.NotFound) {
		return v1.Descriptor{}, distribution.ErrTagUnknown{Tag: tag}
	}
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{Digest: digest.Digest(ref.Digest), MediaType: ref.MediaType, Size: ref.Size}, nil
}

// Tag confirms the tag this request's push moved (the push's transaction
// moved it already, immutability checked); any other call moves it in a
// transaction of its own.
func (t *storeTags) Tag(ctx context.Context, tag string, desc v1.Descriptor) error {
	if t.ri.RegistryID == "" {
		return errNoGate
	}
	t.repo.mu.Lock()
	done := t.repo.tagged == taggedBy{tag: tag, digest: desc.Digest}
	t.repo.mu.Unlock()
	if done {
		return nil
	}
	_, err := t.repo.meta.store.TagImage(ctx, t.ri.RegistryID, t.repo.name(), tag, desc.Digest.String())
	if metadata.Is(err, metadata.ImmutableTag) {
		return tagImmutableError(t.repo.name(), tag)
	}
	if err != nil {
		return fmt.Errorf("recording the tag: %w", err)
	}
	return nil
}

func (t *storeTags) Untag(ctx context.Context, tag string) error {
	if t.ri.RegistryID == "" {
		return errNoGate
	}
	_, err := t.repo.meta.store.Untag(ctx, t.ri.RegistryID, t.repo.name(), tag, "")
	if metadata.Is(err, metadata.NotFound) {
		return distribution.ErrTagUnknown{Tag: tag}
	}
	return err
}

func (t *storeTags) All(ctx context.Context) ([]string, error) {
	tags, err := t.List(ctx, -1, "")
	if err == io.EOF {
		err = nil
	}
	return tags, err
}

// List pages the tags after last (limit < 0: all of them), ending with
// io.EOF as distribution's handler expects. A repository without tags has
// an empty list, not NAME_UNKNOWN (distribution-spec).
func (t *storeTags) List(ctx context.Context, limit int, last string) ([]string, error) {
	if t.ri.RegistryID == "" {
		return nil, errNoGate
	}
	var out []string
	for {
		n := 1000
		if limit >= 0 {
			n = min(n, limit-len(out))
		}
		page, next, err := t.repo.meta.store.ListTags(ctx, t.ri.RegistryID, t.repo.name(), metadata.Page{Limit: n, After: last})
		if metadata.Is(err, metadata.NotFound) {
			return nil, distribution.ErrRepositoryUnknown{Name: t.repo.name()}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, io.EOF
		}
		if limit >= 0 && len(out) >= limit {
			return out, nil
		}
		last = next
	}
}

func (t *storeTags) Lookup(ctx context.Context, desc v1.Descriptor) ([]string, error) {
	if t.ri.RegistryID == "" {
		return nil, errNoGate
	}
	ref, err := t.repo.resolve(ctx, t.ri.RegistryID, desc.Digest.String())
	if metadata.Is(err, metadata.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	img, err := t.repo.meta.store.GetImage(ctx, t.ri.RegistryID, t.repo.name(), ref.Digest)
	if metadata.Is(err, metadata.NotFound) {
		return nil, nil
	}
	return img.Tags, err
}
