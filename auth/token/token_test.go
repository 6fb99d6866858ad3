package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/berth-registry/berth/auth"
)

var alice = auth.Principal{
	ARN: "arn:aws:iam::123456789012:user/alice", Account: "123456789012",
	AccessKeyID: "AKIAIOSFODNN7EXAMPLE", UserID: "AIDAEXAMPLEUSERID0001", Username: "alice",
}

func newKeys(t *testing.T) (*Keys, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys", "token-keys.json")
	k, err := LoadOrCreate(p)
	if err != nil {
		t.Fatal(err)
	}
	return k, p
}

func issue(t *testing.T, is *Issuer, p auth.Principal) string {
	t.Helper()
	pw, _, err := is.Issue(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return pw
}

func wantKind(t *testing.T, err error, k Kind) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("error %v, want kind %v", err, k)
	}
}

func TestRoundTrip(t *testing.T) {
	k, _ := newKeys(t)
	now := time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)
	is := &Issuer{Keys: k, Issuer: "berth-test", Now: func() time.Time { return now }}
	pw, exp, err := is.Issue(context.Background(), alice)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(pw, ":") || strings.Count(pw, ".") != 2 {
		t.Fatalf("password %q is not a colon-free compact JWT", pw)
	}
	if !exp.Equal(now.Add(12 * time.Hour)) {
		t.Fatalf("expires %v", exp)
	}
	p, c, err := is.Verify(pw)
	if err != nil {
		t.Fatal(err)
	}
	if p != alice {
		t.Fatalf("principal %+v", p)
	}
	if c.Issuer != "berth-test" || c.ID == "" || !c.IssuedAt.Equal(now) || !c.ExpiresAt.Equal(exp) {
		t.Fatalf("claims %+v", c)
	}
	hdr := segment(t, pw, 0)
	if hdr["alg"] != "ES256" || hdr["kid"] != k.Current() {
		t.Fatalf("header %v", hdr)
	}
	// Every token is distinct (jti).
	if pw2 := issue(t, is, alice); pw2 == pw {
		t.Fatal("two tokens are identical")
	}
}

func TestVerifyRejects(t *testing.T) {
	k, _ := newKeys(t)
	now := time.Date(2026, 11, 25, 0, 30, 0, 0, time.UTC)
	clock := now
	is := &Issuer{Keys: k, Now: func() time.Time { return clock }}
	pw := issue(t, is, alice)
	current := k.Current()
	other, _ := newKeys(t)

	cases := []struct {
		name string
		at   time.Time
		pw   func() string
		kind Kind
	}{
		{"valid within leeway", now.Add(12*time.Hour + 3*time.Second), func() string { return pw }, 0},
		{"expired", now.Add(12*time.Hour + time.Minute), func() string { return pw }, Expired},
		{"not yet valid", now.Add(-time.Hour), func() string { return pw }, Invalid},
		{"tampered payload", now, func() string { return withClaims(t, pw, func(m map[string]any) { m["usr"] = "admin" }) }, Invalid},
		{"tampered expiry", now.Add(13 * time.Hour), func() string {
			return withClaims(t, pw, func(m map[string]any) { m["exp"] = now.Add(48 * time.Hour).Unix() })
		}, Invalid},
		{"signed by another key set", now, func() string { return issue(t, &Issuer{Keys: other, Now: is.Now}, alice) }, Invalid},
		{"other key under the current kid", now, func() string {
			pk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			return sign(t, jwt.SigningMethodES256, current, pk, now)
		}, Invalid},
		{"alg none", now, func() string {
			return sign(t, jwt.SigningMethodNone, current, jwt.UnsafeAllowNoneSignatureType, now)
		}, Invalid},
		{"HS256 keyed with the public key (PEM)", now, func() string {
			return sign(t, jwt.SigningMethodHS256, current, publicPEM(t, k, current), now)
		}, Invalid},
		{"HS256 keyed with the public key (DER)", now, func() string {
			der, _ := x509.MarshalPKIXPublicKey(&k.keys[current].PublicKey)
			return sign(t, jwt.SigningMethodHS256, current, der, now)
		}, Invalid},
		{"wrong issuer", now, func() string { return issue(t, &Issuer{Keys: k, Issuer: "evil", Now: is.Now}, alice) }, Invalid},
		{"no kid", now, func() string { return sign(t, jwt.SigningMethodES256, "", k.keys[current], now) }, Invalid},
		{"garbage", now, func() string { return "not-a-token" }, Invalid},
		{"empty", now, func() string { return "" }, Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock = now
			tok := c.pw()
			clock = c.at
			_, _, err := is.Verify(tok)
			if c.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantKind(t, err, c.kind)
			if tok != "" && strings.Contains(err.Error(), tok) {
				t.Fatal("error repeats the token")
			}
		})
	}
}

func TestRotation(t *testing.T) {
	// LoadOrCreate makes the first key on the real clock.
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	p := filepath.Join(t.TempDir(), "token-keys.json")
	k, err := LoadOrCreate(p)
	if err != nil {
		t.Fatal(err)
	}
	k.Now = clock
	is := &Issuer{Keys: k, Now: clock}
	first := k.Current()
	old := issue(t, is, alice)

	now = now.Add(time.Hour)
	second, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if second == first || k.Current() != second {
		t.Fatalf("rotate: current %s, first %s, second %s", k.Current(), first, second)
	}
	fresh := issue(t, is, alice)
	for _, pw := range []string{old, fresh} {
		if _, _, err := is.Verify(pw); err != nil {
			t.Fatalf("after rotation: %v", err)
		}
	}
	if kid := segment(t, fresh, 0)["kid"]; kid != second {
		t.Fatalf("new token kid %v, want %s", kid, second)
	}

	// The first key retired when the second was made; its last tokens
	// expired 12 h later, so a rotation after that drops it.
	now = now.Add(12*time.Hour + 10*time.Minute)
	third, err := k.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(k.KIDs(), ","); got != second+","+third {
		t.Fatalf("keys after pruning %s, want %s,%s", got, second, third)
	}
	// A fresh copy of the file agrees.
	k2, err := LoadOrCreate(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(k2.KIDs(), ","); got != second+","+third || k2.Current() != third {
		t.Fatalf("file holds %s current %s", got, k2.Current())
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "secrets")
	p := filepath.Join(dir, "token-keys.json")
	k, err := LoadOrCreate(p)
	if err != nil {
		t.Fatal(err)
	}
	check := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Fatalf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	check(dir, 0o700)
	check(p, 0o600)
	if _, err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	check(p, 0o600)
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(p); err != nil {
		t.Fatal(err)
	}
	check(p, 0o600)
	// Nothing else is left in the directory (no temporary files).
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries", len(ents))
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "BEGIN PRIVATE KEY") {
		t.Fatal("file does not hold PKCS#8 keys")
	}
}

// TestSharedFile: two processes (two *Keys on one file); one rotates, the
// other verifies the new tokens and signs with the new key.
func TestSharedFile(t *testing.T) {
	k1, p := newKeys(t)
	k2, err := LoadOrCreate(p)
	if err != nil {
		t.Fatal(err)
	}
	is1, is2 := &Issuer{Keys: k1}, &Issuer{Keys: k2}
	if _, _, err := is1.Verify(issue(t, is2, alice)); err != nil {
		t.Fatal(err)
	}
	kid, err := k2.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := is1.Verify(issue(t, is2, alice)); err != nil {
		t.Fatalf("unknown kid not reloaded: %v", err)
	}
	if got := segment(t, issue(t, is1, alice), 0)["kid"]; got != kid {
		t.Fatalf("other process still signs with %v, want %s", got, kid)
	}
}

func TestIssueNeedsARN(t *testing.T) {
	k, _ := newKeys(t)
	_, _, err := (&Issuer{Keys: k}).Issue(context.Background(), auth.Principal{})
	wantKind(t, err, Invalid)
}

// segment decodes part i (0 header, 1 claims) of a compact JWT.
func segment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withClaims edits the claims of tok and keeps its signature.
func withClaims(t *testing.T, tok string, edit func(map[string]any)) string {
	t.Helper()
	m := segment(t, tok, 1)
	edit(m)
	b, _ := json.Marshal(m)
	parts := strings.Split(tok, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// sign makes a token for alice with an arbitrary method, kid and key.
func sign(t *testing.T, m jwt.SigningMethod, kid string, key any, now time.Time) string {
	t.Helper()
	c := Claims{RegisteredClaims: jwt.RegisteredClaims{
		Issuer: DefaultIssuer, Subject: alice.ARN, IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}}
	tk := jwt.NewWithClaims(m, c)
	if kid != "" {
		tk.Header["kid"] = kid
	}
	s, err := tk.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func publicPEM(t *testing.T, k *Keys, kid string) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.keys[kid].PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
