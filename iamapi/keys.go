package iamapi

import (
	"slices"
	"strings"

	"github.com/berth-registry/berth/metadata"
)

// keyUser is the user UserName names, or the calling user.
func (c *call) keyUser() (metadata.Principal, error) {
	name := c.opt("UserName")
	if name == "" {
		if c.p.Username == "" {
			return metadata.Principal{}, invalid("Must specify userName when calling with non-User credentials")
		}
		name = c.p.Username
	}
	return c.target(metadata.KindUser, name)
}

type keyXML struct {
	UserName, AccessKeyId, Status string
	SecretAccessKey               string `xml:",omitempty"`
	CreateDate                    string
}

func createAccessKey(c *call) (any, error) {
	u, err := c.keyUser()
	if err != nil {
		return nil, err
	}
	id, secret, err := c.h.Svc.CreateAccessKey(c.ctx, u.ARN)
	if err != nil {
		return nil, err
	}
	k, err := c.h.Svc.Store.GetAccessKey(c.ctx, id)
	if err != nil {
		return nil, err
	}
	return struct{ AccessKey keyXML }{keyXML{u.Name, id, k.Status, secret, timestamp(k.CreatedAt)}}, nil
}

func listAccessKeys(c *call) (any, error) {
	u, err := c.keyUser()
	if err != nil {
		return nil, err
	}
	keys, err := c.h.Svc.Store.ListAccessKeys(c.ctx, u.ARN)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b metadata.AccessKey) int { return strings.Compare(a.ID, b.ID) })
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	from, to, next, err := c.page(ids)
	if err != nil {
		return nil, err
	}
	var out members[keyXML]
	for _, k := range keys[from:to] {
		out.Member = append(out.Member, keyXML{UserName: u.Name, AccessKeyId: k.ID, Status: k.Status, CreateDate: timestamp(k.CreatedAt)})
	}
	return struct {
		AccessKeyMetadata members[keyXML]
		paged
	}{out, pagedFor(next)}, nil
}

// ownKey reads AccessKeyId and checks it belongs to the user.
func (c *call) ownKey(u metadata.Principal) (string, error) {
	id, err := c.need("AccessKeyId")
	if err != nil {
		return "", err
	}
	k, err := c.h.Svc.Store.GetAccessKey(c.ctx, id)
	if err != nil || k.Principal != u.ARN {
		return "", noSuch("The Access Key with id %s cannot be found.", id)
	}
	return id, nil
}

func deleteAccessKey(c *call) (any, error) {
	u, err := c.keyUser()
	if err != nil {
		return nil, err
	}
	id, err := c.ownKey(u)
	if err != nil {
		return nil, err
	}
	return nil, c.h.Svc.DeleteAccessKey(c.ctx, id)
}

func updateAccessKey(c *call) (any, error) {
	u, err := c.keyUser()
	if err != nil {
		return nil, err
	}
	id, err := c.ownKey(u)
	if err != nil {
		return nil, err
	}
	status, err := c.need("Status")
	if err != nil {
		return nil, err
	}
	if status != metadata.KeyActive && status != metadata.KeyInactive {
		return nil, invalid("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]", status)
	}
	return nil, c.h.Svc.SetAccessKeyStatus(c.ctx, id, status == metadata.KeyActive)
}
