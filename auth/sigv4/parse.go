package sigv4

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	isoBasic   = "20060102T150405Z"
	// maxPresignExpires is a week, the longest a SigV4 key derivation is
	// valid for.
	maxPresignExpires = 604800
	// maxEcho bounds how much of a client's Authorization header an error
	// message repeats back.
	maxEcho = 512
)

// regionRE accepts any syntactically plausible region ("us-east-1",
// "us-gov-west-1", "local"); Verifier.Regions narrows it to the regions an
// endpoint serves.
var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// signed is what a request says about its own signature.
type signed struct {
	presigned bool
	// Credential scope.
	accessKeyID, scopeDate, region, service, term string
	scope                                         string // date/region/service/term as sent
	signedHeaders                                 string // as sent, for the canonical request
	signature                                     string
	date                                          time.Time
	dateText                                      string // ISO 8601 basic, as it enters the string to sign
	token                                         string // X-Amz-Security-Token
	payloadHash                                   string // declared X-Amz-Content-Sha256, "" when absent
	expires                                       time.Duration
	hasExpires                                    bool
	query                                         []param
}

// param is one decoded query parameter.
type param struct{ key, value string }

// parse reads the signature's parts from the Authorization header or the
// presigned query.
func parse(r *http.Request) (*signed, *Error) {
	query := parseQuery(r.URL.RawQuery)
	authz := r.Header.Values("Authorization")
	_, presigned := lookupParam(query, "X-Amz-Algorithm")
	switch {
	case len(authz) == 0 && !presigned:
		return nil, missingAuth()
	case len(authz) > 0 && presigned:
		return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case presigned:
		return parsePresigned(r, query)
	}
	return parseHeader(r, authz[0], query)
}

func parseHeader(r *http.Request, authz string, query []param) (*signed, *Error) {
	s := &signed{query: query}
	alg, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
	fields := map[string]string{}
	if alg == algorithm {
		for _, tok := range strings.FieldsFunc(rest, func(c rune) bool { return c == ',' || c == ' ' || c == '\t' }) {
			k, v, ok := strings.Cut(tok, "=")
			if !ok {
				return nil, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", echo(tok), echo(authz))
			}
			fields[k] = v
		}
	}
	// AWS lists every missing part at once, then echoes the header.
	var problems []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			problems = append(problems, "Authorization header requires '"+k+"' parameter.")
		}
	}
	amzDate, date := r.Header.Get("X-Amz-Date"), r.Header.Get("Date")
	if amzDate == "" && date == "" {
		problems = append(problems, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(problems) > 0 {
		return nil, incomplete("%s Authorization=%s", strings.Join(problems, " "), echo(authz))
	}
	if err := s.setCredential(fields["Credential"]); err != nil {
		return nil, err
	}
	if err := s.setDate(amzDate, date); err != nil {
		return nil, err
	}
	s.signedHeaders, s.signature = fields["SignedHeaders"], fields["Signature"]
	s.token = r.Header.Get("X-Amz-Security-Token")
	s.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	return s, s.checkSignedHeaders()
}

func parsePresigned(r *http.Request, query []param) (*signed, *Error) {
	s := &signed{presigned: true, query: query}
	get := func(k string) string { v, _ := lookupParam(query, k); return v }
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders"} {
		if get(k) == "" {
			return nil, incomplete("AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.")
		}
	}
	if get("X-Amz-Algorithm") != algorithm {
		return nil, incomplete("X-Amz-Algorithm only supports '%s'", algorithm)
	}
	if err := s.setCredential(get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	if err := s.setDate(get("X-Amz-Date"), ""); err != nil {
		return nil, err
	}
	if v, ok := lookupParam(query, "X-Amz-Expires"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return nil, incomplete("X-Amz-Expires should be a number")
		case n < 0:
			return nil, incomplete("X-Amz-Expires must be non-negative")
		case n > maxPresignExpires:
			return nil, incomplete("X-Amz-Expires must be less than a week (in seconds) that is %d", maxPresignExpires)
		}
		s.expires, s.hasExpires = time.Duration(n)*time.Second, true
	}
	s.signedHeaders, s.signature = get("X-Amz-SignedHeaders"), get("X-Amz-Signature")
	s.token = get("X-Amz-Security-Token")
	if s.payloadHash = get("X-Amz-Content-Sha256"); s.payloadHash == "" {
		s.payloadHash = r.Header.Get("X-Amz-Content-Sha256")
	}
	return s, s.checkSignedHeaders()
}

// setCredential splits AKID/date/region/service/aws4_request.
func (s *signed) setCredential(cred string) *Error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", echo(cred))
	}
	s.accessKeyID, s.scopeDate, s.region, s.service, s.term = parts[0], parts[1], parts[2], parts[3], parts[4]
	s.scope = strings.Join(parts[1:], "/")
	return nil
}

// setDate takes X-Amz-Date (ISO 8601 basic) or else the Date header (HTTP
// date), which then enters the string to sign in ISO 8601 basic form.
func (s *signed) setDate(amzDate, httpDate string) *Error {
	if amzDate != "" {
		t, err := time.Parse(isoBasic, amzDate)
		if err != nil {
			return incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(amzDate))
		}
		s.date, s.dateText = t, amzDate
		return nil
	}
	t, err := http.ParseTime(httpDate)
	if err != nil {
		return incomplete("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", echo(httpDate))
	}
	s.date = t.UTC()
	s.dateText = s.date.Format(isoBasic)
	return nil
}

// checkSignedHeaders insists on host: without it a signature could be
// replayed against another endpoint.
func (s *signed) checkSignedHeaders() *Error {
	for _, h := range strings.Split(s.signedHeaders, ";") {
		if strings.EqualFold(h, "host") {
			return nil
		}
	}
	return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
}

// checkScope validates the credential scope against the service, the
// region when one is required, and the request date.
func (s *signed) checkScope(service string, regions []string) *Error {
	switch {
	case s.term != terminator:
		return invalidSignature("Credential should be scoped with a valid terminator: '%s', not '%s'. ", terminator, echo(s.term))
	case s.service != service:
		return invalidSignature("Credential should be scoped to correct service: '%s'. ", service)
	case len(s.region) > 32 || !regionRE.MatchString(s.region) || len(regions) > 0 && !slices.Contains(regions, s.region):
		return invalidSignature("Credential should be scoped to a valid region, not '%s'. ", echo(s.region))
	case s.scopeDate != s.dateText[:8]:
		return invalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", echo(s.scopeDate), s.dateText[:8], s.dateText)
	}
	return nil
}

// parseQuery splits a raw query into decoded parameters, keeping order and
// duplicates. Undecodable text is kept as sent.
func parseQuery(raw string) []param {
	var out []param
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, param{unescape(k), unescape(v)})
	}
	return out
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

func lookupParam(ps []param, key string) (string, bool) {
	for _, p := range ps {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// echo bounds client text repeated in a message.
func echo(s string) string {
	if len(s) > maxEcho {
		return s[:maxEcho] + "..."
	}
	return s
}
