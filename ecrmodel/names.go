package ecrmodel

import (
	"regexp"
	"unicode/utf8"
)

// RepositoryNameRE is ECR's repository name grammar (the service model's
// current pattern, which is also the OCI distribution spec's).
var RepositoryNameRE = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)

// Repository name lengths: the API takes 2 to 256 characters; a registry
// path (distribution's limit) at most 255.
const (
	MinRepositoryName     = 2
	MaxRepositoryName     = 256
	MaxRegistryPathLength = 255
)

// RepositoryNameConstraint is the pattern ECR quotes when it refuses a
// name (older than the model's, kept for fidelity).
const RepositoryNameConstraint = "must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'"

// ValidRegistryPath reports whether name is a repository name /v2 serves.
func ValidRegistryPath(name string) bool {
	return len(name) <= MaxRegistryPathLength && RepositoryNameRE.MatchString(name)
}

// RepositoryNameProblem says what is wrong with an API repository name
// (""when nothing is), in the words of ECR's validation message.
func RepositoryNameProblem(name string) string {
	n := utf8.RuneCountInString(name)
	switch {
	case n < MinRepositoryName:
		return "must have length greater than or equal to 2"
	case n > MaxRepositoryName:
		return "must have length less than or equal to 256"
	case !RepositoryNameRE.MatchString(name):
		return RepositoryNameConstraint
	}
	return ""
}

// RegistryIDRE is a registry id: an account's 12 digits.
var RegistryIDRE = regexp.MustCompile(`^[0-9]{12}$`)
