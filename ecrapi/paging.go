package ecrapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/berth-registry/berth/metadata"
)

// pagingIn is the maxResults and nextToken members of a listing's input.
type pagingIn struct {
	MaxResults *int    `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

// pageSize is a listing's page when maxResults is absent (def) and the
// largest maxResults it takes (max).
type pageSize struct{ def, max int }

// standardPages is most listings' (service-2.json): 100, maxResults 1–1000.
var standardPages = pageSize{def: 100, max: 1000}

// listPage answers one page of a listing: it checks in (maxResults within
// size, a nextToken this operation issued for scope), reads the page with
// list, and returns it with the nextToken that continues it ("" at the
// end). scope is everything the listing depends on besides the page
// (registry, repository, filters), so a token cannot continue another
// listing. list may fail before it reads (a missing repository): the
// paging members are checked first, as ECR does.
func listPage[T any](a *API, req *Request, scope string, in pagingIn, size pageSize,
	list func(p metadata.Page) ([]T, string, error)) ([]T, string, error) {
	limit, after, err := a.pageParams(req.Op, scope, in, size)
	if err != nil {
		return nil, "", err
	}
	items, next, err := list(metadata.Page{Limit: limit, After: after})
	if err != nil {
		return nil, "", err
	}
	return items, a.encodeToken(req.Op, scope, next), nil
}

// mapped is f of every item, never nil (ECR sends [] for an empty list).
func mapped[T, O any](items []T, f func(T) O) []O {
	out := make([]O, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}

// pageToken is what a nextToken carries: the operation and the scope it
// was issued for (so a token cannot be replayed against another listing)
// and the store's cursor. It is HMAC-authenticated, so it is opaque and
// tamper-proof.
type pageToken struct {
	Op     string `json:"o"`
	Scope  string `json:"s"`
	Cursor string `json:"c"`
}

// encodeToken seals a cursor into a nextToken ("" cursor → "").
func (a *API) encodeToken(op, scope, cursor string) string {
	if cursor == "" {
		return ""
	}
	b, _ := json.Marshal(pageToken{Op: op, Scope: scope, Cursor: cursor})
	m := hmac.New(sha256.New, a.d.PageKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// decodeToken opens a nextToken issued by encodeToken for the same op and
// scope; anything else is InvalidParameterException.
func (a *API) decodeToken(op, scope, token string) (string, error) {
	bad := errorf("InvalidParameterException", "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid pagination token'")
	body, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", bad
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	s, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return "", bad
	}
	m := hmac.New(sha256.New, a.d.PageKey)
	m.Write(b)
	if !hmac.Equal(s, m.Sum(nil)) {
		return "", bad
	}
	var t pageToken
	if json.Unmarshal(b, &t) != nil || t.Op != op || t.Scope != scope {
		return "", bad
	}
	return t.Cursor, nil
}

// pageParams validates maxResults and nextToken and returns the store
// page they ask for.
func (a *API) pageParams(op, scope string, in pagingIn, size pageSize) (limit int, after string, err error) {
	limit = size.def
	if in.MaxResults != nil {
		if *in.MaxResults < 1 {
			return 0, "", invalidParam("maxResults", "must be greater than or equal to 1")
		}
		if *in.MaxResults > size.max {
			return 0, "", invalidParam("maxResults", "must be less than or equal to "+itoa(size.max))
		}
		limit = *in.MaxResults
	}
	if in.NextToken != nil && *in.NextToken != "" {
		after, err = a.decodeToken(op, scope, *in.NextToken)
	}
	return limit, after, err
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
