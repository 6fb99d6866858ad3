package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth/oidc"
	"github.com/berth-registry/berth/auth/oidc/oidctest"
	"github.com/golang-jwt/jwt/v5"
)

func kindOf(err error) oidc.Kind {
	var e *oidc.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func TestVerify(t *testing.T) {
	is := oidctest.New(t, "/tenant")
	v := &oidc.Verifier{Client: is.Server.Client(), Refetch: time.Hour}
	ctx := context.Background()

	good := is.Mint(t, is.GitHubClaims("org/repo"))
	if iss, err := oidc.Issuer(good); err != nil || iss != is.URL {
		t.Fatalf("Issuer = %q, %v", iss, err)
	}
	c, err := v.Verify(ctx, good, is.URL)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "repo:org/repo:ref:refs/heads/main" || len(c.Audience) != 1 || c.Audience[0] != "sts.amazonaws.com" {
		t.Fatalf("claims = %+v", c)
	}
	if s, ok := c.StringClaim("repository"); !ok || s != "org/repo" {
		t.Fatalf("repository = %q", s)
	}
	// Cached: a second token costs no fetch.
	if _, err := v.Verify(ctx, is.Mint(t, is.GitHubClaims("org/other")), is.URL); err != nil || is.JWKSFetches.Load() != 1 {
		t.Fatalf("second verify: %v, fetches %d", err, is.JWKSFetches.Load())
	}

	expired := is.GitHubClaims("org/repo")
	expired["exp"] = time.Now().Add(-6 * time.Minute).Unix()
	withinSkew := is.GitHubClaims("org/repo")
	withinSkew["exp"] = time.Now().Add(-4 * time.Minute).Unix()
	future := is.GitHubClaims("org/repo")
	future["nbf"] = time.Now().Add(10 * time.Minute).Unix()
	noExp := is.GitHubClaims("org/repo")
	delete(noExp, "exp")
	otherIss := is.GitHubClaims("org/repo")
	otherIss["iss"] = "https://elsewhere.example"
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+is.URL+`","sub":"repo:evil/repo","aud":"sts.amazonaws.com","exp":9999999999}`)) + "." + parts[2]
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, is.GitHubClaims("org/repo"))
	hsTok, _ := hs.SignedString([]byte("secret"))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, is.GitHubClaims("org/repo"))
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	for _, tc := range []struct {
		name, token string
		want        oidc.Kind
	}{
		{"expired", is.Mint(t, expired), oidc.Expired},
		{"within skew", is.Mint(t, withinSkew), 0},
		{"not yet valid", is.Mint(t, future), oidc.Expired},
		{"no exp", is.Mint(t, noExp), oidc.Invalid},
		{"other issuer", is.Mint(t, otherIss), oidc.Invalid},
		{"tampered", tampered, oidc.Invalid},
		{"HS256", hsTok, oidc.Invalid},
		{"none", noneTok, oidc.Invalid},
		{"garbage", "a.b.c", oidc.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, tc.token, is.URL)
			if kindOf(err) != tc.want || (tc.want == 0) != (err == nil) {
				t.Fatalf("err = %v, want kind %d", err, tc.want)
			}
		})
	}
}

func TestUnknownKidRefetchBounded(t *testing.T) {
	is := oidctest.New(t, "")
	v := &oidc.Verifier{Client: is.Server.Client(), Refetch: time.Hour}
	ctx := context.Background()
	if _, err := v.Verify(ctx, is.Mint(t, is.GitHubClaims("o/r")), is.URL); err != nil {
		t.Fatal(err)
	}
	// A kid the issuer never published: refused, and the refetch interval
	// keeps it from costing a fetch per token.
	for range 3 {
		_, err := v.Verify(ctx, is.MintWith(t, is.GitHubClaims("o/r"), "nope", is.Key), is.URL)
		if kindOf(err) != oidc.NoKey {
			t.Fatalf("unknown kid: %v", err)
		}
	}
	if n := is.JWKSFetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1 (refetch bounded)", n)
	}
	// A rotated key is found by one refetch once the interval allows.
	v2 := &oidc.Verifier{Client: is.Server.Client(), Refetch: time.Nanosecond}
	if _, err := v2.Verify(ctx, is.Mint(t, is.GitHubClaims("o/r")), is.URL); err != nil {
		t.Fatal(err)
	}
	k2 := is.Rotate(t, "k2")
	if _, err := v2.Verify(ctx, is.MintWith(t, is.GitHubClaims("o/r"), "k2", k2), is.URL); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
}

func TestIssuerUnreachableOrUntrusted(t *testing.T) {
	is := oidctest.New(t, "")
	tok := is.Mint(t, is.GitHubClaims("o/r"))
	// The system trust store does not hold the test CA.
	v := &oidc.Verifier{}
	if _, err := v.Verify(context.Background(), tok, is.URL); kindOf(err) != oidc.Unreachable {
		t.Fatalf("untrusted: %v", err)
	}
	// With the CA file it verifies.
	cli, err := oidc.NewClient(is.CAFile(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&oidc.Verifier{Client: cli}).Verify(context.Background(), tok, is.URL); err != nil {
		t.Fatal(err)
	}
	is.Server.Close()
	if _, err := (&oidc.Verifier{Client: cli}).Verify(context.Background(), tok, is.URL); kindOf(err) != oidc.Unreachable {
		t.Fatalf("down: %v", err)
	}
}

func TestES256(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var url string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": url, "jwks_uri": url + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		b := func(x []byte) string { return base64.RawURLEncoding.EncodeToString(x) }
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "EC", "crv": "P-256", "kid": "e",
			"x": b(key.X.FillBytes(make([]byte, 32))), "y": b(key.Y.FillBytes(make([]byte, 32)))}}})
	})
	srv := httptest.NewTLSServer(mux)
	defer srv.Close()
	url = srv.URL
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": url, "sub": "s", "aud": "a", "exp": time.Now().Add(time.Minute).Unix()})
	tok.Header["kid"] = "e"
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&oidc.Verifier{Client: srv.Client()}).Verify(context.Background(), s, url); err != nil {
		t.Fatal(err)
	}
}
