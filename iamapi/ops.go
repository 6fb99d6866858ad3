package iamapi

import (
	"slices"

	"github.com/berth-registry/berth/metadata"
)

// op answers one action; a nil result is an answer with only
// ResponseMetadata.
type op func(*call) (any, error)

const (
	rol = metadata.KindRole
	usr = metadata.KindUser
)

// ops are the implemented actions, each authorized as iam:<Action>.
var ops = map[string]op{
	"CreateRole":               createRole,
	"GetRole":                  getRole,
	"DeleteRole":               deletePrincipal(rol),
	"ListRoles":                listPrincipals(rol),
	"UpdateRole":               updateRole,
	"UpdateAssumeRolePolicy":   updateAssumeRolePolicy,
	"PutRolePolicy":            putPolicy(rol),
	"GetRolePolicy":            getPolicy(rol),
	"DeleteRolePolicy":         deletePolicy(rol),
	"ListRolePolicies":         listPolicies(rol),
	"AttachRolePolicy":         attach(rol, false),
	"DetachRolePolicy":         attach(rol, true),
	"ListAttachedRolePolicies": listAttached(rol),
	"TagRole":                  tagPrincipal(rol, true),
	"UntagRole":                tagPrincipal(rol, false),
	"ListRoleTags":             listTags(rol),

	"UpdateRoleDescription":          updateRoleDescription,
	"PutRolePermissionsBoundary":     putBoundary(rol),
	"DeleteRolePermissionsBoundary":  deleteBoundary(rol),
	"ListInstanceProfilesForRole":    listInstanceProfilesForRole,
	"RemoveRoleFromInstanceProfile":  removeRoleFromInstanceProfile,
	"PutUserPermissionsBoundary":     putBoundary(usr),
	"DeleteUserPermissionsBoundary":  deleteBoundary(usr),
	"ListGroupsForUser":              listGroupsForUser,
	"ListMFADevices":                 emptyUserList("MFADevices"),
	"ListVirtualMFADevices":          listVirtualMFADevices,
	"ListSSHPublicKeys":              emptyUserList("SSHPublicKeys"),
	"ListSigningCertificates":        emptyUserList("Certificates"),
	"ListServiceSpecificCredentials": emptyUserList("ServiceSpecificCredentials"),
	"DeleteLoginProfile":             deleteLoginProfile,
	"TagPolicy":                      tagPolicy(true),
	"UntagPolicy":                    tagPolicy(false),
	"ListPolicyTags":                 listPolicyTags,

	"CreateUser":               createUser,
	"GetUser":                  getUser,
	"DeleteUser":               deletePrincipal(usr),
	"ListUsers":                listPrincipals(usr),
	"PutUserPolicy":            putPolicy(usr),
	"GetUserPolicy":            getPolicy(usr),
	"DeleteUserPolicy":         deletePolicy(usr),
	"ListUserPolicies":         listPolicies(usr),
	"AttachUserPolicy":         attach(usr, false),
	"DetachUserPolicy":         attach(usr, true),
	"ListAttachedUserPolicies": listAttached(usr),
	"TagUser":                  tagPrincipal(usr, true),
	"UntagUser":                tagPrincipal(usr, false),
	"ListUserTags":             listTags(usr),

	"CreateAccessKey": createAccessKey,
	"ListAccessKeys":  listAccessKeys,
	"UpdateAccessKey": updateAccessKey,
	"DeleteAccessKey": deleteAccessKey,

	"CreatePolicy":     createPolicy,
	"GetPolicy":        getManagedPolicy,
	"GetPolicyVersion": getPolicyVersion,
	"DeletePolicy":     deleteManagedPolicy,
	"ListPolicies":     listManagedPolicies,

	"CreatePolicyVersion":     createPolicyVersion,
	"ListPolicyVersions":      listPolicyVersions,
	"SetDefaultPolicyVersion": setDefaultPolicyVersion,
	"DeletePolicyVersion":     deletePolicyVersion,

	"CreateOpenIDConnectProvider":             createOIDCProvider,
	"GetOpenIDConnectProvider":                getOIDCProvider,
	"ListOpenIDConnectProviders":              listOIDCProviders,
	"DeleteOpenIDConnectProvider":             deleteOIDCProvider,
	"AddClientIDToOpenIDConnectProvider":      editClientIDs(true),
	"RemoveClientIDFromOpenIDConnectProvider": editClientIDs(false),
	"UpdateOpenIDConnectProviderThumbprint":   updateThumbprints,
}

// Actions lists the implemented actions (for the authorization matrix).
func Actions() []string {
	out := make([]string, 0, len(ops))
	for k := range ops {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func tagPrincipal(kind string, add bool) op {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		tags := p.Tags
		if add {
			tags = metadata.SetTags(tags, c.tags())
		} else {
			tags = metadata.RemoveTags(tags, c.list("TagKeys"))
		}
		return nil, c.h.Svc.SetPrincipalTags(c.ctx, p.ARN, tags)
	}
}

func listTags(kind string) op {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		return c.tagPage(p.Tags)
	}
}
