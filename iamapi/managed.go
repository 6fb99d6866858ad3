package iamapi

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
)

// berth keeps one version of a customer managed policy: v1, the default.
const onlyVersion = "v1"

type policyXML struct {
	PolicyName, PolicyId, Arn, Path, DefaultVersionId string
	AttachmentCount                                   int
	IsAttachable                                      bool
	Description                                       string `xml:",omitempty"`
	CreateDate, UpdateDate                            string
}

// policyID is a stable ANPA… id derived from the ARN (the store keeps none).
func policyID(arn string) string {
	h := sha256.Sum256([]byte(arn))
	return "ANPA" + strings.ToUpper(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])[:17])
}

func policyOf(p metadata.ManagedPolicy) policyXML {
	return policyXML{PolicyName: p.Name, PolicyId: policyID(p.ARN), Arn: p.ARN, Path: p.Path, DefaultVersionId: onlyVersion,
		IsAttachable: true, Description: p.Description, CreateDate: timestamp(p.CreatedAt), UpdateDate: timestamp(p.UpdatedAt)}
}

func createPolicy(c *call) (any, error) {
	name, err := c.need("PolicyName")
	if err != nil {
		return nil, err
	}
	doc, err := c.need("PolicyDocument")
	if err != nil {
		return nil, err
	}
	path := c.opt("Path")
	if path == "" {
		path = "/"
	}
	arn := iam.PolicyARN(c.p.Account, path, name)
	if err := c.authorize(arn); err != nil {
		return nil, err
	}
	if _, err := c.h.Svc.Store.GetManagedPolicy(c.ctx, arn); err == nil {
		return nil, &Error{Code: "EntityAlreadyExists", Message: "A policy called " + name + " already exists. Duplicate names are not allowed.", Status: 409}
	}
	if _, err := c.h.Svc.PutManagedPolicy(c.ctx, c.p.Account, name, path, doc, c.opt("Description")); err != nil {
		return nil, err
	}
	p, err := c.h.Svc.Store.GetManagedPolicy(c.ctx, arn)
	if err != nil {
		return nil, err
	}
	return struct{ Policy policyXML }{policyOf(p)}, nil
}

// managed authorizes the call on PolicyArn and reads the policy of the
// caller's account.
func (c *call) managed() (metadata.ManagedPolicy, error) {
	arn, err := c.need("PolicyArn")
	if err != nil {
		return metadata.ManagedPolicy{}, err
	}
	if err := c.authorize(arn); err != nil {
		return metadata.ManagedPolicy{}, err
	}
	p, err := c.h.Svc.Store.GetManagedPolicy(c.ctx, arn)
	if err != nil || p.Account != c.p.Account {
		return p, noSuch("Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func getManagedPolicy(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	return struct{ Policy policyXML }{policyOf(p)}, nil
}

func getPolicyVersion(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	v, err := c.need("VersionId")
	if err != nil {
		return nil, err
	}
	if v != onlyVersion {
		return nil, noSuch("Policy %s version %s does not exist or is not attachable.", p.ARN, v)
	}
	return struct {
		PolicyVersion struct {
			Document, VersionId string
			IsDefaultVersion    bool
			CreateDate          string
		}
	}{struct {
		Document, VersionId string
		IsDefaultVersion    bool
		CreateDate          string
	}{encodeDoc(p.Document), onlyVersion, true, timestamp(p.UpdatedAt)}}, nil
}

func deleteManagedPolicy(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	if err := c.h.Svc.Store.DeleteManagedPolicy(c.ctx, p.ARN); err != nil {
		if metadata.Is(err, metadata.Referenced) {
			return nil, &Error{Code: "DeleteConflict", Message: "Cannot delete a policy attached to entities.", Status: 409}
		}
		return nil, err
	}
	return nil, nil
}

// listManagedPolicies lists the account's customer managed policies
// (Scope Local; AWS managed ones are not listed).
func listManagedPolicies(c *call) (any, error) {
	if err := c.authorize("*"); err != nil {
		return nil, err
	}
	ps, err := c.h.Svc.Store.ListManagedPolicies(c.ctx, c.p.Account)
	if err != nil {
		return nil, err
	}
	prefix := c.opt("PathPrefix")
	ps = slices.DeleteFunc(ps, func(p metadata.ManagedPolicy) bool { return !strings.HasPrefix(p.Path, prefix) })
	slices.SortFunc(ps, func(a, b metadata.ManagedPolicy) int { return strings.Compare(a.Name, b.Name) })
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	from, to, next, err := c.page(names)
	if err != nil {
		return nil, err
	}
	var out members[policyXML]
	for _, p := range ps[from:to] {
		out.Member = append(out.Member, policyOf(p))
	}
	return struct {
		Policies members[policyXML]
		paged
	}{out, pagedFor(next)}, nil
}
