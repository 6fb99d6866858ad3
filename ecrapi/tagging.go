package ecrapi

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/metadata"
)

// Resource tagging: TagResource, UntagResource, ListTagsForResource. The
// only taggable resource is a repository, named by its ARN.

func (a *API) registerTaggingOps() {
	// The repository comes from resourceArn.
	a.add(opTargets("TagResource", onRegistry, a.tagResourceTargets, a.tagResource))
	a.add(opTargets("UntagResource", onRegistry, a.untagResourceTargets, a.untagResource))
	a.add(opTargets("ListTagsForResource", onRegistry, a.listTagsTargets, a.listTagsForResource))
}

// Tag limits (TooManyTagsException and InvalidTagParameterException docs).
const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// tagCharsRE is AWS's tag character set: letters, digits, spaces and
// _ . : / = + - @.
var tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// tagIn is a Tag as sent (capitalised members).
type tagIn struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

func invalidTag(format string, args ...any) *Error {
	return errorf("InvalidTagParameterException", format, args...)
}

func tooManyTags(arn string) *Error {
	return errorf("TooManyTagsException", "The resource '%s' cannot have more than %d tags", arn, maxTags)
}

// checkTagKey validates a tag key as AWS does.
func checkTagKey(k string) error {
	n := utf8.RuneCountInString(k)
	switch {
	case n < 1:
		return invalidTag("Tag keys must have length greater than or equal to 1")
	case n > maxTagKeyLen:
		return invalidTag("Tag key '%s' exceeds the maximum length of %d characters", k, maxTagKeyLen)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return invalidTag("Tag key '%s' uses the reserved prefix 'aws:'", k)
	case !tagCharsRE.MatchString(k):
		return invalidTag("Tag key '%s' contains characters that are not allowed", k)
	}
	return nil
}

// checkTags validates a TagList (field names it in messages) and returns
// it as resource tags; a key given twice keeps its first position and its
// last value. The 50-tag limit is the caller's (it counts stored tags);
// past 50 distinct keys the rest is not looked at, since the call fails.
func checkTags(tags []tagIn, field string) ([]metadata.ResourceTag, error) {
	var out []metadata.ResourceTag
	for i, t := range tags {
		if len(out) > maxTags {
			break
		}
		at := field + "." + itoa(i+1) + ".member."
		if t.Key == nil {
			return nil, missingParam(at + "Key")
		}
		if t.Value == nil {
			return nil, missingParam(at + "Value")
		}
		if err := checkTagKey(*t.Key); err != nil {
			return nil, err
		}
		v := *t.Value
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return nil, invalidTag("The value of tag '%s' exceeds the maximum length of %d characters", *t.Key, maxTagValueLen)
		}
		if !tagCharsRE.MatchString(v) {
			return nil, invalidTag("The value of tag '%s' contains characters that are not allowed", *t.Key)
		}
		out = metadata.SetTags(out, []metadata.ResourceTag{{Key: *t.Key, Value: v}})
	}
	return out, nil
}

// arnRepository returns the registry and repository a repository ARN of
// this region names; anything else is InvalidParameterException.
func (a *API) arnRepository(arn *string) (reg, name string, err error) {
	if arn == nil {
		return "", "", missingParam("resourceArn")
	}
	bad := invalidParam("resourceArn", "Invalid ARN")
	parts := strings.SplitN(*arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "ecr" || parts[3] != a.d.Region {
		return "", "", bad
	}
	reg = parts[4]
	name, ok := strings.CutPrefix(parts[5], "repository/")
	if !ok || validRegistryID(reg) != nil || validRepositoryName(name) != nil {
		return "", "", bad
	}
	return reg, name, nil
}

type tagResourceIn struct {
	scopeIn
	ResourceArn *string `json:"resourceArn"`
	Tags        []tagIn `json:"tags"`
}

func (a *API) tagResource(ctx context.Context, _ *Request, in *tagResourceIn) (any, error) {
	reg, name, err := a.arnRepository(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, missingParam("tags")
	}
	add, err := checkTags(in.Tags, "tags")
	if err != nil {
		return nil, err
	}
	_, err = a.d.Store.UpdateRepository(ctx, reg, name, func(r *metadata.Repository) error {
		r.Tags = metadata.SetTags(r.Tags, add)
		if len(r.Tags) > maxTags {
			return tooManyTags(*in.ResourceArn)
		}
		return nil
	})
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	return struct{}{}, nil
}

type untagResourceIn struct {
	scopeIn
	ResourceArn *string  `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

func (a *API) untagResource(ctx context.Context, _ *Request, in *untagResourceIn) (any, error) {
	reg, name, err := a.arnRepository(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, missingParam("tagKeys")
	}
	for _, k := range in.TagKeys {
		if err := checkTagKey(k); err != nil {
			return nil, err
		}
	}
	_, err = a.d.Store.UpdateRepository(ctx, reg, name, func(r *metadata.Repository) error {
		r.Tags = metadata.RemoveTags(r.Tags, in.TagKeys)
		return nil
	})
	if err != nil {
		return nil, a.storeErr(err, reg, name)
	}
	return struct{}{}, nil
}

// resourceArnIn is ListTagsForResource's input.
type resourceArnIn struct {
	scopeIn
	ResourceArn *string `json:"resourceArn"`
}

func (a *API) listTagsForResource(ctx context.Context, _ *Request, in *resourceArnIn) (any, error) {
	reg, name, err := a.arnRepository(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	r, err := a.getRepo(ctx, reg, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": tagsOut(r.Tags)}, nil
}
