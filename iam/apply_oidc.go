package iam

import (
	"context"
	"fmt"
	"slices"

	"github.com/berth-registry/berth/metadata"
)

// applyProviders creates the file's OIDC providers of a and sets the
// client ids of those that exist; providers it does not list are left
// alone, like every other entity.
func (s *Service) applyProviders(ctx context.Context, a FileAccount, res *Applied) error {
	for _, p := range a.OIDCProviders {
		arn := ProviderARN(a.ID, p.URL)
		cur, err := s.Store.GetOIDCProvider(ctx, arn)
		switch {
		case err == nil && slices.Equal(cur.ClientIDs, dedupe(p.ClientIDs)):
			continue
		case err == nil:
			if _, err := s.UpdateOpenIDConnectProvider(ctx, arn, append([]string{}, p.ClientIDs...), nil, nil); err != nil {
				return fmt.Errorf("account %s oidc provider %s: %w", a.ID, p.URL, err)
			}
			res.Updated++
		case metadata.Is(err, metadata.NotFound):
			if _, err := s.CreateOpenIDConnectProvider(ctx, a.ID, p.URL, p.ClientIDs, nil, nil); err != nil {
				return fmt.Errorf("account %s oidc provider %s: %w", a.ID, p.URL, err)
			}
			res.Created++
		default:
			return internal("Apply", err)
		}
	}
	return nil
}
