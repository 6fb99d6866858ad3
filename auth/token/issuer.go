package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/berth-registry/berth/auth"
)

const (
	// DefaultTTL is ECR's token lifetime.
	DefaultTTL = 12 * time.Hour
	// DefaultIssuer is the iss claim when Issuer.Issuer is empty.
	DefaultIssuer = "berth"
	// leeway absorbs clock differences between berth nodes.
	leeway = 5 * time.Second
)

// Claims are a login token's claims: the registered ones (sub is the
// principal's ARN, jti a random id) and the rest of the principal.
type Claims struct {
	jwt.RegisteredClaims
	Account     string `json:"acct,omitempty"`
	AccessKeyID string `json:"akid,omitempty"`
	UserID      string `json:"uid,omitempty"`
	Username    string `json:"usr,omitempty"`
	Type        string `json:"typ,omitempty"`
	RoleARN     string `json:"role,omitempty"`
	SessionName string `json:"ses,omitempty"`
}

// Principal is the caller the token was issued to.
func (c Claims) Principal() auth.Principal {
	return auth.Principal{Type: auth.PrincipalType(c.Type), ARN: c.Subject, Account: c.Account, AccessKeyID: c.AccessKeyID,
		UserID: c.UserID, Username: c.Username, RoleARN: c.RoleARN, SessionName: c.SessionName}
}

// Issuer mints and verifies login tokens.
type Issuer struct {
	Keys *Keys
	// TTL is the token lifetime (DefaultTTL when zero). Keys.Retain must
	// be at least as long.
	TTL time.Duration
	// Issuer is the iss claim (DefaultIssuer when empty).
	Issuer string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

func (i *Issuer) iss() string {
	if i.Issuer == "" {
		return DefaultIssuer
	}
	return i.Issuer
}

// Issue mints a token for p. The password is a compact JWT: base64url
// segments joined by dots, never a ':' (clients split "AWS:<password>" on
// the first or only colon).
func (i *Issuer) Issue(_ context.Context, p auth.Principal) (string, time.Time, error) {
	if p.ARN == "" {
		return "", time.Time{}, &Error{Op: "Issue", Kind: Invalid, Err: errors.New("principal has no ARN")}
	}
	ttl := i.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", time.Time{}, &Error{Op: "Issue", Kind: Internal, Err: err}
	}
	now := i.now().UTC().Truncate(time.Second)
	exp := now.Add(ttl)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    i.iss(),
			Subject:   p.ARN,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		Account: p.Account, AccessKeyID: p.AccessKeyID, UserID: p.UserID, Username: p.Username,
		Type: string(p.Type), RoleARN: p.RoleARN, SessionName: p.SessionName,
	}
	kid, key := i.Keys.signer()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = kid
	s, err := t.SignedString(key)
	if err != nil {
		return "", time.Time{}, &Error{Op: "Issue", Kind: Internal, Err: err}
	}
	return s, exp, nil
}

// Verify checks a password minted by Issue (by this or another node
// sharing the key file) and returns its principal and claims. Only ES256
// under a known kid is accepted; an expired but otherwise valid token is
// Kind Expired, anything else Kind Invalid.
func (i *Issuer) Verify(password string) (auth.Principal, Claims, error) {
	var c Claims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
		jwt.WithIssuer(i.iss()),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(i.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	_, err := parser.ParseWithClaims(password, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pk, ok := i.Keys.publicKey(kid)
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return pk, nil
	})
	switch {
	case err == nil && c.Subject == "":
		return auth.Principal{}, Claims{}, &Error{Op: "Verify", Kind: Invalid, Err: errors.New("token has no subject")}
	case err == nil:
		return c.Principal(), c, nil
	case errors.Is(err, jwt.ErrTokenExpired) && !errors.Is(err, jwt.ErrTokenSignatureInvalid) && !errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return auth.Principal{}, Claims{}, &Error{Op: "Verify", Kind: Expired, Err: err}
	}
	return auth.Principal{}, Claims{}, &Error{Op: "Verify", Kind: Invalid, Err: err}
}
