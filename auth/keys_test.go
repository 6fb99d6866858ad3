package auth

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

const testAccount = "123456789012"

// testStore opens a real SQLite store in a temporary directory.
func testStore(t *testing.T) metadata.Store {
	t.Helper()
	st, err := metadata.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clock is a settable clock shared with server goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestNewAccessKey(t *testing.T) {
	idRE := regexp.MustCompile(`^(AKIA|ASIA)[A-Z2-7]{16}$`)
	secretRE := regexp.MustCompile(`^[A-Za-z0-9/+]{40}$`)
	seen := map[string]bool{}
	for _, prefix := range []string{PrefixLongLived, PrefixTemporary, PrefixLongLived} {
		id, secret, err := NewAccessKey(prefix)
		if err != nil {
			t.Fatal(err)
		}
		if !idRE.MatchString(id) || id[:4] != prefix || !secretRE.MatchString(secret) {
			t.Fatalf("key %q / secret of %d chars does not look like AWS's", id, len(secret))
		}
		if seen[id] || seen[secret] {
			t.Fatal("repeated key material")
		}
		seen[id], seen[secret] = true, true
	}
	if _, _, err := NewAccessKey("AROA"); !isKind(err, Invalid) {
		t.Fatalf("prefix AROA: %v", err)
	}
}

func TestEnsureBootstrapAdmin(t *testing.T) {
	ctx := context.Background()
	st, kr := testStore(t), crypt.NewMemoryKeyring()
	id, secret, created, err := EnsureBootstrapAdmin(ctx, st, kr, testAccount)
	if err != nil || !created || id == "" || secret == "" {
		t.Fatalf("first start: %q, created %v, %v", id, created, err)
	}
	k, err := st.GetAccessKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if k.Principal != "arn:aws:iam::123456789012:user/berth-admin" || k.Account != testAccount || k.Status != metadata.KeyActive {
		t.Fatalf("stored key %+v", k)
	}
	if got, err := OpenSecret(kr, k.Secret); err != nil || got != secret {
		t.Fatalf("stored secret does not open to the returned one: %v", err)
	}
	id2, secret2, created, err := EnsureBootstrapAdmin(ctx, st, kr, testAccount)
	if err != nil || created || id2 != "" || secret2 != "" {
		t.Fatalf("second start: %q, created %v, %v", id2, created, err)
	}
	// A deactivated admin key still counts: the operator manages it now.
	if err := st.SetAccessKeyStatus(ctx, id, metadata.KeyInactive); err != nil {
		t.Fatal(err)
	}
	if _, _, created, err := EnsureBootstrapAdmin(ctx, st, kr, testAccount); err != nil || created {
		t.Fatalf("with an inactive key: created %v, %v", created, err)
	}
	if _, _, _, err := EnsureBootstrapAdmin(ctx, st, kr, "12345"); !isKind(err, Invalid) {
		t.Fatalf("bad account: %v", err)
	}
}

func TestKeyLookup(t *testing.T) {
	ctx := context.Background()
	st, kr := testStore(t), crypt.NewMemoryKeyring()
	id, secret, _, err := EnsureBootstrapAdmin(ctx, st, kr, testAccount)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)}
	l := &KeyLookup{Store: st, Keyring: kr, Now: clk.Now}

	c, err := l.Lookup(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := Principal{Type: TypeUser, ARN: "arn:aws:iam::123456789012:user/berth-admin", Account: testAccount, AccessKeyID: id,
		UserID: UserID("arn:aws:iam::123456789012:user/berth-admin"), Username: "berth-admin"}
	if c.AccessKeyID != id || c.Secret != secret || c.SessionToken != "" || !c.Expires.IsZero() || c.Principal != want {
		t.Fatalf("credential %v principal %+v", c, c.Principal)
	}
	if ok, err := l.Active(ctx, id); err != nil || !ok {
		t.Fatalf("active: %v %v", ok, err)
	}
	if _, err := l.Lookup(ctx, "AKIAUNKNOWNKEY000000"); !isKind(err, UnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}

	// Deactivation takes effect once the cache entry ages out.
	if err := st.SetAccessKeyStatus(ctx, id, metadata.KeyInactive); err != nil {
		t.Fatal(err)
	}
	clk.Add(DefaultKeyCacheTTL - time.Second)
	if _, err := l.Lookup(ctx, id); err != nil {
		t.Fatalf("cached entry: %v", err)
	}
	clk.Add(2 * time.Second)
	if _, err := l.Lookup(ctx, id); !isKind(err, UnknownKey) {
		t.Fatalf("inactive key: %v", err)
	}
	if ok, err := l.Active(ctx, id); err != nil || ok {
		t.Fatalf("inactive key active: %v %v", ok, err)
	}
	// Reactivated, then deleted.
	if err := st.SetAccessKeyStatus(ctx, id, metadata.KeyActive); err != nil {
		t.Fatal(err)
	}
	clk.Add(DefaultKeyCacheTTL)
	if ok, _ := l.Active(ctx, id); !ok {
		t.Fatal("reactivated key inactive")
	}
	if err := st.DeleteAccessKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.Add(DefaultKeyCacheTTL)
	if _, err := l.Lookup(ctx, id); !isKind(err, UnknownKey) {
		t.Fatalf("deleted key: %v", err)
	}

	// A secret sealed under another keyring is a fault, not an unknown key.
	other := metadata.AccessKey{ID: "AKIAOTHERKEYRING0000", Principal: UserARN(testAccount, "bob"), Account: testAccount, Status: metadata.KeyActive}
	if other.Secret, err = SealSecret(crypt.NewMemoryKeyring(), "x"); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAccessKey(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lookup(ctx, other.ID); !isKind(err, Corrupt) {
		t.Fatalf("foreign secret: %v", err)
	}
}

func TestPrincipalFor(t *testing.T) {
	p := PrincipalFor(metadata.AccessKey{ID: "AKIAX", Principal: "arn:aws:iam::210987654321:user/division/alice"})
	if p.Username != "alice" || p.Account != "210987654321" || p.AccessKeyID != "AKIAX" {
		t.Fatalf("principal %+v", p)
	}
	if !regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`).MatchString(p.UserID) || p.UserID != UserID(p.ARN) || p.UserID == UserID(UserARN("210987654321", "bob")) {
		t.Fatalf("user id %q", p.UserID)
	}
	if r := PrincipalFor(metadata.AccessKey{Principal: "arn:aws:iam::210987654321:role/ci"}); r.Username != "" {
		t.Fatalf("role username %q", r.Username)
	}
}

func isKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}
