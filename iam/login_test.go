package iam

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/token"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// loginEnv adds a token issuer and the RegistryLogin under test, all on
// the env's clock.
type loginEnv struct {
	*env
	issuer *token.Issuer
	login  *RegistryLogin
}

func newLoginEnv(t *testing.T) *loginEnv {
	t.Helper()
	e := newEnv(t)
	k, err := token.LoadOrCreate(filepath.Join(t.TempDir(), "keys", "token-keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	is := &token.Issuer{Keys: k, Now: e.clk.Now}
	return &loginEnv{env: e, issuer: is, login: &RegistryLogin{Tokens: is, Keys: e.keys, Store: e.st, Now: e.clk.Now}}
}

// tokenFor issues a login token to the owner of access key id, as
// GetAuthorizationToken does for the caller.
func (l *loginEnv) tokenFor(id string) (string, auth.Principal) {
	l.t.Helper()
	cred, err := (&auth.KeyLookup{Store: l.st, Keyring: l.kr, Now: l.clk.Now}).Lookup(l.ctx, id)
	l.must(err)
	pw, _, err := l.issuer.Issue(l.ctx, cred.Principal)
	l.must(err)
	return pw, cred.Principal
}

func (l *loginEnv) userKey(name string) (metadata.Principal, string) {
	l.t.Helper()
	u, err := l.svc.CreateUser(l.ctx, acctA, name, "/", nil)
	l.must(err)
	id, _, err := l.svc.CreateAccessKey(l.ctx, u.ARN)
	l.must(err)
	return u, id
}

// TestRegistryLoginRevocation: every kind of login works, keeps working
// from the cache for credentialCacheTTL after its key, session, credential or
// owner is revoked, and is refused after.
func TestRegistryLoginRevocation(t *testing.T) {
	type login struct {
		user, password string
		want           auth.Principal
	}
	tests := []struct {
		name   string
		setup  func(l *loginEnv) login
		revoke func(l *loginEnv, lg login)
	}{
		{
			name: "user key token, key deactivated",
			setup: func(l *loginEnv) login {
				_, id := l.userKey("alice")
				pw, p := l.tokenFor(id)
				return login{"AWS", pw, p}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.SetAccessKeyStatus(l.ctx, lg.want.AccessKeyID, false)) },
		},
		{
			name: "user key token, key deleted",
			setup: func(l *loginEnv) login {
				_, id := l.userKey("alice")
				pw, p := l.tokenFor(id)
				return login{"AWS", pw, p}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.DeleteAccessKey(l.ctx, lg.want.AccessKeyID)) },
		},
		{
			name: "user key token, user deleted",
			setup: func(l *loginEnv) login {
				_, id := l.userKey("alice")
				pw, p := l.tokenFor(id)
				return login{"AWS", pw, p}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.DeletePrincipal(l.ctx, lg.want.ARN)) },
		},
		{
			name: "session token, sessions revoked",
			setup: func(l *loginEnv) login {
				u := l.user(acctA, "alice", nil)
				r := l.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
				out, _ := l.assume(u, stsIn(r.ARN, "build-1", nil))
				pw, p := l.tokenFor(out.AccessKeyID)
				if p.Type != auth.TypeAssumedRole || p.RoleARN != r.ARN {
					l.t.Fatalf("session principal %+v", p)
				}
				return login{"AWS", pw, p}
			},
			revoke: func(l *loginEnv, lg login) {
				if _, err := l.svc.RevokeSessions(l.ctx, lg.want.RoleARN); err != nil {
					l.t.Fatal(err)
				}
			},
		},
		{
			name: "session token, role deleted",
			setup: func(l *loginEnv) login {
				u := l.user(acctA, "alice", nil)
				r := l.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
				out, _ := l.assume(u, stsIn(r.ARN, "build-1", nil))
				pw, p := l.tokenFor(out.AccessKeyID)
				return login{"AWS", pw, p}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.DeletePrincipal(l.ctx, lg.want.RoleARN)) },
		},
		{
			name: "role registry credential, deleted",
			setup: func(l *loginEnv) login {
				r := l.role(acctA, "ecsInstanceRole", "", nil)
				user, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
				l.must(err)
				want := auth.Principal{Type: auth.TypeAssumedRole, ARN: "arn:aws:sts::111111111111:assumed-role/ecsInstanceRole/" + user,
					Account: acctA, AccessKeyID: user, UserID: r.ID + ":" + user, RoleARN: r.ARN, SessionName: user}
				return login{user, pw, want}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.DeleteRegistryCredential(l.ctx, lg.user)) },
		},
		{
			name: "role registry credential, role deleted",
			setup: func(l *loginEnv) login {
				r := l.role(acctA, "ecsInstanceRole", "", nil)
				user, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
				l.must(err)
				want := auth.Principal{Type: auth.TypeAssumedRole, ARN: "arn:aws:sts::111111111111:assumed-role/ecsInstanceRole/" + user,
					Account: acctA, AccessKeyID: user, UserID: r.ID + ":" + user, RoleARN: r.ARN, SessionName: user}
				return login{user, pw, want}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.DeletePrincipal(l.ctx, lg.want.RoleARN)) },
		},
		{
			name: "user registry credential, deleted",
			setup: func(l *loginEnv) login {
				u, err := l.svc.CreateUser(l.ctx, acctA, "puller", "/ci/", nil)
				l.must(err)
				user, pw, err := l.svc.CreateRegistryCredential(l.ctx, u.ARN, 0)
				l.must(err)
				want := auth.Principal{Type: auth.TypeUser, ARN: "arn:aws:iam::111111111111:user/ci/puller", Account: acctA,
					AccessKeyID: user, UserID: u.ID, Username: "puller"}
				return login{user, pw, want}
			},
			revoke: func(l *loginEnv, lg login) { l.must(l.svc.DeleteRegistryCredential(l.ctx, lg.user)) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoginEnv(t)
			lg := tc.setup(l)
			p, err := l.login.Basic(l.ctx, lg.user, lg.password)
			if err != nil {
				t.Fatalf("Basic: %v", err)
			}
			if p != lg.want {
				t.Fatalf("principal\n got %+v\nwant %+v", p, lg.want)
			}
			tc.revoke(l, lg)
			l.clk.Advance(credentialCacheTTL - time.Second)
			if _, err := l.login.Basic(l.ctx, lg.user, lg.password); err != nil {
				t.Fatalf("within the cache lifetime: %v", err)
			}
			l.clk.Advance(time.Second)
			_, err = l.login.Basic(l.ctx, lg.user, lg.password)
			if err == nil {
				t.Fatal("still accepted after the cache lifetime")
			}
			if errors.Is(err, ecrmodel.ErrTokenExpired) {
				t.Fatalf("revoked login answered as expired: %v", err)
			}
		})
	}
}

func TestRegistryLoginRefusals(t *testing.T) {
	tests := []struct {
		name    string
		creds   func(l *loginEnv) (string, string)
		expired bool
	}{
		{"wrong credential password", func(l *loginEnv) (string, string) {
			r := l.role(acctA, "r", "", nil)
			user, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
			l.must(err)
			return user, pw + "x"
		}, false},
		{"another credential's password", func(l *loginEnv) (string, string) {
			r := l.role(acctA, "r", "", nil)
			u1, _, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
			l.must(err)
			_, pw2, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
			l.must(err)
			return u1, pw2
		}, false},
		{"unknown credential", func(l *loginEnv) (string, string) { return "BRCAAAAAAAAAAAAAAAA", "whatever" }, false},
		{"user neither AWS nor a credential", func(l *loginEnv) (string, string) {
			r := l.role(acctA, "r", "", nil)
			_, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
			l.must(err)
			return "admin", pw
		}, false},
		{"token as a credential user", func(l *loginEnv) (string, string) {
			_, id := l.userKey("alice")
			pw, _ := l.tokenFor(id)
			return "aws", pw
		}, false},
		{"garbage token", func(l *loginEnv) (string, string) { return "AWS", "not.a.token" }, false},
		{"token of another issuer", func(l *loginEnv) (string, string) {
			_, id := l.userKey("alice")
			cred, err := l.keys.Lookup(l.ctx, id)
			l.must(err)
			k, err := token.LoadOrCreate(filepath.Join(l.t.TempDir(), "other.json"))
			l.must(err)
			pw, _, err := (&token.Issuer{Keys: k, Now: l.clk.Now}).Issue(l.ctx, cred.Principal)
			l.must(err)
			return "AWS", pw
		}, false},
		{"token of an inactive key", func(l *loginEnv) (string, string) {
			_, id := l.userKey("alice")
			pw, _ := l.tokenFor(id)
			l.must(l.svc.SetAccessKeyStatus(l.ctx, id, false))
			l.clk.Advance(auth.DefaultKeyCacheTTL)
			return "AWS", pw
		}, false},
		{"expired token", func(l *loginEnv) (string, string) {
			_, id := l.userKey("alice")
			pw, _ := l.tokenFor(id)
			l.clk.Advance(token.DefaultTTL + 10*time.Second)
			return "AWS", pw
		}, true},
		{"expired registry credential", func(l *loginEnv) (string, string) {
			r := l.role(acctA, "r", "", nil)
			user, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, time.Hour)
			l.must(err)
			l.clk.Advance(time.Hour)
			return user, pw
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoginEnv(t)
			user, pw := tc.creds(l)
			p, err := l.login.Basic(l.ctx, user, pw)
			if err == nil {
				t.Fatalf("accepted as %+v", p)
			}
			if got := errors.Is(err, ecrmodel.ErrTokenExpired); got != tc.expired {
				t.Fatalf("error %v: ErrTokenExpired %v, want %v", err, got, tc.expired)
			}
		})
	}
}

// TestRegistryLoginExpiry: expiry is noticed whether the verdict is cached
// or not, and a credential with a ttl works until it runs out.
func TestRegistryLoginExpiry(t *testing.T) {
	t.Run("token expiring while cached", func(t *testing.T) {
		l := newLoginEnv(t)
		l.issuer.TTL = time.Hour
		_, id := l.userKey("alice")
		pw, _ := l.tokenFor(id)
		l.clk.Advance(time.Hour - 2*time.Second)
		if _, err := l.login.Basic(l.ctx, "AWS", pw); err != nil {
			t.Fatalf("two seconds before expiry: %v", err)
		}
		l.clk.Advance(3 * time.Second) // cached, but past the token's exp
		if _, err := l.login.Basic(l.ctx, "AWS", pw); !errors.Is(err, ecrmodel.ErrTokenExpired) {
			t.Fatalf("past expiry from the cache: %v, want ErrTokenExpired", err)
		}
	})
	t.Run("token expired, not cached", func(t *testing.T) {
		l := newLoginEnv(t)
		l.issuer.TTL = time.Hour
		_, id := l.userKey("alice")
		pw, _ := l.tokenFor(id)
		if _, err := l.login.Basic(l.ctx, "AWS", pw); err != nil {
			t.Fatal(err)
		}
		l.clk.Advance(time.Hour + time.Minute)
		if _, err := l.login.Basic(l.ctx, "AWS", pw); !errors.Is(err, ecrmodel.ErrTokenExpired) {
			t.Fatalf("past expiry: %v, want ErrTokenExpired", err)
		}
	})
	t.Run("session token outlives the session's expiry", func(t *testing.T) {
		l := newLoginEnv(t)
		u := l.user(acctA, "alice", nil)
		r := l.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
		out, _ := l.assume(u, stsIn(r.ARN, "s", nil))
		pw, _ := l.tokenFor(out.AccessKeyID)
		l.clk.Advance(3 * time.Hour)
		if _, err := l.login.Basic(l.ctx, "AWS", pw); err != nil {
			t.Fatalf("token of an expired (not revoked) session: %v", err)
		}
	})
	t.Run("credential ttl", func(t *testing.T) {
		l := newLoginEnv(t)
		r := l.role(acctA, "r", "", nil)
		user, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 10*time.Minute)
		l.must(err)
		l.clk.Advance(10*time.Minute - 3*time.Second)
		if _, err := l.login.Basic(l.ctx, user, pw); err != nil {
			t.Fatalf("before the ttl: %v", err)
		}
		l.clk.Advance(3 * time.Second) // cached verdict, expired credential
		if _, err := l.login.Basic(l.ctx, user, pw); !errors.Is(err, ecrmodel.ErrTokenExpired) {
			t.Fatalf("at the ttl: %v, want ErrTokenExpired", err)
		}
	})
	t.Run("credential without ttl", func(t *testing.T) {
		l := newLoginEnv(t)
		r := l.role(acctA, "r", "", nil)
		user, pw, err := l.svc.CreateRegistryCredential(l.ctx, r.ARN, 0)
		l.must(err)
		c, err := l.st.GetRegistryCredential(l.ctx, user)
		l.must(err)
		if !c.Expires.IsZero() || !strings.HasPrefix(user, "BRC") || len(c.SecretHash) != 32 {
			t.Fatalf("stored credential %+v", c)
		}
		l.clk.Advance(24 * 365 * time.Hour)
		if _, err := l.login.Basic(l.ctx, user, pw); err != nil {
			t.Fatalf("a year later: %v", err)
		}
	})
}

// TestRegistryLoginRevocationBound: "revoking a key ... takes effect
// within" credentialCacheTTL (login.go), also when the shared KeyLookup had
// looked the key up (a SigV4 call) just before it was revoked.
func TestRegistryLoginRevocationBound(t *testing.T) {
	l := newLoginEnv(t)
	_, id := l.userKey("alice")
	pw, _ := l.tokenFor(id)
	if _, err := l.keys.Lookup(l.ctx, id); err != nil { // a signed API call
		t.Fatal(err)
	}
	l.must(l.svc.SetAccessKeyStatus(l.ctx, id, false))
	revoked := l.clk.Now()
	l.clk.Advance(credentialCacheTTL - 100*time.Millisecond)
	_, _ = l.login.Basic(l.ctx, "AWS", pw) // first /v2 request: may still pass
	l.clk.Advance(credentialCacheTTL - 200*time.Millisecond)
	if _, err := l.login.Basic(l.ctx, "AWS", pw); err == nil {
		t.Fatalf("token of a key deactivated %v ago still accepted (bound: %v)", l.clk.Now().Sub(revoked), credentialCacheTTL)
	}
}
