package ecrapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Page sizes (service-2.json): default 100, maxResults 1–1000 for most
// list operations.
const (
	defaultPage = 100
	maxPage     = 1000
)

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

// pageParams validates maxResults/nextToken (limit in [1, max]) and
// returns the store page.
func (a *API) pageParams(op, scope string, maxResults *int, nextToken *string, max int) (limit int, after string, err error) {
	limit = defaultPage
	if max < defaultPage {
		limit = max
	}
	if maxResults != nil {
		if *maxResults < 1 {
			return 0, "", invalidParam("maxResults", "must be greater than or equal to 1")
		}
		if *maxResults > max {
			return 0, "", invalidParam("maxResults", "must be less than or equal to "+itoa(max))
		}
		limit = *maxResults
	}
	if nextToken != nil && *nextToken != "" {
		after, err = a.decodeToken(op, scope, *nextToken)
	}
	return limit, after, err
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
