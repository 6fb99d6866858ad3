package iamapi

import (
	"slices"
	"strconv"
	"strings"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
)

// titles name kinds as IAM's messages and parameters do.
var titles = map[string]string{metadata.KindRole: "Role", metadata.KindUser: "User"}

// target authorizes the call on the named user or role of the caller's
// account, then reads it. The question comes first: a caller who may not
// learns nothing about what exists.
func (c *call) target(kind, name string) (metadata.Principal, error) {
	arn := iam.RoleARN(c.p.Account, "/", name)
	if kind == metadata.KindUser {
		arn = iam.UserARN(c.p.Account, "/", name)
	}
	p, err := c.h.Svc.Store.FindPrincipal(c.ctx, c.p.Account, kind, name)
	if err == nil {
		arn = p.ARN
	} else if !metadata.Is(err, metadata.NotFound) {
		return p, err
	}
	if removesBoundary(c.action) {
		c.removing = p.PermissionsBoundary
	}
	if aerr := c.authorize(arn); aerr != nil {
		return p, aerr
	}
	if err != nil {
		return p, noSuch("The %s with name %s cannot be found.", kind, name)
	}
	return p, nil
}

func (c *call) named(kind string) (metadata.Principal, error) {
	name, err := c.need(titles[kind] + "Name")
	if err != nil {
		return metadata.Principal{}, err
	}
	return c.target(kind, name)
}

func createRole(c *call) (any, error) {
	name, err := c.need("RoleName")
	if err != nil {
		return nil, err
	}
	trust, err := c.need("AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	path := c.opt("Path")
	if path == "" {
		path = "/"
	}
	max := 0
	if s := c.opt("MaxSessionDuration"); s != "" {
		if max, err = strconv.Atoi(s); err != nil {
			return nil, invalid("Invalid MaxSessionDuration %s", s)
		}
		// The service reads 0 as "the default"; a 0 sent is out of range.
		if err := iam.CheckMaxSession("CreateRole", max); err != nil {
			return nil, err
		}
	}
	if err := c.authorize(iam.RoleARN(c.p.Account, path, name)); err != nil {
		return nil, err
	}
	boundary, err := c.boundaryParam()
	if err != nil {
		return nil, err
	}
	p, err := c.h.Svc.CreateRole(c.ctx, c.p.Account, name, path, trust, max, c.tags())
	if err != nil {
		return nil, err
	}
	if d := c.opt("Description"); d != "" || boundary != "" {
		if p, err = c.h.Svc.Store.UpdatePrincipal(c.ctx, p.ARN, func(p *metadata.Principal) error {
			p.Description, p.PermissionsBoundary = d, boundary
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return struct{ Role roleXML }{role(p)}, nil
}

func createUser(c *call) (any, error) {
	name, err := c.need("UserName")
	if err != nil {
		return nil, err
	}
	path := c.opt("Path")
	if path == "" {
		path = "/"
	}
	if err := c.authorize(iam.UserARN(c.p.Account, path, name)); err != nil {
		return nil, err
	}
	boundary, err := c.boundaryParam()
	if err != nil {
		return nil, err
	}
	p, err := c.h.Svc.CreateUser(c.ctx, c.p.Account, name, path, c.tags())
	if err != nil {
		return nil, err
	}
	if boundary != "" {
		if p, err = c.h.Svc.Store.UpdatePrincipal(c.ctx, p.ARN, func(p *metadata.Principal) error {
			p.PermissionsBoundary = boundary
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return struct{ User userXML }{user(p)}, nil
}

func getRole(c *call) (any, error) {
	p, err := c.named(metadata.KindRole)
	if err != nil {
		return nil, err
	}
	r := role(p)
	r.RoleLastUsed = lastUsed(p)
	return struct{ Role roleXML }{r}, nil
}

// getUser reads UserName, or the caller when it is omitted.
func getUser(c *call) (any, error) {
	name := c.opt("UserName")
	if name == "" {
		if c.p.Username == "" {
			return nil, invalid("Must specify userName when calling with non-User credentials")
		}
		name = c.p.Username
	}
	p, err := c.target(metadata.KindUser, name)
	if err != nil {
		return nil, err
	}
	return struct{ User userXML }{user(p)}, nil
}

// deletePrincipal refuses, as IAM does, while policies are attached or
// embedded (and, for users, while access keys exist).
func deletePrincipal(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		inline, attached, err := c.h.Svc.Store.PrincipalPolicies(c.ctx, p.ARN)
		if err != nil {
			return nil, err
		}
		conflict := func(msg string) error { return &Error{Code: "DeleteConflict", Message: msg, Status: 409} }
		switch {
		case len(attached) > 0:
			return nil, conflict("Cannot delete entity, must detach all policies first.")
		case len(inline) > 0:
			return nil, conflict("Cannot delete entity, must delete policies first.")
		}
		if kind == metadata.KindUser {
			keys, err := c.h.Svc.Store.ListAccessKeys(c.ctx, p.ARN)
			if err != nil {
				return nil, err
			}
			if len(keys) > 0 {
				return nil, conflict("Cannot delete entity, must delete access keys first.")
			}
		}
		return nil, c.h.Svc.DeletePrincipal(c.ctx, p.ARN)
	}
}

func listPrincipals(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		if err := c.authorize("*"); err != nil {
			return nil, err
		}
		ps, err := c.h.Svc.Store.ListPrincipals(c.ctx, c.p.Account, kind)
		if err != nil {
			return nil, err
		}
		prefix := c.opt("PathPrefix")
		ps = slices.DeleteFunc(ps, func(p metadata.Principal) bool { return !strings.HasPrefix(p.Path, prefix) })
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		from, to, next, err := c.page(names)
		if err != nil {
			return nil, err
		}
		if kind == metadata.KindRole {
			var out members[roleXML]
			for _, p := range ps[from:to] {
				out.Member = append(out.Member, role(p))
			}
			return struct {
				Roles members[roleXML]
				paged
			}{out, pagedFor(next)}, nil
		}
		var out members[userXML]
		for _, p := range ps[from:to] {
			out.Member = append(out.Member, user(p))
		}
		return struct {
			Users members[userXML]
			paged
		}{out, pagedFor(next)}, nil
	}
}

func updateAssumeRolePolicy(c *call) (any, error) {
	p, err := c.named(metadata.KindRole)
	if err != nil {
		return nil, err
	}
	doc, err := c.need("PolicyDocument")
	if err != nil {
		return nil, err
	}
	return nil, c.h.Svc.UpdateRole(c.ctx, p.ARN, doc, 0)
}

func updateRole(c *call) (any, error) {
	p, err := c.named(metadata.KindRole)
	if err != nil {
		return nil, err
	}
	if s := c.opt("MaxSessionDuration"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, invalid("Invalid MaxSessionDuration %s", s)
		}
		// The service reads 0 as "unchanged"; a 0 sent is out of range.
		if err := iam.CheckMaxSession("UpdateRole", n); err != nil {
			return nil, err
		}
		if err := c.h.Svc.UpdateRole(c.ctx, p.ARN, "", n); err != nil {
			return nil, err
		}
	}
	if _, ok := c.form["Description"]; ok {
		d := c.opt("Description")
		if _, err := c.h.Svc.Store.UpdatePrincipal(c.ctx, p.ARN, func(p *metadata.Principal) error { p.Description = d; return nil }); err != nil {
			return nil, err
		}
	}
	return struct{}{}, nil
}
