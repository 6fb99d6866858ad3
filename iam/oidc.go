package iam

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/berth-registry/berth/metadata"
)

// Limits of IAM's OpenID Connect provider API.
const (
	maxClientIDs   = 100
	maxClientID    = 255
	maxThumbprints = 5
	maxProviderURL = 255
)

var thumbprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// ProviderARN is the ARN of account's provider for issuer URL u (with or
// without its https:// scheme): arn:aws:iam::ACCOUNT:oidc-provider/HOST[/PATH].
func ProviderARN(account, u string) string {
	return "arn:aws:iam::" + account + ":oidc-provider/" + providerKey(u)
}

// providerKey is an issuer URL as IAM keys providers and condition keys:
// without scheme and trailing slash.
func providerKey(u string) string {
	return strings.TrimSuffix(strings.TrimPrefix(u, "https://"), "/")
}

// checkProviderURL applies IAM's rules to a provider URL: https, a host,
// no query or fragment. A port is allowed (self-hosted issuers use them).
func checkProviderURL(op, raw string) error {
	if len(raw) < 1 || len(raw) > maxProviderURL {
		return errorf(op, Invalid, "1 validation error detected: Value '%s' at 'url' failed to satisfy constraint: Member must have length less than or equal to %d", raw, maxProviderURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
		strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return errorf(op, Invalid, "Invalid Openid Connect Provider URL")
	}
	return nil
}

func checkClientIDs(op string, ids []string) error {
	if len(ids) > maxClientIDs {
		return errorf(op, Limit, "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	for _, id := range ids {
		if id == "" || len(id) > maxClientID {
			return errorf(op, Invalid, "1 validation error detected: Value '%s' at 'clientIDList' failed to satisfy constraint: Member must have length between 1 and %d", id, maxClientID)
		}
	}
	return nil
}

func checkThumbprints(op string, tps []string) error {
	if len(tps) > maxThumbprints {
		return errorf(op, Limit, "Thumbprint list must contain fewer than %d entries.", maxThumbprints+1)
	}
	for _, t := range tps {
		if !thumbprintRE.MatchString(t) {
			return errorf(op, Invalid, "1 validation error detected: Value '%s' at 'thumbprintList' failed to satisfy constraint: Member must have length greater than or equal to 40", t)
		}
	}
	return nil
}

// CreateOpenIDConnectProvider registers issuer url in account. Thumbprints
// are kept and shown but not used: berth validates the issuer's TLS with
// its trust store, as IAM now does.
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, account, u string, clientIDs, thumbprints []string, tags []metadata.ResourceTag) (metadata.OIDCProvider, error) {
	const op = "CreateOpenIDConnectProvider"
	if err := checkAccount(op, account); err != nil {
		return metadata.OIDCProvider{}, err
	}
	if err := checkProviderURL(op, u); err != nil {
		return metadata.OIDCProvider{}, err
	}
	if err := checkClientIDs(op, clientIDs); err != nil {
		return metadata.OIDCProvider{}, err
	}
	if err := checkThumbprints(op, thumbprints); err != nil {
		return metadata.OIDCProvider{}, err
	}
	if err := checkTags(op, tags); err != nil {
		return metadata.OIDCProvider{}, err
	}
	p := metadata.OIDCProvider{ARN: ProviderARN(account, u), Account: account, URL: providerKey(u),
		ClientIDs: dedupe(clientIDs), Thumbprints: dedupe(thumbprints), Tags: tags, CreatedAt: s.now()}
	out, err := s.Store.CreateOIDCProvider(ctx, p)
	if err != nil {
		if metadata.Is(err, metadata.AlreadyExists) {
			return out, errorf(op, Exists, "Provider with url %s already exists.", u)
		}
		return out, storeErr(op, err, "The account "+account)
	}
	return out, nil
}

// OpenIDConnectProvider returns the provider arn.
func (s *Service) OpenIDConnectProvider(ctx context.Context, arn string) (metadata.OIDCProvider, error) {
	p, err := s.Store.GetOIDCProvider(ctx, arn)
	if err != nil {
		return p, providerErr("GetOpenIDConnectProvider", err, arn)
	}
	return p, nil
}

// OpenIDConnectProviders lists account's providers ("" = every account).
func (s *Service) OpenIDConnectProviders(ctx context.Context, account string) ([]metadata.OIDCProvider, error) {
	ps, err := s.Store.ListOIDCProviders(ctx, account)
	if err != nil {
		return nil, internal("ListOpenIDConnectProviders", err)
	}
	return ps, nil
}

// DeleteOpenIDConnectProvider removes the provider; sessions already made
// through it live on until they expire or are revoked, as on AWS.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, arn string) error {
	if err := s.Store.DeleteOIDCProvider(ctx, arn); err != nil {
		return providerErr("DeleteOpenIDConnectProvider", err, arn)
	}
	return nil
}

// UpdateOpenIDConnectProvider changes a provider's client ids and
// thumbprints (nil leaves either as is) and its tags (nil: as is).
func (s *Service) UpdateOpenIDConnectProvider(ctx context.Context, arn string, clientIDs, thumbprints []string, tags []metadata.ResourceTag) (metadata.OIDCProvider, error) {
	const op = "UpdateOpenIDConnectProvider"
	if err := checkClientIDs(op, clientIDs); err != nil {
		return metadata.OIDCProvider{}, err
	}
	if err := checkThumbprints(op, thumbprints); err != nil {
		return metadata.OIDCProvider{}, err
	}
	p, err := s.Store.UpdateOIDCProvider(ctx, arn, func(p *metadata.OIDCProvider) error {
		if clientIDs != nil {
			p.ClientIDs = dedupe(clientIDs)
		}
		if thumbprints != nil {
			p.Thumbprints = dedupe(thumbprints)
		}
		if tags != nil {
			p.Tags = tags
		}
		return nil
	})
	if err != nil {
		return p, providerErr(op, err, arn)
	}
	return p, nil
}

func providerErr(op string, err error, arn string) error {
	if metadata.Is(err, metadata.NotFound) {
		return errorf(op, NotFound, "OpenIDConnect Provider not found for arn %s", arn)
	}
	return internal(op, err)
}

// dedupe keeps the first of each value, in order.
func dedupe(vs []string) []string {
	var out []string
	for _, v := range vs {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
