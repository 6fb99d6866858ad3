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

func TestParseRegistryHost(t *testing.T) {
	for host, want := range map[string]string{
		"111122223333.dkr.ecr.us-east-1.amazonaws.com":      "111122223333 us-east-1",
		"111122223333.dkr.ecr.eu-west-1.berth.test:5443":    "111122223333 eu-west-1",
		"111122223333.dkr-ecr.us-west-2.on.aws":             "111122223333 us-west-2",
		"111122223333.dkr.ecr-fips.us-east-1.amazonaws.com": "111122223333 us-east-1",
		"registry-1.docker.io":                              "",
		"1111.dkr.ecr.us-east-1.amazonaws.com":              "",
	} {
		acct, region, ok := ParseRegistryHost(host)
		got := ""
		if ok {
			got = acct + " " + region
		}
		if got != want {
			t.Errorf("ParseRegistryHost(%s) = %q, want %q", host, got, want)
		}
	}
}
