package iam

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
)

// Applied counts what Apply changed.
type Applied struct {
	Created, Updated int
}

// Apply makes the store match f, idempotently: a second Apply of the same
// file changes nothing. Every document is validated before anything is
// written, so a bad file changes nothing either.
func (s *Service) Apply(ctx context.Context, f *File) (Applied, error) {
	var res Applied
	if err := validateFile(f); err != nil {
		return res, err
	}
	if err := s.checkRefs(ctx, f); err != nil {
		return res, err
	}
	for _, a := range f.Accounts {
		created, err := s.EnsureAccount(ctx, a.ID, a.Name)
		if err != nil {
			return res, err
		}
		if created {
			res.Created++
		}
		for _, p := range a.ManagedPolicies {
			arn := PolicyARN(a.ID, pathOr(p.Path), p.Name)
			cur, err := s.Store.GetManagedPolicy(ctx, arn)
			switch {
			case err == nil && cur.Document == string(p.Document) && cur.Description == p.Description:
				continue
			case err == nil:
				res.Updated++
			case metadata.Is(err, metadata.NotFound):
				res.Created++
			default:
				return res, internal("Apply", err)
			}
			if _, err := s.PutManagedPolicy(ctx, a.ID, p.Name, p.Path, string(p.Document), p.Description); err != nil {
				return res, fmt.Errorf("account %s policy %s: %w", a.ID, p.Name, err)
			}
		}
		if err := s.applyProviders(ctx, a, &res); err != nil {
			return res, err
		}
		for _, u := range a.Users {
			p := principalSpec{kind: metadata.KindUser, name: u.Name, path: u.Path, tags: u.Tags, policies: u.Policies, inline: u.Inline,
				boundary: u.PermissionsBoundary}
			if err := s.applyPrincipal(ctx, a.ID, p, &res); err != nil {
				return res, fmt.Errorf("account %s user %s: %w", a.ID, u.Name, err)
			}
		}
		for _, r := range a.Roles {
			p := principalSpec{kind: metadata.KindRole, name: r.Name, path: r.Path, tags: r.Tags, policies: r.Policies,
				inline: r.Inline, trust: string(r.Trust), maxSession: r.MaxSession, boundary: r.PermissionsBoundary}
			if err := s.applyPrincipal(ctx, a.ID, p, &res); err != nil {
				return res, fmt.Errorf("account %s role %s: %w", a.ID, r.Name, err)
			}
		}
	}
	return res, nil
}

func pathOr(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

type principalSpec struct {
	kind, name, path string
	tags             map[string]string
	policies         []string
	inline           map[string]Document
	trust            string
	maxSession       int
	// boundary is the permissions boundary as written (name or ARN).
	boundary string
}

// applyPrincipal creates or converges one user or role.
func (s *Service) applyPrincipal(ctx context.Context, account string, sp principalSpec, res *Applied) error {
	cur, err := s.Store.FindPrincipal(ctx, account, sp.kind, sp.name)
	changed, created := false, false
	switch {
	case metadata.Is(err, metadata.NotFound):
		if sp.kind == metadata.KindUser {
			cur, err = s.CreateUser(ctx, account, sp.name, sp.path, tagList(sp.tags))
		} else {
			cur, err = s.CreateRole(ctx, account, sp.name, sp.path, sp.trust, sp.maxSession, tagList(sp.tags))
		}
		if err != nil {
			return err
		}
		res.Created++
		created = true
	case err != nil:
		return internal("Apply", err)
	default:
		if sp.kind == metadata.KindRole {
			max := sp.maxSession
			if max == 0 {
				max = minSession
			}
			if cur.TrustPolicy != sp.trust || cur.MaxSessionSeconds != max {
				if err := s.UpdateRole(ctx, cur.ARN, sp.trust, max); err != nil {
					return err
				}
				changed = true
			}
		}
		if want := tagList(sp.tags); !slices.Equal(want, cur.Tags) {
			if err := s.SetPrincipalTags(ctx, cur.ARN, want); err != nil {
				return err
			}
			changed = true
		}
	}
	boundary := ""
	if sp.boundary != "" {
		if boundary, err = ResolvePolicyARN(sp.boundary); err != nil {
			return err
		}
	}
	if boundary != cur.PermissionsBoundary {
		if err := s.SetPermissionsBoundary(ctx, cur.ARN, boundary); err != nil {
			return err
		}
		changed = true
	}
	c, err := s.convergePolicies(ctx, cur.ARN, sp)
	if err != nil {
		return err
	}
	if (changed || c) && !created {
		res.Updated++
	}
	return nil
}

// convergePolicies makes a principal's attached and inline policies those
// of sp.
func (s *Service) convergePolicies(ctx context.Context, arn string, sp principalSpec) (bool, error) {
	inline, attached, err := s.Store.PrincipalPolicies(ctx, arn)
	if err != nil {
		return false, internal("Apply", err)
	}
	changed := false
	want := map[string]bool{}
	for _, ref := range sp.policies {
		pa, err := ResolvePolicyARN(ref)
		if err != nil {
			return false, err
		}
		want[pa] = true
	}
	have := map[string]bool{}
	for _, a := range attached {
		have[a.ARN] = true
		if !want[a.ARN] {
			if err := s.DetachPolicy(ctx, arn, a.ARN); err != nil {
				return false, err
			}
			changed = true
		}
	}
	for pa := range want {
		if !have[pa] {
			if err := s.AttachPolicy(ctx, arn, pa); err != nil {
				return false, err
			}
			changed = true
		}
	}
	current := map[string]string{}
	for _, ip := range inline {
		current[ip.Name] = ip.Document
		if _, ok := sp.inline[ip.Name]; !ok {
			if err := s.DeleteInlinePolicy(ctx, arn, ip.Name); err != nil {
				return false, err
			}
			changed = true
		}
	}
	for name, doc := range sp.inline {
		if d, ok := current[name]; ok && d == string(doc) {
			continue
		}
		if err := s.PutInlinePolicy(ctx, arn, name, string(doc)); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}

// validateFile checks every name, path and document of f before Apply
// writes anything.
func validateFile(f *File) error {
	const op = "Apply"
	seen := map[string]bool{}
	for _, a := range f.Accounts {
		if err := checkAccount(op, a.ID); err != nil {
			return err
		}
		if seen[a.ID] {
			return errorf(op, Invalid, "account %s is listed twice", a.ID)
		}
		seen[a.ID] = true
		for _, p := range a.ManagedPolicies {
			if !policyRE.MatchString(p.Name) {
				return errorf(op, Invalid, "account %s: policy name %q is not valid", a.ID, p.Name)
			}
			if err := checkPath(op, pathOr(p.Path)); err != nil {
				return err
			}
			if err := checkDoc(op, string(p.Document), policy.Identity, "account "+a.ID+" policy "+p.Name); err != nil {
				return err
			}
		}
		names := map[string]bool{}
		unique := func(kind, name string) error {
			k := kind + "/" + strings.ToLower(name)
			if names[k] {
				return errorf(op, Invalid, "account %s: %s %s is listed twice (IAM names ignore case)", a.ID, kind, name)
			}
			names[k] = true
			return nil
		}
		for _, p := range a.ManagedPolicies {
			if err := unique("policy", p.Name); err != nil {
				return err
			}
			if nonSpace(string(p.Document)) > maxManaged {
				return errorf(op, Limit, "account %s policy %s: Cannot exceed quota for PolicySize: %d", a.ID, p.Name, maxManaged)
			}
		}
		for _, u := range a.Users {
			if err := unique(metadata.KindUser, u.Name); err != nil {
				return err
			}
			if err := checkSpec(op, a.ID, metadata.KindUser, u.Name, u.Path, u.Tags, u.Policies, u.Inline); err != nil {
				return err
			}
		}
		for _, r := range a.Roles {
			if err := unique(metadata.KindRole, r.Name); err != nil {
				return err
			}
			if err := checkSpec(op, a.ID, metadata.KindRole, r.Name, r.Path, r.Tags, r.Policies, r.Inline); err != nil {
				return err
			}
			if utf8.RuneCountInString(string(r.Trust)) > maxTrust {
				return errorf(op, Limit, "account %s role %s: Cannot exceed quota for ACLSizePerRole: %d", a.ID, r.Name, maxTrust)
			}
			if err := checkDoc(op, string(r.Trust), policy.Trust, "account "+a.ID+" role "+r.Name+" trust"); err != nil {
				return err
			}
			if r.MaxSession != 0 {
				if err := CheckMaxSession(op, r.MaxSession); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkSpec(op, account, kind, name, path string, tags map[string]string, policies []string, inline map[string]Document) error {
	what := "account " + account + " " + kind + " " + name
	if err := checkName(op, kind+"Name", name); err != nil {
		return err
	}
	if err := checkPath(op, pathOr(path)); err != nil {
		return err
	}
	if err := checkTags(op, tagList(tags)); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	limit := maxUserInline
	if kind == metadata.KindRole {
		limit = maxRoleInline
	}
	for _, ref := range policies {
		if _, err := ResolvePolicyARN(ref); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	for n, doc := range inline {
		if !policyRE.MatchString(n) {
			return errorf(op, Invalid, "%s: policy name %q is not valid", what, n)
		}
		if nonSpace(string(doc)) > limit {
			return errorf(op, Limit, "%s policy %s: Maximum policy size of %d bytes exceeded", what, n, limit)
		}
		if err := checkDoc(op, string(doc), policy.Identity, what+" policy "+n); err != nil {
			return err
		}
	}
	return nil
}

// checkRefs checks, before Apply writes anything, that every customer
// managed policy a user or role of f attaches belongs to the same account
// and is defined in f or already stored.
func (s *Service) checkRefs(ctx context.Context, f *File) error {
	for _, a := range f.Accounts {
		defined := map[string]bool{}
		for _, p := range a.ManagedPolicies {
			defined[PolicyARN(a.ID, pathOr(p.Path), p.Name)] = true
		}
		var refs []string
		for _, u := range a.Users {
			refs = append(refs, u.Policies...)
			if u.PermissionsBoundary != "" {
				refs = append(refs, u.PermissionsBoundary)
			}
		}
		for _, r := range a.Roles {
			refs = append(refs, r.Policies...)
			if r.PermissionsBoundary != "" {
				refs = append(refs, r.PermissionsBoundary)
			}
		}
		for _, ref := range refs {
			arn, err := ResolvePolicyARN(ref)
			if err != nil {
				return err
			}
			acct, _, customer := ParseARN(arn)
			if !customer || defined[arn] {
				continue
			}
			if acct != a.ID {
				return errorf("Apply", NotFound, "account %s: Policy %s does not exist or is not attachable.", a.ID, arn)
			}
			if _, err := s.Store.GetManagedPolicy(ctx, arn); err != nil {
				return storeErr("Apply", err, "Policy "+arn)
			}
		}
	}
	return nil
}

func checkDoc(op, doc string, k policy.Kind, what string) error {
	if _, err := policy.Parse(doc, k); err != nil {
		return errorf(op, Malformed, "%s: %s", what, err.Error())
	}
	return nil
}
