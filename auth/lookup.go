package auth

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// DefaultKeyCacheTTL bounds how long a deactivated or deleted key keeps
// working on a node.
const DefaultKeyCacheTTL = 5 * time.Second

// maxCached bounds the cache; past it the cache starts over (random key
// ids from a scanner must not grow memory).
const maxCached = 10000

// KeyLookup resolves access keys from the metadata store for SigV4
// verification and token revocation checks. Results, including "unknown",
// are cached for TTL so a busy client does not cost a store read per
// request, and a revoked key stops working within TTL.
type KeyLookup struct {
	Store   metadata.Store
	Keyring *crypt.Keyring
	// TTL is the cache lifetime (DefaultKeyCacheTTL when zero).
	TTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	at     time.Time
	found  bool
	active bool
	cred   Credential
}

// Lookup is a sigv4.Verifier Lookup: an unknown or inactive key is an
// *Error of Kind UnknownKey (the verifier answers
// UnrecognizedClientException), a store failure Kind Store.
func (l *KeyLookup) Lookup(ctx context.Context, accessKeyID string) (Credential, error) {
	e, err := l.get(ctx, accessKeyID)
	if err != nil {
		return Credential{}, err
	}
	if !e.found || !e.active {
		return Credential{}, &Error{Op: "KeyLookup", Kind: UnknownKey}
	}
	return e.cred, nil
}

// Active reports whether the key exists and is active: a login token dies
// with the key it was issued to. A session's tokens outlive its expiry as
// ECR's do (the ECS agent keeps a token for hours while the execution
// role's credentials rotate), but not its revocation.
func (l *KeyLookup) Active(ctx context.Context, accessKeyID string) (bool, error) {
	e, err := l.get(ctx, accessKeyID)
	if err != nil {
		return false, err
	}
	return e.found && e.active, nil
}

func (l *KeyLookup) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *KeyLookup) get(ctx context.Context, id string) (cachedKey, error) {
	ttl := l.TTL
	if ttl <= 0 {
		ttl = DefaultKeyCacheTTL
	}
	now := l.now()
	l.mu.Lock()
	e, ok := l.cache[id]
	l.mu.Unlock()
	if ok && now.Sub(e.at) < ttl && now.Sub(e.at) >= 0 {
		return e, nil
	}
	e, err := l.load(ctx, id)
	if err != nil {
		return cachedKey{}, err
	}
	e.at = now
	l.mu.Lock()
	if l.cache == nil || len(l.cache) >= maxCached {
		l.cache = map[string]cachedKey{}
	}
	l.cache[id] = e
	l.mu.Unlock()
	return e, nil
}

// load reads one key from the store and opens its secret: a long-lived
// key (AKIA…) of a user or service principal, or an STS session (ASIA…).
func (l *KeyLookup) load(ctx context.Context, id string) (cachedKey, error) {
	if strings.HasPrefix(id, PrefixTemporary) {
		return l.loadSession(ctx, id)
	}
	k, err := l.Store.GetAccessKey(ctx, id)
	switch {
	case metadata.Is(err, metadata.NotFound):
		return cachedKey{}, nil
	case err != nil:
		return cachedKey{}, &Error{Op: "KeyLookup", Kind: Store, Err: err}
	case k.Status != metadata.KeyActive:
		// Inactive keys are not opened: nothing will use the secret.
		return cachedKey{found: true}, nil
	}
	p, err := l.owner(ctx, k)
	if err != nil {
		return cachedKey{}, err
	}
	secret, err := OpenSecret(l.Keyring, k.Secret)
	if err != nil {
		return cachedKey{}, err
	}
	return cachedKey{found: true, active: true, cred: Credential{AccessKeyID: k.ID, Secret: secret, Principal: p}}, nil
}

// owner describes who a long-lived key belongs to: the user's stored
// record when there is one (its unique id), else what the key row says.
func (l *KeyLookup) owner(ctx context.Context, k metadata.AccessKey) (Principal, error) {
	p := PrincipalFor(k)
	if p.Type != TypeUser {
		return p, nil
	}
	u, err := l.Store.GetPrincipal(ctx, k.Principal)
	switch {
	case metadata.Is(err, metadata.NotFound):
		return p, nil
	case err != nil:
		return Principal{}, &Error{Op: "KeyLookup", Kind: Store, Err: err}
	}
	p.UserID, p.Username = u.ID, u.Name
	return p, nil
}

// loadSession reads an STS session. An expired one is returned with its
// expiry: the verifier answers ExpiredToken for it.
func (l *KeyLookup) loadSession(ctx context.Context, id string) (cachedKey, error) {
	s, err := l.Store.GetSession(ctx, id)
	switch {
	case metadata.Is(err, metadata.NotFound):
		return cachedKey{}, nil
	case err != nil:
		return cachedKey{}, &Error{Op: "KeyLookup", Kind: Store, Err: err}
	}
	role, err := l.Store.GetPrincipal(ctx, s.RoleARN)
	switch {
	case metadata.Is(err, metadata.NotFound):
		return cachedKey{}, nil // the role is gone, and its sessions with it
	case err != nil:
		return cachedKey{}, &Error{Op: "KeyLookup", Kind: Store, Err: err}
	}
	secret, token, err := OpenSession(l.Keyring, s.Sealed)
	if err != nil {
		return cachedKey{}, err
	}
	if role.Kind == metadata.KindUser {
		// GetSessionToken: the session is the user itself, with temporary
		// credentials.
		return cachedKey{found: true, active: true, cred: Credential{
			AccessKeyID: id, Secret: secret, SessionToken: token, Expires: s.Expires,
			Principal: Principal{Type: TypeUser, ARN: role.ARN, Account: s.Account, AccessKeyID: id, UserID: role.ID, Username: role.Name},
		}}, nil
	}
	return cachedKey{found: true, active: true, cred: Credential{
		AccessKeyID: id, Secret: secret, SessionToken: token, Expires: s.Expires,
		Principal: Principal{
			Type: TypeAssumedRole, ARN: SessionARN(s.Account, role.Name, s.SessionName), Account: s.Account,
			AccessKeyID: id, UserID: role.ID + ":" + s.SessionName, RoleARN: s.RoleARN, SessionName: s.SessionName,
		},
	}}, nil
}
