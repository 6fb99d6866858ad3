package iamapi

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
)

// versionRE is IAM's pattern for a policy version id.
var versionRE = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

type policyXML struct {
	PolicyName, PolicyId, Arn, Path, DefaultVersionId string
	AttachmentCount                                   int
	IsAttachable                                      bool
	Description                                       string `xml:",omitempty"`
	CreateDate, UpdateDate                            string
	Tags                                              *tagsXML `xml:",omitempty"`
}

// policyID is a stable ANPA… id derived from the ARN (the store keeps none).
func policyID(arn string) string {
	h := sha256.Sum256([]byte(arn))
	return "ANPA" + strings.ToUpper(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])[:17])
}

func policyOf(p metadata.ManagedPolicy) policyXML {
	return policyXML{PolicyName: p.Name, PolicyId: policyID(p.ARN), Arn: p.ARN, Path: p.Path, DefaultVersionId: p.DefaultVersion,
		IsAttachable: true, Description: p.Description, CreateDate: timestamp(p.CreatedAt), UpdateDate: timestamp(p.UpdatedAt),
		Tags: tags(p.Tags)}
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
	if err := iam.CheckTags(c.action, c.tags()); err != nil {
		return nil, err
	}
	if _, err := c.h.Svc.Store.GetManagedPolicy(c.ctx, arn); err == nil {
		return nil, &Error{Code: "EntityAlreadyExists", Message: "A policy called " + name + " already exists. Duplicate names are not allowed.", Status: 409}
	}
	if _, err := c.h.Svc.PutManagedPolicy(c.ctx, c.p.Account, name, path, doc, c.opt("Description")); err != nil {
		return nil, err
	}
	if ts := c.tags(); len(ts) > 0 {
		if err := c.h.Svc.SetPolicyTags(c.ctx, arn, ts); err != nil {
			return nil, err
		}
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

type versionXML struct {
	Document         string `xml:",omitempty"` // not in ListPolicyVersions
	VersionId        string
	IsDefaultVersion bool
	CreateDate       string
}

func versionOf(v metadata.PolicyVersion, doc bool) versionXML {
	x := versionXML{VersionId: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: timestamp(v.CreatedAt)}
	if doc {
		x.Document = encodeDoc(v.Document)
	}
	return x
}

// version reads the policy (authorized) and the VersionId it names.
func (c *call) version() (metadata.ManagedPolicy, string, error) {
	p, err := c.managed()
	if err != nil {
		return p, "", err
	}
	v, err := c.need("VersionId")
	if err != nil {
		return p, "", err
	}
	if !versionRE.MatchString(v) {
		return p, "", invalid("1 validation error detected: Value '%s' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", v)
	}
	return p, v, nil
}

func noSuchVersion(arn, v string) *Error {
	return noSuch("Policy %s version %s does not exist or is not attachable.", arn, v)
}

func getPolicyVersion(c *call) (any, error) {
	p, id, err := c.version()
	if err != nil {
		return nil, err
	}
	v, err := c.h.Svc.Store.GetPolicyVersion(c.ctx, p.ARN, id)
	if metadata.Is(err, metadata.NotFound) {
		return nil, noSuchVersion(p.ARN, id)
	}
	if err != nil {
		return nil, err
	}
	return struct{ PolicyVersion versionXML }{versionOf(v, true)}, nil
}

func createPolicyVersion(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	doc, err := c.need("PolicyDocument")
	if err != nil {
		return nil, err
	}
	setDefault := false
	switch d := c.opt("SetAsDefault"); d {
	case "", "false":
	case "true":
		setDefault = true
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'setAsDefault' failed to satisfy constraint: Member must be a boolean", d)
	}
	v, err := c.h.Svc.CreatePolicyVersion(c.ctx, p.ARN, doc, setDefault)
	if err != nil {
		return nil, err
	}
	return struct{ PolicyVersion versionXML }{versionOf(v, false)}, nil
}

func listPolicyVersions(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	vs, err := c.h.Svc.Store.ListPolicyVersions(c.ctx, p.ARN)
	if err != nil {
		return nil, err
	}
	// Newest first; page's markers need keys in ascending order, so a
	// version's key is its number counted down (stable across deletes).
	keys := make([]string, len(vs))
	for i, v := range vs {
		n, _ := strconv.Atoi(strings.TrimPrefix(v.VersionID, "v"))
		keys[i] = fmt.Sprintf("%010d", 1_000_000_000-n)
	}
	from, to, next, err := c.page(keys)
	if err != nil {
		return nil, err
	}
	var out members[versionXML]
	for _, v := range vs[from:to] {
		out.Member = append(out.Member, versionOf(v, false))
	}
	return struct {
		Versions members[versionXML]
		paged
	}{out, pagedFor(next)}, nil
}

func setDefaultPolicyVersion(c *call) (any, error) {
	p, id, err := c.version()
	if err != nil {
		return nil, err
	}
	err = c.h.Svc.Store.SetDefaultPolicyVersion(c.ctx, p.ARN, id, time.Now())
	if metadata.Is(err, metadata.NotFound) {
		return nil, noSuchVersion(p.ARN, id)
	}
	return nil, err
}

func deletePolicyVersion(c *call) (any, error) {
	p, id, err := c.version()
	if err != nil {
		return nil, err
	}
	err = c.h.Svc.Store.DeletePolicyVersion(c.ctx, p.ARN, id)
	switch {
	case metadata.Is(err, metadata.NotFound):
		return nil, noSuchVersion(p.ARN, id)
	case metadata.Is(err, metadata.Referenced):
		return nil, &Error{Code: "DeleteConflict", Message: "Cannot delete the default version of a policy.", Status: 409}
	}
	return nil, err
}

func deleteManagedPolicy(c *call) (any, error) {
	p, err := c.managed()
	if err != nil {
		return nil, err
	}
	// IAM deletes the default version with the policy, no other.
	vs, err := c.h.Svc.Store.ListPolicyVersions(c.ctx, p.ARN)
	if err != nil {
		return nil, err
	}
	if len(vs) > 1 {
		return nil, &Error{Code: "DeleteConflict", Message: "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.", Status: 409}
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
