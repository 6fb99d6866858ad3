package iamapi

import (
	"slices"
	"strings"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
)

// putPolicy is PutRolePolicy / PutUserPolicy.
func putPolicy(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		name, err := c.need("PolicyName")
		if err != nil {
			return nil, err
		}
		doc, err := c.need("PolicyDocument")
		if err != nil {
			return nil, err
		}
		return nil, c.h.Svc.PutInlinePolicy(c.ctx, p.ARN, name, doc)
	}
}

func getPolicy(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		name, err := c.need("PolicyName")
		if err != nil {
			return nil, err
		}
		inline, _, err := c.h.Svc.Store.PrincipalPolicies(c.ctx, p.ARN)
		if err != nil {
			return nil, err
		}
		for _, i := range inline {
			if i.Name == name {
				if kind == metadata.KindRole {
					return struct{ RoleName, PolicyName, PolicyDocument string }{p.Name, name, encodeDoc(i.Document)}, nil
				}
				return struct{ UserName, PolicyName, PolicyDocument string }{p.Name, name, encodeDoc(i.Document)}, nil
			}
		}
		return nil, noSuch("The %s policy with name %s cannot be found.", kind, name)
	}
}

func deletePolicy(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		name, err := c.need("PolicyName")
		if err != nil {
			return nil, err
		}
		if err := c.h.Svc.DeleteInlinePolicy(c.ctx, p.ARN, name); err != nil {
			if iam.KindOf(err) == iam.NotFound {
				return nil, noSuch("The %s policy with name %s cannot be found.", kind, name)
			}
			return nil, err
		}
		return nil, nil
	}
}

func listPolicies(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		inline, _, err := c.h.Svc.Store.PrincipalPolicies(c.ctx, p.ARN)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, i := range inline {
			names = append(names, i.Name)
		}
		slices.Sort(names)
		from, to, next, err := c.page(names)
		if err != nil {
			return nil, err
		}
		return struct {
			PolicyNames members[string]
			paged
		}{members[string]{Member: names[from:to]}, pagedFor(next)}, nil
	}
}

func attach(kind string, detach bool) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		arn, err := c.need("PolicyArn")
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(arn, "arn:") {
			return nil, invalid("ARN %s is not valid.", arn)
		}
		if detach {
			if err := c.h.Svc.DetachPolicy(c.ctx, p.ARN, arn); err != nil {
				if iam.KindOf(err) == iam.NotFound {
					return nil, noSuch("Policy %s was not found.", arn)
				}
				return nil, err
			}
			return nil, nil
		}
		return nil, c.h.Svc.AttachPolicy(c.ctx, p.ARN, arn)
	}
}

type attachedXML struct{ PolicyName, PolicyArn string }

func listAttached(kind string) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.named(kind)
		if err != nil {
			return nil, err
		}
		_, attached, err := c.h.Svc.Store.PrincipalPolicies(c.ctx, p.ARN)
		if err != nil {
			return nil, err
		}
		var names []string
		byARN := map[string]attachedXML{}
		for _, a := range attached {
			name := a.ARN[strings.LastIndexByte(a.ARN, '/')+1:]
			names = append(names, a.ARN)
			byARN[a.ARN] = attachedXML{name, a.ARN}
		}
		slices.Sort(names)
		from, to, next, err := c.page(names)
		if err != nil {
			return nil, err
		}
		var out members[attachedXML]
		for _, n := range names[from:to] {
			out.Member = append(out.Member, byARN[n])
		}
		return struct {
			AttachedPolicies members[attachedXML]
			paged
		}{out, pagedFor(next)}, nil
	}
}
