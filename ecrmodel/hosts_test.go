package ecrmodel

import (
	"testing"
)

func TestRegistryHostWildcard(t *testing.T) {
	for host, want := range map[string]string{
		"000000000000.dkr.ecr.us-east-1.example.com":   "*.dkr.ecr.us-east-1.example.com",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.com": "*.dkr.ecr.eu-west-1.amazonaws.com",
		"123456789012.dkr-ecr.us-east-1.on.aws":        "*.dkr-ecr.us-east-1.on.aws",
		"123456789012.dkr.ecr-fips.us-east-1.x.test":   "*.dkr.ecr-fips.us-east-1.x.test",
		"localhost":                 "",
		"registry.example.com":      "",
		"12345.dkr.ecr.us-east-1.x": "", // not a 12-digit account
	} {
		if got := RegistryHostWildcard(host); got != want {
			t.Errorf("RegistryHostWildcard(%q) = %q, want %q", host, got, want)
		}
	}
}
