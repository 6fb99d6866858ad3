package iam

import (
	"crypto/rand"
	"encoding/base32"
	"regexp"
	"strings"
)

// IAM's name and path rules.
var (
	nameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyRE  = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	pathRE    = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	serviceRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$`)
)

// Sizes IAM allows for policy documents (characters).
const (
	maxUserInline   = 2048
	maxRoleInline   = 10240
	maxManaged      = 6144
	maxTrust        = 2048
	maxKeysPerUser  = 2
	minSession      = 3600
	maxSession      = 43200
	defaultDuration = 3600
)

func checkName(op, what, name string) error {
	if !nameRE.MatchString(name) {
		return errorf(op, Invalid, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64", name, what)
	}
	return nil
}

func checkPath(op, path string) error {
	if len(path) > 512 || !pathRE.MatchString(path) {
		return errorf(op, Invalid, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return nil
}

func checkAccount(op, id string) error {
	if !accountRE.MatchString(id) {
		return errorf(op, Invalid, "Account id %q is not 12 digits", id)
	}
	return nil
}

// arnFor is arn:aws:iam::<account>:<kind>/<path minus leading slash><name>.
func arnFor(account, kind, path, name string) string {
	if path == "" {
		path = "/"
	}
	return "arn:aws:iam::" + account + ":" + kind + path + name
}

// UserARN, RoleARN and PolicyARN name IAM entities as AWS does.
func UserARN(account, path, name string) string   { return arnFor(account, "user", path, name) }
func RoleARN(account, path, name string) string   { return arnFor(account, "role", path, name) }
func PolicyARN(account, path, name string) string { return arnFor(account, "policy", path, name) }

// InstanceProfileARN is an instance profile's ARN (berth has none, but IAM
// authorizes calls naming one on it).
func InstanceProfileARN(account, path, name string) string {
	return arnFor(account, "instance-profile", path, name)
}

// ParseARN splits an IAM or STS ARN into its account and resource
// ("user/alice", "role/ci/builder", "assumed-role/r/s").
func ParseARN(arn string) (account, resource string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || (parts[2] != "iam" && parts[2] != "sts") || parts[3] != "" {
		return "", "", false
	}
	return parts[4], parts[5], accountRE.MatchString(parts[4])
}

// newID returns an AWS-style unique id: the prefix (AIDA for users, AROA
// for roles) and 17 characters of [A-Z2-7].
func newID(prefix string) (string, error) {
	var b [11]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + base32.StdEncoding.EncodeToString(b[:])[:17], nil
}
