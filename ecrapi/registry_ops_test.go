package ecrapi_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/ecrmodel"
)

func TestReplicationConfiguration(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	d, err := c.DescribeRegistry(ctx, &ecr.DescribeRegistryInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.RegistryId) != testRegistryID || d.ReplicationConfiguration == nil || d.ReplicationConfiguration.Rules == nil ||
		len(d.ReplicationConfiguration.Rules) != 0 {
		t.Fatalf("describe = %+v", d)
	}
	cfg := &types.ReplicationConfiguration{Rules: []types.ReplicationRule{{
		Destinations:      []types.ReplicationDestination{{Region: aws.String("eu-west-1"), RegistryId: aws.String(testRegistryID)}},
		RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("prod"), FilterType: types.RepositoryFilterTypePrefixMatch}},
	}}}
	put, err := c.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{ReplicationConfiguration: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(put.ReplicationConfiguration.Rules) != 1 {
		t.Errorf("put = %+v", put.ReplicationConfiguration)
	}
	d, err = c.DescribeRegistry(ctx, &ecr.DescribeRegistryInput{})
	if err != nil {
		t.Fatal(err)
	}
	r := d.ReplicationConfiguration.Rules
	if len(r) != 1 || aws.ToString(r[0].Destinations[0].Region) != "eu-west-1" || aws.ToString(r[0].RepositoryFilters[0].Filter) != "prod" {
		t.Errorf("described = %+v", r)
	}
	bad := []types.ReplicationRule{
		{Destinations: []types.ReplicationDestination{{Region: aws.String("EU"), RegistryId: aws.String(testRegistryID)}}},
		{Destinations: []types.ReplicationDestination{{Region: aws.String("eu-west-1"), RegistryId: aws.String("1")}}},
		{Destinations: []types.ReplicationDestination{}, RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("p"), FilterType: "PREFIX_MATCH"}}},
		{Destinations: []types.ReplicationDestination{}, RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("prod"), FilterType: "WILDCARD"}}},
	}
	for i, rule := range bad {
		_, err := c.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{
			ReplicationConfiguration: &types.ReplicationConfiguration{Rules: []types.ReplicationRule{rule}},
		})
		if !errors.As(err, new(*types.InvalidParameterException)) {
			t.Errorf("bad rule %d: %v", i, err)
		}
	}
	// Clearing: no rules.
	if _, err := c.PutReplicationConfiguration(ctx, &ecr.PutReplicationConfigurationInput{
		ReplicationConfiguration: &types.ReplicationConfiguration{Rules: []types.ReplicationRule{}},
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRegistryScanningConfiguration(t *testing.T) {
	c, _ := newTestAPI(t)
	ctx := context.Background()
	g, err := c.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.RegistryId) != testRegistryID || g.ScanningConfiguration.ScanType != types.ScanTypeBasic || len(g.ScanningConfiguration.Rules) != 0 {
		t.Fatalf("default = %+v", g.ScanningConfiguration)
	}
	rule := types.RegistryScanningRule{
		ScanFrequency:     types.ScanFrequencyScanOnPush,
		RepositoryFilters: []types.ScanningRepositoryFilter{{Filter: aws.String("*"), FilterType: types.ScanningRepositoryFilterTypeWildcard}},
	}
	p, err := c.PutRegistryScanningConfiguration(ctx, &ecr.PutRegistryScanningConfigurationInput{
		ScanType: types.ScanTypeBasic, Rules: []types.RegistryScanningRule{rule},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.RegistryScanningConfiguration.ScanType != types.ScanTypeBasic || len(p.RegistryScanningConfiguration.Rules) != 1 {
		t.Errorf("put = %+v", p.RegistryScanningConfiguration)
	}
	g, err = c.GetRegistryScanningConfiguration(ctx, &ecr.GetRegistryScanningConfigurationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.ScanningConfiguration.Rules; len(r) != 1 || r[0].ScanFrequency != types.ScanFrequencyScanOnPush || aws.ToString(r[0].RepositoryFilters[0].Filter) != "*" {
		t.Errorf("get = %+v", g.ScanningConfiguration)
	}
	continuous := rule
	continuous.ScanFrequency = types.ScanFrequencyContinuousScan
	badFilter := rule
	badFilter.RepositoryFilters = []types.ScanningRepositoryFilter{{Filter: aws.String("UPPER"), FilterType: types.ScanningRepositoryFilterTypeWildcard}}
	tests := []ecr.PutRegistryScanningConfigurationInput{
		{ScanType: "DEEP"},
		{ScanType: types.ScanTypeBasic, Rules: []types.RegistryScanningRule{continuous}},
		{ScanType: types.ScanTypeEnhanced, Rules: []types.RegistryScanningRule{badFilter}},
		{ScanType: types.ScanTypeEnhanced, Rules: []types.RegistryScanningRule{rule, rule, rule}},
	}
	for i, in := range tests {
		_, err := c.PutRegistryScanningConfiguration(ctx, &in)
		if !errors.As(err, new(*types.InvalidParameterException)) {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

func TestAccountSettings(t *testing.T) {
	c, st := newTestAPI(t)
	ctx := context.Background()
	defaults := map[string]string{"BASIC_SCAN_TYPE_VERSION": "AWS_NATIVE", "REGISTRY_POLICY_SCOPE": "V2", "BLOB_MOUNTING": "DISABLED"}
	for name, want := range defaults {
		out, err := c.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Name) != name || aws.ToString(out.Value) != want {
			t.Errorf("%s = %q, want %q", name, aws.ToString(out.Value), want)
		}
	}
	put, err := c.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.Value) != "ENABLED" {
		t.Errorf("put = %+v", put)
	}
	out, err := c.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("BLOB_MOUNTING")})
	if err != nil || aws.ToString(out.Value) != "ENABLED" {
		t.Fatalf("get = %+v, %v", out, err)
	}
	if v, err := ecrmodel.AccountSetting(ctx, st, testRegistryID, "BLOB_MOUNTING"); err != nil || v != "ENABLED" {
		t.Errorf("AccountSetting = %q, %v", v, err)
	}
	for _, in := range []ecr.PutAccountSettingInput{
		{Name: aws.String("NOPE"), Value: aws.String("V2")},
		{Name: aws.String("REGISTRY_POLICY_SCOPE"), Value: aws.String("V3")},
		{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("enabled")},
	} {
		_, err := c.PutAccountSetting(ctx, &in)
		if !errors.As(err, new(*types.InvalidParameterException)) {
			t.Errorf("%s=%s: %v", aws.ToString(in.Name), aws.ToString(in.Value), err)
		}
	}
	_, err = c.GetAccountSetting(ctx, &ecr.GetAccountSettingInput{Name: aws.String("NOPE")})
	wantErr[*types.InvalidParameterException](t, err)
}

func TestGetAuthorizationToken(t *testing.T) {
	var host string
	c, _ := newTestAPIWith(t, func(d *ecrapi.Deps) { host = d.Host })
	ctx := context.Background()
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = testRegistryID
		}
		return out
	}
	for _, tt := range []struct {
		ids  []string
		want int
	}{{nil, 1}, {ids(1), 1}, {[]string{testRegistryID, "210987654321", "111111111111"}, 3}} {
		//lint:ignore SA1019 the ECS agent and older clients still send registryIds; berth must answer them as ECR does
		out, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: tt.ids})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.AuthorizationData) != tt.want {
			t.Fatalf("%d ids: %d entries, want %d", len(tt.ids), len(out.AuthorizationData), tt.want)
		}
		for _, d := range out.AuthorizationData {
			raw, err := base64.StdEncoding.DecodeString(aws.ToString(d.AuthorizationToken))
			if err != nil {
				t.Fatal(err)
			}
			// The AWS CLI splits on every ':' and wants exactly two parts.
			parts := strings.Split(string(raw), ":")
			if len(parts) != 2 || parts[0] != "AWS" || parts[1] != testPassword {
				t.Errorf("token decodes to %q", raw)
			}
			if d.ExpiresAt == nil || time.Until(*d.ExpiresAt) < 11*time.Hour+59*time.Minute || time.Until(*d.ExpiresAt) > 12*time.Hour+time.Minute {
				t.Errorf("expiresAt = %v", d.ExpiresAt)
			}
			// The ECS agent requires proxyEndpoint to prefix "https://"+image.
			image := host + "/team/app:latest"
			if p := aws.ToString(d.ProxyEndpoint); p != "https://"+host || !strings.HasPrefix("https://"+image, p) {
				t.Errorf("proxyEndpoint = %q", p)
			}
		}
	}
	for _, bad := range [][]string{{"1234"}, ids(11), {}} {
		//lint:ignore SA1019 the ECS agent and older clients still send registryIds; berth must answer them as ECR does
		_, err := c.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{RegistryIds: bad})
		if !errors.As(err, new(*types.InvalidParameterException)) {
			t.Errorf("registryIds %v: %v", bad, err)
		}
	}
}

func TestGetAuthorizationTokenIssuerError(t *testing.T) {
	c, _ := newTestAPIWith(t, func(d *ecrapi.Deps) { d.Tokens = nil })
	_, err := c.GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServerException" {
		t.Fatalf("error = %v, want ServerException", err)
	}
}
