package storetest

import (
	"reflect"
	"testing"

	"github.com/berth-registry/berth/metadata"
)

const ghARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"

func testOIDCProviders(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	_, err := s.CreateOIDCProvider(ctx, metadata.OIDCProvider{ARN: ghARN, Account: reg, URL: "token.actions.githubusercontent.com"})
	wantKind(t, err, metadata.NotFound, "account")
	iamFixture(t, s)
	p, err := s.CreateOIDCProvider(ctx, metadata.OIDCProvider{ARN: ghARN, Account: reg, URL: "token.actions.githubusercontent.com",
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
		Tags: []metadata.ResourceTag{{Key: "k", Value: "v"}}})
	must(t, err)
	_, err = s.CreateOIDCProvider(ctx, metadata.OIDCProvider{ARN: ghARN, Account: reg, URL: "token.actions.githubusercontent.com"})
	wantKind(t, err, metadata.AlreadyExists, "oidc provider")
	got, err := s.GetOIDCProvider(ctx, ghARN)
	must(t, err)
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("GetOIDCProvider = %+v, want %+v", got, p)
	}
	eks := "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
	_, err = s.CreateOIDCProvider(ctx, metadata.OIDCProvider{ARN: eks, Account: reg, URL: "oidc.eks.us-east-1.amazonaws.com/id/ABC"})
	must(t, err)
	up, err := s.UpdateOIDCProvider(ctx, ghARN, func(p *metadata.OIDCProvider) error {
		p.ClientIDs = append(p.ClientIDs, "other")
		p.URL = "ignored"
		return nil
	})
	must(t, err)
	if up.URL != p.URL || len(up.ClientIDs) != 2 {
		t.Fatalf("UpdateOIDCProvider = %+v", up)
	}
	list, err := s.ListOIDCProviders(ctx, reg)
	must(t, err)
	if len(list) != 2 || list[0].ARN != eks || list[1].ARN != ghARN || len(list[1].ClientIDs) != 2 {
		t.Fatalf("ListOIDCProviders = %+v", list)
	}
	if list, _ := s.ListOIDCProviders(ctx, other); len(list) != 0 {
		t.Fatalf("ListOIDCProviders(other) = %+v", list)
	}
	must(t, s.DeleteOIDCProvider(ctx, ghARN))
	wantKind(t, s.DeleteOIDCProvider(ctx, ghARN), metadata.NotFound, "oidc provider")
	_, err = s.GetOIDCProvider(ctx, ghARN)
	wantKind(t, err, metadata.NotFound, "oidc provider")
	_, err = s.UpdateOIDCProvider(ctx, ghARN, func(*metadata.OIDCProvider) error { return nil })
	wantKind(t, err, metadata.NotFound, "oidc provider")
}
