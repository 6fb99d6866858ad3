package ecrapi

import "github.com/berth-registry/berth/ecrmodel"

func validRegistryID(id string) error {
	if !ecrmodel.RegistryIDRE.MatchString(id) {
		return invalidParam("registryId", "must satisfy regular expression '[0-9]{12}'")
	}
	return nil
}

// validRepositoryName checks an API repository name against ECR's grammar
// (ecrmodel), in ECR's words.
func validRepositoryName(name string) error {
	if p := ecrmodel.RepositoryNameProblem(name); p != "" {
		return invalidParam("repositoryName", p)
	}
	return nil
}
