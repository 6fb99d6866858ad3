package oidc

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxDocument bounds a discovery document or JWKS read from an issuer.
const maxDocument = 1 << 20

// keySet is one issuer's cached keys.
type keySet struct {
	mu      sync.Mutex
	keys    map[string]crypto.PublicKey
	fetched time.Time
}

// issuerKeys returns the entry of issuer, making it if needed. Only
// issuers the caller accepted (an IAM provider exists) reach here, so the
// map is bounded by the providers configured.
func (v *Verifier) issuerKeys(issuer string) *keySet {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.issuers == nil {
		v.issuers = map[string]*keySet{}
	}
	ks := v.issuers[issuer]
	if ks == nil {
		ks = &keySet{}
		v.issuers[issuer] = ks
	}
	return ks
}

// key returns the key kid of issuer: from the cache, else after fetching
// the issuer's keys again, at most once per RefetchInterval (an unknown
// kid cannot make berth hammer an issuer). kid "" picks the only key.
func (v *Verifier) key(ctx context.Context, issuer, kid string) (crypto.PublicKey, error) {
	ks := v.issuerKeys(issuer)
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if k, ok := pick(ks.keys, kid); ok && v.now().Sub(ks.fetched) < v.maxAge() {
		return k, nil
	}
	if ks.keys == nil || v.now().Sub(ks.fetched) >= v.refetch() {
		keys, err := v.fetchKeys(ctx, issuer)
		if err != nil {
			if k, ok := pick(ks.keys, kid); ok {
				return k, nil // a stale key beats failing while the issuer is down
			}
			return nil, err
		}
		ks.keys, ks.fetched = keys, v.now()
	}
	if k, ok := pick(ks.keys, kid); ok {
		return k, nil
	}
	return nil, errorf(NoKey, "no key "+kid, nil)
}

func pick(keys map[string]crypto.PublicKey, kid string) (crypto.PublicKey, bool) {
	if kid == "" && len(keys) == 1 {
		for _, k := range keys {
			return k, true
		}
	}
	k, ok := keys[kid]
	return k, ok && kid != ""
}

// fetchKeys reads issuer's discovery document, then its JWKS.
func (v *Verifier) fetchKeys(ctx context.Context, issuer string) (map[string]crypto.PublicKey, error) {
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, err
	}
	if strings.TrimSuffix(disc.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return nil, errorf(NoKey, "discovery document names another issuer", fmt.Errorf("issuer %q", disc.Issuer))
	}
	if !strings.HasPrefix(disc.JWKSURI, "https://") {
		return nil, errorf(NoKey, "jwks_uri is not https", nil)
	}
	var set jwks
	if err := v.getJSON(ctx, disc.JWKSURI, &set); err != nil {
		return nil, err
	}
	return set.publicKeys(), nil
}

func (v *Verifier) getJSON(ctx context.Context, url string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, v.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return errorf(NoKey, "bad issuer URL", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client().Do(req)
	if err != nil {
		return errorf(Unreachable, "issuer unreachable", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 500:
		return errorf(Unreachable, "issuer failed", fmt.Errorf("GET %s: %s", url, resp.Status))
	case resp.StatusCode != http.StatusOK:
		return errorf(NoKey, "issuer refused", fmt.Errorf("GET %s: %s", url, resp.Status))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
	if err != nil {
		return errorf(Unreachable, "issuer read failed", err)
	}
	if len(b) > maxDocument {
		return errorf(NoKey, "issuer document too large", errors.New(url))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errorf(NoKey, "issuer document is not JSON", err)
	}
	return nil
}
