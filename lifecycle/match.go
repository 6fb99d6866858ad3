package lifecycle

import (
	"strings"

	"github.com/berth-registry/berth/ecrmodel"
)

// selects reports whether r's tag requirements select an image with tags.
// For both lists every entry must match at least one of the image's tags
// (entries are ANDed, tags ORed): "an image is successfully matched if all
// of the tags in the tagPatternList or tagPrefixList value are matched
// against any of the image's tags".
func (r Rule) selects(tags []string) bool {
	switch r.TagStatus {
	case Any:
		return true
	case Untagged:
		return len(tags) == 0
	}
	if len(tags) == 0 {
		return false
	}
	if r.TagPrefixList != nil {
		return all(r.TagPrefixList, tags, strings.HasPrefix)
	}
	return all(r.TagPatternList, tags, func(tag, pattern string) bool { return ecrmodel.Wildcard(pattern, tag) })
}

// all reports whether each want matches some tag.
func all(wants, tags []string, match func(tag, want string) bool) bool {
	for _, w := range wants {
		found := false
		for _, t := range tags {
			if match(t, w) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
