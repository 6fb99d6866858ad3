package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/berth-registry/berth/auth"
)

// DefaultMaxSkew is AWS's allowed difference between the request date and
// the server clock.
const DefaultMaxSkew = 15 * time.Minute

const unsignedPayload = "UNSIGNED-PAYLOAD"

// Credential is an access key as the verifier needs it (defined in
// package auth so key sources need not import this package).
type Credential = auth.Credential

// Verifier checks SigV4 signatures.
type Verifier struct {
	// Lookup resolves an access key id. For an unknown or inactive key it
	// returns UnrecognizedClient() or an *auth.Error of Kind
	// auth.UnknownKey; any other error is a failure of the lookup itself
	// and is returned as is.
	Lookup func(ctx context.Context, accessKeyID string) (Credential, error)
	// Regions, when set, are the regions a credential scope may name, as
	// an AWS endpoint accepts only its own region ("Credential should be
	// scoped to a valid region"); when empty any well-formed region is
	// accepted and reported.
	Regions []string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// MaxSkew is the allowed clock skew (DefaultMaxSkew when zero).
	MaxSkew time.Duration
}

// Verify authenticates r, whose body the caller has already read, for
// service (the signing name, e.g. "ecr"). It returns the key's Credential
// without its secret and session token, with Region set from the scope.
// Errors that concern the request are *Error.
func (v *Verifier) Verify(r *http.Request, body []byte, service string) (Credential, error) {
	s, c, err := v.identify(r, service)
	if err != nil {
		return Credential{}, err
	}
	hashes, e := payloadHashes(s, body)
	if e != nil {
		return Credential{}, e
	}
	if !matches(r, s, c.Secret, hashes) {
		return Credential{}, invalidSignature(msgSignatureDiffer)
	}
	c.AccessKeyID = s.accessKeyID
	c.Secret, c.SessionToken = "", ""
	c.Region = s.region
	return c, nil
}

// Precheck is Verify short of the body: the signature's form, its scope
// (service, region, date), the clock, the access key and its session
// token. A request that fails here cannot authenticate whatever its body,
// so an API refuses it before reading the body; Verify repeats these
// checks (the key lookup is cached).
func (v *Verifier) Precheck(r *http.Request, service string) error {
	_, _, err := v.identify(r, service)
	return err
}

// identify parses r's signature, checks its scope and date and looks up
// its key: everything that needs no body.
func (v *Verifier) identify(r *http.Request, service string) (*signed, Credential, error) {
	s, e := parse(r)
	if e != nil {
		return nil, Credential{}, e
	}
	if e := s.checkScope(service, v.Regions); e != nil {
		return nil, Credential{}, e
	}
	if e := v.checkTime(s); e != nil {
		return nil, Credential{}, e
	}
	if v.Lookup == nil {
		return nil, Credential{}, errors.New("sigv4: Verifier has no Lookup")
	}
	c, err := v.Lookup(r.Context(), s.accessKeyID)
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Kind == auth.UnknownKey {
		return nil, Credential{}, UnrecognizedClient()
	}
	if err != nil {
		return nil, Credential{}, err
	}
	if e := v.checkToken(s, c); e != nil {
		return nil, Credential{}, e
	}
	return s, c, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now().UTC()
	}
	return time.Now().UTC()
}

// checkTime applies the clock skew window, or for a presigned request with
// X-Amz-Expires the window [date-skew, date+expires].
func (v *Verifier) checkTime(s *signed) *Error {
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	now := v.now()
	if s.date.Sub(now) > skew {
		return skewed("Signature not yet current: %s is still later than %s (%s + %s.)",
			s.dateText, now.Add(skew).Format(isoBasic), now.Format(isoBasic), span(skew))
	}
	window := skew
	if s.presigned && s.hasExpires {
		window = s.expires
	}
	if now.Sub(s.date) > window {
		return skewed("Signature expired: %s is now earlier than %s (%s - %s.)",
			s.dateText, now.Add(-window).Format(isoBasic), now.Format(isoBasic), span(window))
	}
	return nil
}

// span prints a window as AWS does ("15 min"), in seconds when it is not
// whole minutes.
func span(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d sec", d/time.Second)
}

// payloadHashes lists the payload hashes the signature may cover. A
// declared X-Amz-Content-Sha256 is what was signed and must describe the
// body, except UNSIGNED-PAYLOAD in a presigned URL. A presigned URL that
// declares nothing may have been signed either way.
func payloadHashes(s *signed, body []byte) ([]string, *Error) {
	sum := sha256Hex(body)
	switch {
	case s.payloadHash == "" && s.presigned:
		return []string{sum, unsignedPayload}, nil
	case s.payloadHash == "":
		return []string{sum}, nil
	case s.presigned && s.payloadHash == unsignedPayload:
		return []string{unsignedPayload}, nil
	case !strings.EqualFold(s.payloadHash, sum):
		return nil, invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return []string{s.payloadHash}, nil
}

// checkToken compares the session token and the credentials' expiry.
func (v *Verifier) checkToken(s *signed, c Credential) *Error {
	if c.SessionToken == "" {
		if s.token != "" {
			return UnrecognizedClient()
		}
	} else if subtle.ConstantTimeCompare([]byte(s.token), []byte(c.SessionToken)) != 1 {
		return UnrecognizedClient()
	}
	if !c.Expires.IsZero() && !v.now().Before(c.Expires) {
		return expiredToken()
	}
	return nil
}

// matches recomputes the signature for each acceptable canonical form and
// compares in constant time.
func matches(r *http.Request, s *signed, secret string, hashes []string) bool {
	want, err := hex.DecodeString(s.signature)
	if err != nil || len(want) != 32 {
		return false
	}
	key := signingKey(secret, s.scopeDate, s.region, s.service)
	query := canonicalQuery(s.query, s.presigned)
	headers := canonicalHeaders(r, s.signedHeaders)
	ok := false
	for _, uri := range canonicalURIs(r) {
		for _, h := range hashes {
			creq := canonicalRequest(r.Method, uri, query, headers, s.signedHeaders, h)
			got := hmacSHA256(key, stringToSign(s.dateText, s.scope, creq))
			// No early exit: every candidate costs the same.
			ok = hmac.Equal(got, want) || ok
		}
	}
	return ok
}
