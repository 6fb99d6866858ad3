package iamapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/metadata"
)

// need returns a required parameter, or IAM's validation error.
func (c *call) need(name string) (string, error) {
	vs, ok := c.form[name]
	if !ok || len(vs) == 0 {
		return "", invalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(name))
	}
	return vs[0], nil
}

func (c *call) opt(name string) string { return c.form.Get(name) }

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// list reads prefix.member.N (N from 1, in order).
func (c *call) list(prefix string) []string {
	idx := map[int]string{}
	for k, vs := range c.form {
		rest, ok := strings.CutPrefix(k, prefix+".member.")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || strconv.Itoa(n) != rest || len(vs) == 0 {
			continue
		}
		idx[n] = vs[0]
	}
	var out []string
	for _, n := range slices.Sorted(maps.Keys(idx)) {
		out = append(out, idx[n])
	}
	return out
}

// tags reads Tags.member.N.Key/Value.
func (c *call) tags() []metadata.ResourceTag {
	seen := map[int]bool{}
	for k := range c.form {
		rest, ok := strings.CutPrefix(k, "Tags.member.")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(num); err == nil && n > 0 && strconv.Itoa(n) == num {
			seen[n] = true
		}
	}
	var out []metadata.ResourceTag
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, metadata.ResourceTag{Key: c.form.Get(fmt.Sprintf("Tags.member.%d.Key", n)), Value: c.form.Get(fmt.Sprintf("Tags.member.%d.Value", n))})
	}
	return out
}

// page applies Marker (the first name of the page) and MaxItems (1..1000,
// default 100) to names sorted ascending; it returns the window and the
// next page's marker ("" when this is the last).
func (c *call) page(names []string) (from, to int, next string, err error) {
	max := 100
	if s := c.opt("MaxItems"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > 1000 {
			return 0, 0, "", invalid("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", s)
		}
		max = n
	}
	if m := c.opt("Marker"); m != "" {
		from, _ = slices.BinarySearch(names, m)
	}
	to = min(from+max, len(names))
	if to < len(names) {
		next = names[to]
	}
	return from, to, next, nil
}

// paged is the paging part of list results.
type paged struct {
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func pagedFor(next string) paged { return paged{IsTruncated: next != "", Marker: next} }
