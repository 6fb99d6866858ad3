// Package oidctest is an OpenID Connect issuer for tests: an HTTPS server
// with a discovery document and a JWKS, minting GitHub-Actions-shaped
// tokens with its RSA key.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer is a running test issuer.
type Issuer struct {
	Server *httptest.Server
	// URL is the issuer (https://127.0.0.1:PORT[/path]).
	URL string
	// Key signs tokens; KID names it in the JWKS.
	Key *rsa.PrivateKey
	KID string
	// JWKSFetches counts JWKS requests.
	JWKSFetches atomic.Int64

	mu    sync.Mutex
	extra map[string]*rsa.PrivateKey // further published keys by kid
}

// New starts an issuer at path ("" for the root) and stops it with t.
func New(t testing.TB, path string) *Issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &Issuer{Key: key, KID: "test-key-1", extra: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	path = strings.TrimSuffix(path, "/")
	mux.HandleFunc(path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.URL, "jwks_uri": is.URL + "/.well-known/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"id_token"}})
	})
	mux.HandleFunc(path+"/.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		is.JWKSFetches.Add(1)
		keys := []map[string]string{jwk(is.KID, &is.Key.PublicKey)}
		is.mu.Lock()
		for kid, k := range is.extra {
			keys = append(keys, jwk(kid, &k.PublicKey))
		}
		is.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	is.Server = httptest.NewTLSServer(mux)
	t.Cleanup(is.Server.Close)
	is.URL = is.Server.URL + path
	return is
}

// Host is the issuer without its scheme: what IAM calls the provider URL
// in ARNs and condition keys.
func (is *Issuer) Host() string { return strings.TrimPrefix(is.URL, "https://") }

// Rotate publishes a new key under kid (and keeps the old one), returning it.
func (is *Issuer) Rotate(t testing.TB, kid string) *rsa.PrivateKey {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is.mu.Lock()
	is.extra[kid] = key
	is.mu.Unlock()
	return key
}

// GitHubClaims are the claims of a GitHub Actions token for repo on main,
// audience sts.amazonaws.com, valid for ten minutes.
func (is *Issuer) GitHubClaims(repo string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": is.URL, "aud": "sts.amazonaws.com", "sub": "repo:" + repo + ":ref:refs/heads/main",
		"repository": repo, "ref": "refs/heads/main", "actor": "octocat", "workflow": "ci",
		"repository_id": "123456", "job_workflow_ref": repo + "/.github/workflows/ci.yml@refs/heads/main",
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

// Mint signs claims with the issuer's key (RS256, kid KID).
func (is *Issuer) Mint(t testing.TB, claims jwt.MapClaims) string {
	return is.MintWith(t, claims, is.KID, is.Key)
}

// MintWith signs claims with key under kid.
func (is *Issuer) MintWith(t testing.TB, claims jwt.MapClaims, kid string, key *rsa.PrivateKey) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// CAFile writes the server's certificate as PEM under dir and returns its
// path (for berth's iam.oidc_ca_file).
func (is *Issuer) CAFile(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "oidc-ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: is.Server.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func jwk(kid string, k *rsa.PublicKey) map[string]string {
	return map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}
