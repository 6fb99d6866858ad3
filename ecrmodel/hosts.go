package ecrmodel

import "regexp"

// RepositoryARN is arn:aws:ecr:<region>:<registry>:repository/<name>.
func RepositoryARN(region, registryID, name string) string {
	return "arn:aws:ecr:" + region + ":" + registryID + ":repository/" + name
}

// ecrHostRE matches an ECR-shaped registry host: <account>.dkr.ecr.…,
// with the region when a domain follows it (<region>.<domain>).
var ecrHostRE = regexp.MustCompile(`^([0-9]{12})(\.dkr[.-]ecr(?:-fips)?\.(?:([a-z0-9-]+)\.)?.+)$`)

// RegistryHost is the host[:port] registry registryID is reached at: the
// public host for the default registry; for another account's registry,
// the public host with that account's id when the public host is
// ECR-shaped (<id>.dkr.ecr.<region>.<domain>: berth tells registries apart
// by host), else the public host itself.
func RegistryHost(public, registryID string) string {
	if m := ecrHostRE.FindStringSubmatch(public); m != nil && registryID != "" {
		return registryID + m[2]
	}
	return public
}

// RegistryHostWildcard is the DNS name that covers every account's
// registry host of an ECR-shaped public hostname (no port): for
// 000000000000.dkr.ecr.us-east-1.example.com, *.dkr.ecr.us-east-1.example.com.
// It is "" for any other host, where one name serves every account.
func RegistryHostWildcard(publicHostname string) string {
	if m := ecrHostRE.FindStringSubmatch(publicHostname); m != nil {
		return "*" + m[2]
	}
	return ""
}

// RegistryFromHost is the registry an ECR-shaped request host names, ""
// for any other host.
func RegistryFromHost(host string) string {
	if m := ecrHostRE.FindStringSubmatch(host); m != nil {
		return m[1]
	}
	return ""
}

// ParseRegistryHost is the account and region an ECR registry host
// (<account>.dkr.ecr.<region>.<domain>[:port], AWS's or a berth's) names.
func ParseRegistryHost(host string) (account, region string, ok bool) {
	m := ecrHostRE.FindStringSubmatch(host)
	if m == nil || m[3] == "" {
		return "", "", false
	}
	return m[1], m[3], true
}
