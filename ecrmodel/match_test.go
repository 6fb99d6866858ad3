package ecrmodel

import (
	"testing"

	"github.com/berth-registry/berth/metadata"
)

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"prod", "prod", true},
		{"prod", "prod1", false},
		{"prod*", "prod", true},
		{"prod*", "production-team1", true},
		{"*prod*", "repo-production", true},
		{"*prod*", "repo", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"team/*", "team/api/v1", true},
		{"*", "", true},
		{"v*.*", "v1.2", true},
		{"v*.*", "v12", false},
	} {
		if got := Wildcard(c.pattern, c.s); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestTagImmutable(t *testing.T) {
	for _, c := range []struct {
		mode string
		excl []string
		tag  string
		want bool
	}{
		{"", nil, "v1", false},
		{metadata.Mutable, nil, "v1", false},
		{metadata.Immutable, nil, "latest", true},
		{metadata.ImmutableWithExclusion, []string{"latest", "dev-*"}, "latest", false},
		{metadata.ImmutableWithExclusion, []string{"latest", "dev-*"}, "dev-x", false},
		{metadata.ImmutableWithExclusion, []string{"latest", "dev-*"}, "v1", true},
		{metadata.MutableWithExclusion, []string{"release-*"}, "release-1", true},
		{metadata.MutableWithExclusion, []string{"release-*"}, "dev", false},
	} {
		r := metadata.Repository{TagMutability: c.mode, MutabilityExclusions: c.excl}
		if got := TagImmutable(r, c.tag); got != c.want {
			t.Errorf("%s %v: TagImmutable(%q) = %v, want %v", c.mode, c.excl, c.tag, got, c.want)
		}
	}
}

func TestRegistryHosts(t *testing.T) {
	const public = "000000000000.dkr.ecr.us-east-1.example.com:5000"
	if h := RegistryHost(public, "111122223333"); h != "111122223333.dkr.ecr.us-east-1.example.com:5000" {
		t.Errorf("RegistryHost = %s", h)
	}
	if h := RegistryHost("localhost:5000", "111122223333"); h != "localhost:5000" {
		t.Errorf("RegistryHost(localhost) = %s", h)
	}
	if id := RegistryFromHost("111122223333.dkr.ecr.us-east-1.example.com"); id != "111122223333" {
		t.Errorf("RegistryFromHost = %q", id)
	}
	if w := RegistryHostWildcard("000000000000.dkr.ecr.us-east-1.example.com"); w != "*.dkr.ecr.us-east-1.example.com" {
		t.Errorf("RegistryHostWildcard = %q", w)
	}
	if RepositoryARN("us-east-1", "123456789012", "team/app") != "arn:aws:ecr:us-east-1:123456789012:repository/team/app" {
		t.Error("RepositoryARN")
	}
}
