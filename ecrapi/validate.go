package ecrapi

import (
	"regexp"
	"unicode/utf8"
)

var (
	registryIDRE = regexp.MustCompile(`^[0-9]{12}$`)
	// repositoryNameRE is the model's current RepositoryName pattern.
	repositoryNameRE = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
)

// repositoryNameConstraint is the pattern ECR quotes in its message (older
// than the model's, kept for fidelity).
const repositoryNameConstraint = "must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*'"

func validRegistryID(id string) error {
	if !registryIDRE.MatchString(id) {
		return invalidParam("registryId", "must satisfy regular expression '[0-9]{12}'")
	}
	return nil
}

func validRepositoryName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n < 2:
		return invalidParam("repositoryName", "must have length greater than or equal to 2")
	case n > 256:
		return invalidParam("repositoryName", "must have length less than or equal to 256")
	case !repositoryNameRE.MatchString(name):
		return invalidParam("repositoryName", repositoryNameConstraint)
	}
	return nil
}
