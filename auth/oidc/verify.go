package oidc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/berth-registry/berth/internal/httpx"
)

// Defaults of the Verifier's knobs.
const (
	// DefaultSkew is the clock skew allowed past exp and before nbf: IAM
	// allows five minutes.
	DefaultSkew = 5 * time.Minute
	// DefaultRefetch is the least time between two fetches of one
	// issuer's keys when a token names a kid not in the cache.
	DefaultRefetch = 30 * time.Second
	// DefaultMaxAge is how long fetched keys are used before a refetch.
	DefaultMaxAge = 24 * time.Hour
	// DefaultTimeout bounds each request to an issuer.
	DefaultTimeout = 5 * time.Second
)

// algorithms are those STS accepts: RSA (PKCS#1 v1.5 and PSS) and ECDSA.
var algorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}

// Verifier verifies tokens; the zero value uses the system trust store.
// It is safe for concurrent use.
type Verifier struct {
	// Client fetches discovery documents and JWKS (NewClient's when nil).
	Client *http.Client
	Now    func() time.Time
	// Skew, Refetch, MaxAge, Timeout: the Default… values when zero.
	Skew, Refetch, MaxAge, Timeout time.Duration

	mu      sync.Mutex
	issuers map[string]*keySet
	defCli  *http.Client
}

// NewClient is an HTTPS client trusting the system roots plus, when
// caFile is not "", the PEM certificates in it (private issuers).
func NewClient(caFile string) (*http.Client, error) {
	pool, err := httpx.Roots(caFile)
	if err != nil {
		return nil, fmt.Errorf("oidc: CA file: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	// Redirects are followed only to HTTPS: the keys must come over TLS.
	return &http.Client{Transport: tr, Timeout: DefaultTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" || len(via) >= 5 {
			return errors.New("oidc: redirect refused")
		}
		return nil
	}}, nil
}

// Claims are a verified token's claims.
type Claims struct {
	Issuer, Subject string
	Audience        []string
	// All holds every claim as decoded JSON (condition keys read them).
	All map[string]any
}

// Issuer returns the iss claim of raw without verifying anything: which
// provider, hence which keys, the token claims to come from.
func Issuer(raw string) (string, error) {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(raw, claims); err != nil {
		return "", errorf(Invalid, "malformed token", err)
	}
	iss, err := claims.GetIssuer()
	if err != nil || iss == "" {
		return "", errorf(Invalid, "missing iss", err)
	}
	return iss, nil
}

// Verify checks raw's signature with issuer's keys, its algorithm, iss,
// exp (required) and nbf with the skew, and returns its claims. The
// audience is the caller's to check.
func (v *Verifier) Verify(ctx context.Context, raw, issuer string) (Claims, error) {
	claims := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods(algorithms), jwt.WithLeeway(v.skew()), jwt.WithTimeFunc(v.now),
		jwt.WithExpirationRequired(), jwt.WithIssuer(issuer))
	var keyErr error
	_, err := p.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := v.key(ctx, issuer, kid)
		keyErr = err
		return k, err
	})
	if err != nil {
		var oe *Error
		switch {
		case errors.As(keyErr, &oe):
			return Claims{}, oe
		case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet):
			return Claims{}, errorf(Expired, "token expired or not yet valid", err)
		}
		return Claims{}, errorf(Invalid, "token invalid", err)
	}
	c := Claims{Issuer: issuer, All: claims}
	c.Subject, _ = claims.GetSubject()
	aud, _ := claims.GetAudience()
	c.Audience = aud
	return c, nil
}

func (v *Verifier) client() *http.Client {
	if v.Client != nil {
		return v.Client
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.defCli == nil {
		v.defCli, _ = NewClient("")
	}
	return v.defCli
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (v *Verifier) skew() time.Duration    { return or(v.Skew, DefaultSkew) }
func (v *Verifier) refetch() time.Duration { return or(v.Refetch, DefaultRefetch) }
func (v *Verifier) maxAge() time.Duration  { return or(v.MaxAge, DefaultMaxAge) }
func (v *Verifier) timeout() time.Duration { return or(v.Timeout, DefaultTimeout) }

// StringClaim returns claim name as a string when it is one (or a number,
// printed as JSON does).
func (c Claims) StringClaim(name string) (string, bool) {
	switch x := c.All[name].(type) {
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return fmt.Sprint(x), true
	}
	return "", false
}
