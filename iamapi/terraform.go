package iamapi

import (
	"encoding/xml"
	"slices"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
)

// The calls Terraform makes around a role's or user's life that concern
// what berth has none of (groups, instance profiles): answered as IAM
// answers for an account without them, so `terraform destroy` and
// updates go through.

// listGroupsForUser: berth has no groups, so every user is in none.
func listGroupsForUser(c *call) (any, error) {
	if _, err := c.named(metadata.KindUser); err != nil {
		return nil, err
	}
	if _, _, _, err := c.page(nil); err != nil {
		return nil, err
	}
	return emptyList("Groups"), nil
}

// listInstanceProfilesForRole: berth has no instance profiles.
func listInstanceProfilesForRole(c *call) (any, error) {
	if _, err := c.named(metadata.KindRole); err != nil {
		return nil, err
	}
	if _, _, _, err := c.page(nil); err != nil {
		return nil, err
	}
	return emptyList("InstanceProfiles"), nil
}

// removeRoleFromInstanceProfile is authorized on the instance profile, as
// in IAM, which then cannot be found.
func removeRoleFromInstanceProfile(c *call) (any, error) {
	name, err := c.need("InstanceProfileName")
	if err != nil {
		return nil, err
	}
	if _, err := c.need("RoleName"); err != nil {
		return nil, err
	}
	if err := c.authorize(iam.InstanceProfileARN(c.p.Account, "/", name)); err != nil {
		return nil, err
	}
	return nil, noSuch("Instance Profile %s cannot be found.", name)
}

// updateRoleDescription sets a role's description and answers the role.
func updateRoleDescription(c *call) (any, error) {
	p, err := c.named(metadata.KindRole)
	if err != nil {
		return nil, err
	}
	d, err := c.need("Description")
	if err != nil {
		return nil, err
	}
	if len([]rune(d)) > 1000 {
		return nil, invalid("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	if p, err = c.h.Svc.Store.UpdatePrincipal(c.ctx, p.ARN, func(p *metadata.Principal) error { p.Description = d; return nil }); err != nil {
		return nil, err
	}
	return struct{ Role roleXML }{role(p)}, nil
}

// putBoundary is Put{Role,User}PermissionsBoundary.
func putBoundary(kind string) op {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		arn, err := c.need("PermissionsBoundary")
		if err != nil {
			return nil, err
		}
		return nil, c.h.Svc.SetPermissionsBoundary(c.ctx, p.ARN, arn)
	}
}

// deleteBoundary is Delete{Role,User}PermissionsBoundary.
func deleteBoundary(kind string) op {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		return nil, c.h.Svc.SetPermissionsBoundary(c.ctx, p.ARN, "")
	}
}

// boundaryXML is a principal's PermissionsBoundary member; its type is
// always PermissionsBoundaryPolicy (the one value of IAM's enum).
type boundaryXML struct {
	PermissionsBoundaryType, PermissionsBoundaryArn string
}

func boundaryOf(arn string) *boundaryXML {
	if arn == "" {
		return nil
	}
	return &boundaryXML{"PermissionsBoundaryPolicy", arn}
}

// tagPolicy is TagPolicy / UntagPolicy.
func tagPolicy(add bool) op {
	return func(c *call) (any, error) {
		p, err := c.managed()
		if err != nil {
			return nil, err
		}
		tags := p.Tags
		if add {
			tags = metadata.SetTags(tags, c.tags())
		} else {
			tags = metadata.RemoveTags(tags, c.list("TagKeys"))
		}
		return nil, c.h.Svc.SetPolicyTags(c.ctx, p.ARN, tags)
	}
}

func listPolicyTags(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	return c.tagPage(p.Tags)
}

// tagPage answers a tag listing, paged by key (Marker, MaxItems).
func (c *call) tagPage(ts []metadata.ResourceTag) (any, error) {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b metadata.ResourceTag) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	keys := make([]string, len(ts))
	for i, t := range ts {
		keys[i] = t.Key
	}
	from, to, next, err := c.page(keys)
	if err != nil {
		return nil, err
	}
	var out members[tagXML]
	for _, t := range ts[from:to] {
		out.Member = append(out.Member, tagXML{t.Key, t.Value})
	}
	return struct {
		Tags members[tagXML]
		paged
	}{out, pagedFor(next)}, nil
}

// boundaryParam reads CreateRole's and CreateUser's PermissionsBoundary
// and checks it before anything is made ("" when absent).
func (c *call) boundaryParam() (string, error) {
	arn := c.opt("PermissionsBoundary")
	if arn == "" {
		return "", nil
	}
	if err := c.h.Svc.CheckBoundary(c.ctx, c.action, c.p.Account, arn); err != nil {
		return "", err
	}
	return arn, nil
}

// The credentials of a user berth has none of (console password, MFA
// devices, SSH keys, signing certificates, service-specific
// credentials): what Terraform's aws_iam_user destroy with force_destroy
// lists and removes, answered as for a user without them.

// emptyUserList answers List<member> for the user UserName names (the
// caller when omitted): an empty list.
func emptyUserList(member string) op {
	return func(c *call) (any, error) {
		if _, err := c.keyUser(); err != nil {
			return nil, err
		}
		if _, _, _, err := c.page(nil); err != nil {
			return nil, err
		}
		return emptyList(member), nil
	}
}

// emptyList is a result with one empty list named member and no more
// pages.
func emptyList(member string) any {
	return emptyListXML{List: namedEmpty{XMLName: xml.Name{Local: member}}}
}

type emptyListXML struct {
	List        namedEmpty
	IsTruncated bool
}

// namedEmpty is an empty element named by its XMLName.
type namedEmpty struct {
	XMLName xml.Name
}

// listVirtualMFADevices: berth has no MFA devices.
func listVirtualMFADevices(c *call) (any, error) {
	if err := c.authorize("*"); err != nil {
		return nil, err
	}
	if _, _, _, err := c.page(nil); err != nil {
		return nil, err
	}
	return emptyList("VirtualMFADevices"), nil
}

// deleteLoginProfile: no user has a console password on berth.
func deleteLoginProfile(c *call) (any, error) {
	u, err := c.named(metadata.KindUser)
	if err != nil {
		return nil, err
	}
	return nil, noSuch("Login Profile for User %s cannot be found.", u.Name)
}
