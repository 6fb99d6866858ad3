package metadata

import "path"

// TagImmutable reports whether tag, once set, may not be moved to another
// image in r: IMMUTABLE repositories protect every tag but those matching
// an exclusion filter; MUTABLE_WITH_EXCLUSION protects only the tags that
// match a filter.
func (r Repository) TagImmutable(tag string) bool {
	switch r.TagMutability {
	case Immutable:
		return true
	case ImmutableWithExclusion:
		return !matchesAny(r.MutabilityExclusions, tag)
	case MutableWithExclusion:
		return matchesAny(r.MutabilityExclusions, tag)
	}
	return false
}

// matchesAny matches ECR WILDCARD filters: '*' is any run of characters and
// every other character (filters are [0-9a-zA-Z._*-]) stands for itself.
func matchesAny(filters []string, tag string) bool {
	for _, f := range filters {
		if WildcardMatch(f, tag) {
			return true
		}
	}
	return false
}

// WildcardMatch matches s against an ECR wildcard pattern ('*' only).
func WildcardMatch(pattern, s string) bool {
	// path.Match treats '?', '[' and '\\' specially; ECR filters cannot
	// contain them, and '/' never occurs in tags.
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}
