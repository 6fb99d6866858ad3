package iam

import (
	"context"
	"slices"
	"strings"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/metadata"
)

// AWS's messages for session tags that break the rules of role chaining.
const (
	msgDuplicateTag   = "Duplicate tag keys found. Please note that Tag keys are case insensitive."
	msgTransitiveKey  = "The specified transitive tag key must be included in the requested tags."
	msgInheritedClash = "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session."
)

// sessionTags is what a new session's tags are made of: the tags the
// request passes and the transitive tags the calling session hands on.
type sessionTags struct {
	// request are the tags AssumeRole passes (aws:RequestTag/…).
	request []metadata.ResourceTag
	// tags are all of the new session's tags (request and inherited),
	// transitive the keys its own chained sessions inherit.
	tags       []metadata.ResourceTag
	transitive []string
}

// chainTags checks AssumeRole's Tags and TransitiveTagKeys against each
// other and against the calling session's transitive tags, and returns
// the new session's tags. Tag keys compare without case, as in AWS: a
// request may not name one key twice, and may not set a key the caller's
// session passes on (transitive tags cannot be overridden down a chain).
func (r *Roles) chainTags(ctx context.Context, op string, caller auth.Principal, in AssumeRoleInput) (sessionTags, error) {
	st, err := requestTags(op, in.Tags, in.TransitiveTagKeys)
	if err != nil {
		return st, err
	}
	inherited, keys, err := r.inheritedTags(ctx, caller)
	if err != nil {
		return st, err
	}
	for _, t := range inherited {
		if slices.ContainsFunc(st.request, func(rt metadata.ResourceTag) bool { return strings.EqualFold(rt.Key, t.Key) }) {
			return st, errorf(op, InvalidParameter, "%s", msgInheritedClash)
		}
		st.tags = append(st.tags, t)
	}
	st.transitive = append(st.transitive, keys...)
	return st, nil
}

// requestTags checks a request's tags and transitive keys against each
// other: keys unique without case, transitive keys among them.
func requestTags(op string, tags []SessionTag, transitive []string) (sessionTags, error) {
	var st sessionTags
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return st, errorf(op, Invalid, "%s", msgDuplicateTag)
		}
		seen[k] = true
		st.request = append(st.request, metadata.ResourceTag{Key: t.Key, Value: t.Value})
	}
	for _, k := range transitive {
		if !seen[strings.ToLower(k)] {
			return st, errorf(op, InvalidParameter, "%s", msgTransitiveKey)
		}
		if !slices.ContainsFunc(st.transitive, func(s string) bool { return strings.EqualFold(s, k) }) {
			st.transitive = append(st.transitive, k)
		}
	}
	st.tags = append(st.tags, st.request...)
	return st, nil
}

// inheritedTags are the calling session's transitive tags and their keys
// (none for callers that are no STS session).
func (r *Roles) inheritedTags(ctx context.Context, caller auth.Principal) ([]metadata.ResourceTag, []string, error) {
	if caller.Kind() != auth.TypeAssumedRole || !strings.HasPrefix(caller.AccessKeyID, auth.PrefixTemporary) {
		return nil, nil, nil
	}
	s, err := r.Service.Store.GetSession(ctx, caller.AccessKeyID)
	if metadata.Is(err, metadata.NotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, internal("AssumeRole", err)
	}
	var tags []metadata.ResourceTag
	var keys []string
	for _, t := range s.Tags {
		if slices.ContainsFunc(s.TransitiveTagKeys, func(k string) bool { return strings.EqualFold(k, t.Key) }) {
			tags = append(tags, t)
			keys = append(keys, t.Key)
		}
	}
	return tags, keys, nil
}

// tokenTagsClaim is where an identity provider puts session tags in a web
// identity token, as AWS reads them:
//
//	"https://aws.amazon.com/tags": {
//	  "principal_tags": {"team": ["infra"], ...},
//	  "transitive_tag_keys": ["team"]
//	}
const tokenTagsClaim = "https://aws.amazon.com/tags"

// tokenTags reads a web identity token's session tags (none when the claim
// is absent). Each tag's value is a list of exactly one string; at most 50
// tags, keys 1–128 and values 0–256 characters, keys unique without case,
// transitive keys among them. A claim that breaks these is the token's
// fault: InvalidIdentityToken, in AWS's words.
func tokenTags(op string, all map[string]any) (sessionTags, error) {
	var st sessionTags
	raw, ok := all[tokenTagsClaim]
	if !ok {
		return st, nil
	}
	bad := func() (sessionTags, error) { return sessionTags{}, errorf(op, InvalidToken, "%s", msgTokenInvalid) }
	claim, ok := raw.(map[string]any)
	if !ok {
		return bad()
	}
	principal, _ := claim["principal_tags"].(map[string]any)
	if _, has := claim["principal_tags"]; has && principal == nil {
		return bad()
	}
	var in struct {
		Tags              []SessionTag
		TransitiveTagKeys []string
	}
	for k, v := range principal {
		list, ok := v.([]any)
		if !ok || len(list) != 1 {
			return bad()
		}
		s, ok := list[0].(string)
		if !ok {
			return bad()
		}
		in.Tags = append(in.Tags, SessionTag{Key: k, Value: s})
	}
	slices.SortFunc(in.Tags, func(a, b SessionTag) int { return strings.Compare(a.Key, b.Key) })
	if keys, has := claim["transitive_tag_keys"]; has {
		list, ok := keys.([]any)
		if !ok {
			return bad()
		}
		for _, k := range list {
			s, ok := k.(string)
			if !ok {
				return bad()
			}
			in.TransitiveTagKeys = append(in.TransitiveTagKeys, s)
		}
	}
	if err := checkTags(op, resourceTags(in.Tags)); err != nil {
		return bad()
	}
	st, err := requestTags(op, in.Tags, in.TransitiveTagKeys)
	if err != nil {
		return bad()
	}
	return st, nil
}

func sessionTagList(ts []metadata.ResourceTag) []SessionTag {
	out := make([]SessionTag, len(ts))
	for i, t := range ts {
		out[i] = SessionTag{Key: t.Key, Value: t.Value}
	}
	return out
}

func resourceTags(ts []SessionTag) []metadata.ResourceTag {
	out := make([]metadata.ResourceTag, len(ts))
	for i, t := range ts {
		out[i] = metadata.ResourceTag{Key: t.Key, Value: t.Value}
	}
	return out
}
