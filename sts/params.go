package sts

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/internal/httpx"
)

// MaxBody is the largest request body read. AssumeRole's parameters at
// their limits (a 2 KiB policy, 50 tags, 10 policy ARNs) fit well within.
const MaxBody = 64 << 10

// readBody reads at most MaxBody bytes, held to the API's minimum rate. A
// body declared longer is refused unread; one longer than declared is an
// error that leaves the rest unread.
func readBody(w http.ResponseWriter, r *http.Request, rate httpx.Rate) ([]byte, *Error) {
	if r.Body == nil {
		return nil, nil
	}
	if r.ContentLength > MaxBody {
		return nil, tooLarge()
	}
	httpx.Limit(w, r, rate)
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	switch {
	case errors.Is(err, httpx.ErrSlowBody):
		return nil, &Error{Code: "RequestTimeout", Status: http.StatusRequestTimeout,
			Message: "Your request body was not received within the timeout period: it arrived too slowly."}
	case err != nil:
		return nil, &Error{Code: codeMalformedInput, Message: "Unable to read the request body"}
	case len(b) > MaxBody:
		return nil, tooLarge()
	}
	return b, nil
}

func tooLarge() *Error {
	return &Error{Code: codeValidation, Message: fmt.Sprintf("Request body exceeds %d bytes", MaxBody), Status: http.StatusRequestEntityTooLarge}
}

// isForm reports whether a Content-Type is the Query protocol's.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// parseForm merges the form body and the URL query. Body values come first,
// and as AWS takes the first of repeated parameters, the body wins.
func parseForm(r *http.Request, body []byte) (url.Values, *Error) {
	form := url.Values{}
	if len(body) > 0 && isForm(r.Header.Get("Content-Type")) {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &Error{Code: codeMalformedInput, Message: "Unable to parse the form-encoded request body"}
		}
		form = v
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &Error{Code: codeMalformedInput, Message: "Unable to parse the query string"}
	}
	for k, vs := range q {
		form[k] = append(form[k], vs...)
	}
	return form, nil
}

// param is an optional string parameter: nil when absent. Present but
// empty ("RoleArn=") is not absent: AWS validates "" against the
// constraints rather than reporting a null.
func param(form url.Values, name string) *string {
	vs, ok := form[name]
	if !ok || len(vs) == 0 {
		return nil
	}
	return &vs[0]
}

// listEntries returns, in order, the indices N of parameters named
// prefix+N+suffix for one of suffixes ("" for a list of strings). The Query protocol numbers list members from 1; indices are read
// from the keys present, never counted up to, so a huge N costs nothing.
// Non-canonical numbers ("01") are unknown parameters, ignored as AWS
// ignores those.
func listEntries(form url.Values, prefix string, suffixes ...string) []int {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, sfx, _ := strings.Cut(rest, ".")
		if sfx != "" {
			sfx = "." + sfx
		}
		if !slices.Contains(suffixes, sfx) {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || strconv.Itoa(n) != num {
			continue
		}
		seen[n] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// assumeRoleParams is AssumeRole's form as received: pointers tell absent
// from empty, which validation needs.
type assumeRoleParams struct {
	RoleArn, RoleSessionName, DurationSeconds, ExternalId, Policy *string
	SourceIdentity, SerialNumber, TokenCode                       *string
	// List members are read where present, so none is absent.
	PolicyArns, TransitiveTagKeys []string
	Tags                          []tagParam
}

type tagParam struct{ Key, Value *string }

func readAssumeRole(form url.Values) assumeRoleParams {
	p := assumeRoleParams{
		RoleArn:         param(form, "RoleArn"),
		RoleSessionName: param(form, "RoleSessionName"),
		DurationSeconds: param(form, "DurationSeconds"),
		ExternalId:      param(form, "ExternalId"),
		Policy:          param(form, "Policy"),
		SourceIdentity:  param(form, "SourceIdentity"),
		SerialNumber:    param(form, "SerialNumber"),
		TokenCode:       param(form, "TokenCode"),
	}
	// An empty list is sent as "PolicyArns=" with no members: nothing to read.
	for _, n := range listEntries(form, "PolicyArns.member.", ".arn") {
		p.PolicyArns = append(p.PolicyArns, form.Get(fmt.Sprintf("PolicyArns.member.%d.arn", n)))
	}
	for _, n := range listEntries(form, "Tags.member.", ".Key", ".Value") {
		p.Tags = append(p.Tags, tagParam{
			Key:   param(form, fmt.Sprintf("Tags.member.%d.Key", n)),
			Value: param(form, fmt.Sprintf("Tags.member.%d.Value", n)),
		})
	}
	for _, n := range listEntries(form, "TransitiveTagKeys.member.", "") {
		p.TransitiveTagKeys = append(p.TransitiveTagKeys, form.Get(fmt.Sprintf("TransitiveTagKeys.member.%d", n)))
	}
	return p
}
