package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// canonicalURIs returns the canonical URI path as AWS computes it for
// non-S3 services (dot segments and empty segments removed, then the
// already-escaped path escaped again), followed by the path escaped again
// without normalization when that differs: aws-sdk-go-v2 does not
// normalize, botocore does, and both only sign the path they send.
func canonicalURIs(r *http.Request) []string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	norm := escapePath(removeDotSegments(p))
	if raw := escapePath(p); raw != norm {
		return []string{norm, raw}
	}
	return []string{norm}
}

// removeDotSegments is RFC 3986 §5.2.4 plus the removal of empty segments
// AWS applies (botocore's remove_dot_segments).
func removeDotSegments(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	first, last := "", ""
	if strings.HasPrefix(p, "/") {
		first = "/"
	}
	if strings.HasSuffix(p, "/") && len(out) > 0 {
		last = "/"
	}
	return first + strings.Join(out, "/") + last
}

// escapePath percent-encodes every byte but RFC 3986 unreserved ones and
// '/'. Applied to an escaped path it yields AWS's double encoding.
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalQuery encodes each name and value (space as %20), sorts by
// encoded name then value, and joins them. The presigned form leaves out
// X-Amz-Signature.
func canonicalQuery(ps []param, presigned bool) string {
	enc := make([]param, 0, len(ps))
	for _, p := range ps {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, param{encodeComponent(p.key), encodeComponent(p.value)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	parts := make([]string, len(enc))
	for i, p := range enc {
		parts[i] = p.key + "=" + p.value
	}
	return strings.Join(parts, "&")
}

func encodeComponent(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// canonicalHeaders renders the signed headers in the order the client
// listed them: lowercase name, values trimmed with runs of spaces
// collapsed, several values joined by commas.
func canonicalHeaders(r *http.Request, signedHeaders string) string {
	var b strings.Builder
	for _, name := range strings.Split(signedHeaders, ";") {
		name = strings.ToLower(name)
		var values []string
		switch name {
		case "host":
			// net/http moves Host out of the header map.
			values = []string{r.Host}
			if r.Host == "" {
				values = []string{r.URL.Host}
			}
		default:
			values = r.Header.Values(name)
			if len(values) == 0 && name == "content-length" && r.ContentLength >= 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(collapseSpaces(strings.TrimSpace(v)))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func collapseSpaces(s string) string {
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	prev := false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' '
		if !sp || !prev {
			b.WriteByte(s[i])
		}
		prev = sp
	}
	return b.String()
}

// canonicalRequest joins the parts as AWS specifies.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

func stringToSign(dateText, scope, canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return algorithm + "\n" + dateText + "\n" + scope + "\n" + hex.EncodeToString(h[:])
}

// signingKey derives the scope's key from the secret.
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
