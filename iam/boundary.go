package iam

import (
	"context"
	"strings"

	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
)

// CheckBoundary reports whether policyARN can be a permissions boundary of
// a principal of account: an AWS managed policy berth knows, or a
// customer managed policy of that account (NotFound in IAM's words
// otherwise).
func (s *Service) CheckBoundary(ctx context.Context, op, account, policyARN string) error {
	if strings.HasPrefix(policyARN, "arn:aws:iam::aws:policy/") {
		if _, _, ok := policy.ManagedByARN(policyARN); ok {
			return nil
		}
		return errorf(op, NotFound, "Policy %s does not exist or is not attachable.", policyARN)
	}
	if acct, res, ok := ParseARN(policyARN); !ok || acct != account || !strings.HasPrefix(res, "policy/") {
		return errorf(op, NotFound, "Policy %s does not exist or is not attachable.", policyARN)
	}
	if _, err := s.Store.GetManagedPolicy(ctx, policyARN); metadata.Is(err, metadata.NotFound) {
		return errorf(op, NotFound, "Policy %s does not exist or is not attachable.", policyARN)
	} else if err != nil {
		return internal(op, err)
	}
	return nil
}

// SetPolicyTags replaces a customer managed policy's tags.
func (s *Service) SetPolicyTags(ctx context.Context, arn string, tags []metadata.ResourceTag) error {
	const op = "TagPolicy"
	if err := checkTags(op, tags); err != nil {
		return err
	}
	if err := s.Store.SetManagedPolicyTags(ctx, arn, tags); err != nil {
		return storeErr(op, err, "The policy "+arn)
	}
	return nil
}

// SetPermissionsBoundary sets a user's or role's permissions boundary to
// the managed policy policyARN, or removes it when policyARN is "". The
// boundary caps what the principal's identity policies (and its sessions)
// may do; it grants nothing by itself.
func (s *Service) SetPermissionsBoundary(ctx context.Context, principalARN, policyARN string) error {
	const op = "PutPermissionsBoundary"
	if policyARN != "" {
		acct, _, _ := ParseARN(principalARN)
		if err := s.CheckBoundary(ctx, op, acct, policyARN); err != nil {
			return err
		}
	}
	_, err := s.Store.UpdatePrincipal(ctx, principalARN, func(p *metadata.Principal) error {
		p.PermissionsBoundary = policyARN
		return nil
	})
	if err != nil {
		return storeErr(op, err, "The principal "+principalARN)
	}
	return nil
}
