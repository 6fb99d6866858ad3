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
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// credentialCacheTTL bounds how long a checked registry credential is
// trusted without looking again: deleting or deactivating one takes effect
// within it.
const credentialCacheTTL = 5 * time.Second

// maxLogins bounds the login cache; past it the cache starts over.
const maxLogins = 10000

// RegistryLogin checks /v2 Basic credentials: the user "AWS" with a login
// token from GetAuthorizationToken (whose access key, or session, must
// still exist and be active), or a registry credential's id and password.
type RegistryLogin struct {
	Tokens *token.Issuer
	// Keys tells whether a token's key is still active (its cache bounds
	// how long a revoked key's tokens keep working).
	Keys  *auth.KeyLookup
	Store metadata.Store
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]login
}

// login is a cached check of one Basic credential: the principal it names
// and when it stops being valid; for a registry credential also until when
// the check may be reused (tokens are checked against their key on every
// request, so only their signature check is cached).
type login struct {
	p       auth.Principal
	expires time.Time // zero: never
	until   time.Time // registry credentials only
}

func (l *RegistryLogin) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Basic checks the Basic credentials of a /v2 request. An expired token
// is ecrmodel.ErrTokenExpired, so the client is told so in ECR's words.
func (l *RegistryLogin) Basic(ctx context.Context, user, password string) (auth.Principal, error) {
	now := l.now()
	key := sha256.Sum256([]byte(user + "\x00" + password))
	l.mu.Lock()
	c, ok := l.cache[key]
	l.mu.Unlock()
	if ok && user != "AWS" && !now.Before(c.until) {
		ok = false
	}
	if !ok {
		var err error
		if user == "AWS" {
			c, err = l.verify(password)
		} else {
			c, err = l.credential(ctx, user, password, now)
		}
		if err != nil {
			return auth.Principal{}, err
		}
		l.mu.Lock()
		if l.cache == nil || len(l.cache) >= maxLogins {
			l.cache = map[[32]byte]login{}
		}
		l.cache[key] = c
		l.mu.Unlock()
	}
	if !c.expires.IsZero() && !now.Before(c.expires) {
		return auth.Principal{}, ecrmodel.ErrTokenExpired
	}
	if user == "AWS" {
		active, err := l.Keys.Active(ctx, c.p.AccessKeyID)
		if err != nil {
			return auth.Principal{}, err
		}
		if !active {
			return auth.Principal{}, errors.New("the token's access key is revoked")
		}
	}
	return c.p, nil
}

// verify checks a login token's signature and claims.
func (l *RegistryLogin) verify(password string) (login, error) {
	p, claims, err := l.Tokens.Verify(password)
	if err != nil {
		if te := (*token.Error)(nil); errors.As(err, &te) && te.Kind == token.Expired {
			return login{}, ecrmodel.ErrTokenExpired
		}
		return login{}, err
	}
	c := login{p: p}
	if claims.ExpiresAt != nil {
		c.expires = claims.ExpiresAt.Time
	}
	return c, nil
}

// credentialPrefix starts every registry credential id.
const credentialPrefix = "BRC"

// credential checks a registry credential: its password's hash compared
// in constant time, active, unexpired, its principal still there.
func (l *RegistryLogin) credential(ctx context.Context, id, password string, now time.Time) (login, error) {
	if !strings.HasPrefix(id, credentialPrefix) {
		return login{}, errors.New("user is neither AWS nor a registry credential")
	}
	c, err := l.Store.GetRegistryCredential(ctx, id)
	if metadata.Is(err, metadata.NotFound) {
		return login{}, errors.New("unknown registry credential")
	}
	if err != nil {
		return login{}, err
	}
	sum := sha256.Sum256([]byte(password))
	if subtle.ConstantTimeCompare(sum[:], c.SecretHash) != 1 {
		return login{}, errors.New("wrong registry credential password")
	}
	if c.Status != metadata.KeyActive {
		return login{}, errors.New("registry credential is inactive")
	}
	owner, err := l.Store.GetPrincipal(ctx, c.Principal)
	if err != nil {
		return login{}, errors.New("the registry credential's principal is gone")
	}
	return login{p: CredentialPrincipal(owner, c.ID), expires: c.Expires, until: now.Add(credentialCacheTTL)}, nil
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
