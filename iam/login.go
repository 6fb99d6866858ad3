package iam

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/token"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/registry"
)

// loginCacheTTL bounds how long a verified token or registry credential
// is trusted without looking again: revoking a key, a session or a
// credential takes effect within it.
const loginCacheTTL = 5 * time.Second

// maxLogins bounds the login cache; past it the cache starts over.
const maxLogins = 10000

// RegistryLogin checks /v2 Basic credentials: the user "AWS" with a login
// token from GetAuthorizationToken (whose access key, or session, must
// still exist and be active), or a registry credential's id and password.
type RegistryLogin struct {
	Tokens *token.Issuer
	Keys   *auth.KeyLookup
	Store  metadata.Store
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]login
}

// login is a cached verdict: the principal, until when it may be reused,
// and (for tokens) when the token expires.
type login struct {
	p       auth.Principal
	until   time.Time
	expires time.Time
}

var _ registry.Credentials = (*RegistryLogin)(nil)

func (l *RegistryLogin) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Basic implements registry.Credentials. An expired token is
// registry.ErrTokenExpired, so the client is told so in ECR's words.
func (l *RegistryLogin) Basic(ctx context.Context, user, password string) (auth.Principal, error) {
	now := l.now()
	key := sha256.Sum256([]byte(user + "\x00" + password))
	l.mu.Lock()
	c, ok := l.cache[key]
	l.mu.Unlock()
	if ok && now.Before(c.until) {
		if !c.expires.IsZero() && !now.Before(c.expires) {
			return auth.Principal{}, registry.ErrTokenExpired
		}
		return c.p, nil
	}
	var (
		p   auth.Principal
		exp time.Time
		err error
	)
	if user == "AWS" {
		p, exp, err = l.token(ctx, password)
	} else {
		p, exp, err = l.credential(ctx, user, password, now)
	}
	if err != nil {
		return auth.Principal{}, err
	}
	l.mu.Lock()
	if l.cache == nil || len(l.cache) >= maxLogins {
		l.cache = map[[32]byte]login{}
	}
	l.cache[key] = login{p: p, until: now.Add(loginCacheTTL), expires: exp}
	l.mu.Unlock()
	return p, nil
}

// token verifies a login token and that its key is still active.
func (l *RegistryLogin) token(ctx context.Context, password string) (auth.Principal, time.Time, error) {
	p, claims, err := l.Tokens.Verify(password)
	if err != nil {
		if te := (*token.Error)(nil); errors.As(err, &te) && te.Kind == token.Expired {
			return auth.Principal{}, time.Time{}, registry.ErrTokenExpired
		}
		return auth.Principal{}, time.Time{}, err
	}
	active, err := l.Keys.Active(ctx, p.AccessKeyID)
	if err != nil {
		return auth.Principal{}, time.Time{}, err
	}
	if !active {
		return auth.Principal{}, time.Time{}, errors.New("the token's access key is revoked")
	}
	var exp time.Time
	if claims.ExpiresAt != nil {
		exp = claims.ExpiresAt.Time
	}
	return p, exp, nil
}

// credentialPrefix starts every registry credential id.
const credentialPrefix = "BRC"

// credential checks a registry credential: its password's hash compared
// in constant time, active, unexpired, its principal still there.
func (l *RegistryLogin) credential(ctx context.Context, id, password string, now time.Time) (auth.Principal, time.Time, error) {
	if !strings.HasPrefix(id, credentialPrefix) {
		return auth.Principal{}, time.Time{}, errors.New("user is neither AWS nor a registry credential")
	}
	c, err := l.Store.GetRegistryCredential(ctx, id)
	if metadata.Is(err, metadata.NotFound) {
		return auth.Principal{}, time.Time{}, errors.New("unknown registry credential")
	}
	if err != nil {
		return auth.Principal{}, time.Time{}, err
	}
	sum := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(sum[:], c.SecretHash) != 1 {
		return auth.Principal{}, time.Time{}, errors.New("wrong registry credential password")
	}
	if c.Status != metadata.KeyActive {
		return auth.Principal{}, time.Time{}, errors.New("registry credential is inactive")
	}
	if !c.Expires.IsZero() && !now.Before(c.Expires) {
		return auth.Principal{}, time.Time{}, registry.ErrTokenExpired
	}
	owner, err := l.Store.GetPrincipal(ctx, c.Principal)
	if err != nil {
		return auth.Principal{}, time.Time{}, errors.New("the registry credential's principal is gone")
	}
	return CredentialPrincipal(owner, c.ID), c.Expires, nil
}

// CredentialPrincipal is who a registry credential acts as: a session of
// its role named after the credential (aws:PrincipalArn is the role), or
// its user.
func CredentialPrincipal(owner metadata.Principal, id string) auth.Principal {
	if owner.Kind == metadata.KindRole {
		return auth.Principal{Type: auth.TypeAssumedRole, ARN: auth.SessionARN(owner.Account, owner.Name, id),
			Account: owner.Account, AccessKeyID: id, UserID: owner.ID + ":" + id, RoleARN: owner.ARN, SessionName: id}
	}
	return auth.Principal{Type: auth.TypeUser, ARN: owner.ARN, Account: owner.Account, AccessKeyID: id,
		UserID: owner.ID, Username: owner.Name}
}
