package ecrapi

import (
	"errors"
	"strconv"
	"testing"

	"github.com/berth-registry/berth/metadata"
)

// TestListPage: the one paging helper checks maxResults against the
// listing's sizes, passes the page on, and seals the store's cursor into a
// nextToken only the same operation and scope can open.
func TestListPage(t *testing.T) {
	a := New(Deps{PageKey: []byte("0123456789abcdef0123456789abcdef")})
	req := &Request{Op: "ListImages"}
	// list pages through 0..249, cursors being the next offset.
	list := func(p metadata.Page) ([]int, string, error) {
		start := 0
		if p.After != "" {
			start, _ = strconv.Atoi(p.After)
		}
		end := min(start+p.Limit, 250)
		var out []int
		for i := start; i < end; i++ {
			out = append(out, i)
		}
		if end == 250 {
			return out, "", nil
		}
		return out, strconv.Itoa(end), nil
	}
	ptr := func(n int) *int { return &n }
	str := func(s string) *string { return &s }

	// Sizes: the default page, maxResults in [1, max], ECR's words.
	for _, c := range []struct {
		size pageSize
		max  *int
		want int
		err  string
	}{
		{standardPages, nil, 100, ""},
		{standardPages, ptr(1000), 250, ""},
		{standardPages, ptr(1001), 0, "InvalidParameterException: Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 1000'"},
		{standardPages, ptr(0), 0, "InvalidParameterException: Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be greater than or equal to 1'"},
		{referrerPages, nil, 20, ""},
		{referrerPages, ptr(51), 0, "InvalidParameterException: Invalid parameter at 'maxResults' failed to satisfy constraint: 'must be less than or equal to 50'"},
		{previewPages, ptr(100), 100, ""},
	} {
		items, _, err := listPage(a, req, "s", pagingIn{MaxResults: c.max}, c.size, list)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%v %v: error %v, want %s", c.size, c.max, err, c.err)
			}
			continue
		}
		if err != nil || len(items) != c.want {
			t.Errorf("%v %v: %d items, %v; want %d", c.size, c.max, len(items), err, c.want)
		}
	}

	// Tokens: the whole listing once, in order, and "" at its end.
	var all []int
	var token *string
	for pages := 0; ; pages++ {
		items, next, err := listPage(a, req, "s", pagingIn{MaxResults: ptr(100), NextToken: token}, standardPages, list)
		if err != nil || pages > 3 {
			t.Fatalf("page %d: %v", pages, err)
		}
		all = append(all, items...)
		if next == "" {
			break
		}
		token = str(next)
	}
	if len(all) != 250 || all[249] != 249 {
		t.Fatalf("paged %d items, want 0..249", len(all))
	}

	// A token opens only for its operation and scope, and untampered.
	_, next, _ := listPage(a, req, "s", pagingIn{}, standardPages, list)
	bad := "InvalidParameterException: Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid pagination token'"
	for name, try := range map[string]func() error{
		"other scope": func() error {
			_, _, err := listPage(a, req, "t", pagingIn{NextToken: &next}, standardPages, list)
			return err
		},
		"other operation": func() error {
			_, _, err := listPage(a, &Request{Op: "DescribeImages"}, "s", pagingIn{NextToken: &next}, standardPages, list)
			return err
		},
		"tampered": func() error {
			_, _, err := listPage(a, req, "s", pagingIn{NextToken: str("x" + next)}, standardPages, list)
			return err
		},
	} {
		var e *Error
		if err := try(); !errors.As(err, &e) || err.Error() != bad {
			t.Errorf("%s: %v, want %s", name, err, bad)
		}
	}
}
