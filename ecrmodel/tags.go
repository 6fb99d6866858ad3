package ecrmodel

import (
	"fmt"

	"github.com/berth-registry/berth/metadata"
)

// TagImmutable reports whether tag, once set in r, may not be moved to
// another image: IMMUTABLE repositories protect every tag but those an
// exclusion filter matches; MUTABLE_WITH_EXCLUSION protects only the tags
// a filter matches. The metadata store applies it inside the transaction
// that moves a tag (metadata.WithTagRule), so of two racing pushes exactly
// one wins.
func TagImmutable(r metadata.Repository, tag string) bool {
	switch r.TagMutability {
	case metadata.Immutable:
		return true
	case metadata.ImmutableWithExclusion:
		return !WildcardAny(r.MutabilityExclusions, tag)
	case metadata.MutableWithExclusion:
		return WildcardAny(r.MutabilityExclusions, tag)
	}
	return false
}

// TagImmutableMessage is ECR's message for a push that would move an
// immutable tag (ImageTagAlreadyExistsException on the API, TAG_INVALID on
// /v2).
func TagImmutableMessage(tag, repo string) string {
	return fmt.Sprintf("The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the tag is immutable.", tag, repo)
}
