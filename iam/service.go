package iam

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// Service manages identities in the metadata store: what `berth iam`, the
// declarative file and STS call. Secrets are sealed with Keyring and
// returned only by the call that creates them.
type Service struct {
	Store   metadata.Store
	Keyring *crypt.Keyring
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// LastUsed records a role's use when a session of it is created (nil:
	// not recorded).
	LastUsed *LastUsed
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// storeErr maps a metadata error onto this package's kinds; what names the
// entity in AWS's words ("The user with name alice").
func storeErr(op string, err error, what string) error {
	switch metadata.KindOf(err) {
	case metadata.NotFound:
		return errorf(op, NotFound, "%s cannot be found.", what)
	case metadata.AlreadyExists:
		return errorf(op, Exists, "%s already exists.", what)
	case metadata.Referenced:
		return errorf(op, Conflict, "Cannot delete a policy attached to entities.")
	}
	return internal(op, err)
}

// EnsureAccount creates account id (named name) unless it exists.
func (s *Service) EnsureAccount(ctx context.Context, id, name string) (created bool, err error) {
	const op = "EnsureAccount"
	if err := checkAccount(op, id); err != nil {
		return false, err
	}
	if _, err := s.Store.GetAccount(ctx, id); err == nil {
		return false, nil
	} else if !metadata.Is(err, metadata.NotFound) {
		return false, internal(op, err)
	}
	if _, err := s.Store.CreateAccount(ctx, metadata.Account{ID: id, Name: name, CreatedAt: s.now()}); err != nil {
		if metadata.Is(err, metadata.AlreadyExists) {
			return false, nil
		}
		return false, internal(op, err)
	}
	return true, nil
}

// CreateUser adds IAM user name (path "/" when empty) to account.
func (s *Service) CreateUser(ctx context.Context, account, name, path string, tags []metadata.ResourceTag) (metadata.Principal, error) {
	return s.createPrincipal(ctx, "CreateUser", metadata.Principal{Account: account, Kind: metadata.KindUser, Name: name, Path: path, Tags: tags})
}

// CreateRole adds a role trusting what trust allows; maxSession 0 means
// one hour.
func (s *Service) CreateRole(ctx context.Context, account, name, path, trust string, maxSession int, tags []metadata.ResourceTag) (metadata.Principal, error) {
	const op = "CreateRole"
	if err := checkTrust(op, trust); err != nil {
		return metadata.Principal{}, err
	}
	if maxSession == 0 {
		maxSession = minSession
	}
	if err := CheckMaxSession(op, maxSession); err != nil {
		return metadata.Principal{}, err
	}
	return s.createPrincipal(ctx, op, metadata.Principal{Account: account, Kind: metadata.KindRole, Name: name, Path: path,
		TrustPolicy: trust, MaxSessionSeconds: maxSession, Tags: tags})
}

func checkTrust(op, trust string) error {
	if utf8.RuneCountInString(trust) > maxTrust {
		return errorf(op, Limit, "Cannot exceed quota for ACLSizePerRole: %d", maxTrust)
	}
	if _, err := policy.Parse(trust, policy.Trust); err != nil {
		return errorf(op, Malformed, "%s", err.Error())
	}
	return nil
}

// CheckMaxSession is the rule for a role's maximum session duration
// (3600–43200 s), with IAM's validation message; op names the call.
func CheckMaxSession(op string, secs int) error {
	if secs < minSession || secs > maxSession {
		return errorf(op, Invalid, "1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between %d and %d", secs, minSession, maxSession)
	}
	return nil
}

func (s *Service) createPrincipal(ctx context.Context, op string, p metadata.Principal) (metadata.Principal, error) {
	if p.Path == "" {
		p.Path = "/"
	}
	if err := checkAccount(op, p.Account); err != nil {
		return p, err
	}
	if err := checkName(op, p.Kind+"Name", p.Name); err != nil {
		return p, err
	}
	if err := checkPath(op, p.Path); err != nil {
		return p, err
	}
	if err := checkTags(op, p.Tags); err != nil {
		return p, err
	}
	if _, err := s.Store.GetAccount(ctx, p.Account); err != nil {
		return p, storeErr(op, err, "The account "+p.Account)
	}
	prefix := "AIDA"
	if p.Kind == metadata.KindRole {
		prefix = "AROA"
	}
	id, err := newID(prefix)
	if err != nil {
		return p, internal(op, err)
	}
	p.ID, p.ARN, p.CreatedAt = id, arnFor(p.Account, p.Kind, p.Path, p.Name), s.now()
	// IAM names are unique per account whatever the path and the case.
	if existing, err := s.Store.ListPrincipals(ctx, p.Account, p.Kind); err != nil {
		return p, internal(op, err)
	} else {
		for _, e := range existing {
			if strings.EqualFold(e.Name, p.Name) {
				return p, errorf(op, Exists, "%s with name %s already exists.", title(p.Kind), p.Name)
			}
		}
	}
	out, err := s.Store.CreatePrincipal(ctx, p)
	if err != nil {
		return p, storeErr(op, err, fmt.Sprintf("%s with name %s", title(p.Kind), p.Name))
	}
	return out, nil
}

func title(kind string) string { return strings.ToUpper(kind[:1]) + kind[1:] }

// CheckTags checks tags as IAM does (at most 50, keys 1–128 and values
// 0–256 characters), for edges that must refuse before making anything.
func CheckTags(op string, tags []metadata.ResourceTag) error { return checkTags(op, tags) }

func checkTags(op string, tags []metadata.ResourceTag) error {
	if len(tags) > 50 {
		return errorf(op, Limit, "The number of tags has reached the maximum limit.")
	}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || utf8.RuneCountInString(t.Value) > 256 {
			return errorf(op, Invalid, "Tag keys must be 1-128 characters and values 0-256 characters.")
		}
	}
	return nil
}

// UpdateRole replaces a role's trust policy (when trust is not "") and
// maximum session duration (when maxSession is not 0).
func (s *Service) UpdateRole(ctx context.Context, arn, trust string, maxSession int) error {
	const op = "UpdateRole"
	if trust != "" {
		if err := checkTrust(op, trust); err != nil {
			return err
		}
	}
	if maxSession != 0 {
		if err := CheckMaxSession(op, maxSession); err != nil {
			return err
		}
	}
	_, err := s.Store.UpdatePrincipal(ctx, arn, func(p *metadata.Principal) error {
		if p.Kind != metadata.KindRole {
			return errorf(op, NotFound, "The role with name %s cannot be found.", p.Name)
		}
		if trust != "" {
			p.TrustPolicy = trust
		}
		if maxSession != 0 {
			p.MaxSessionSeconds = maxSession
		}
		return nil
	})
	if err != nil {
		if e := (*Error)(nil); asError(err, &e) {
			return e
		}
		return storeErr(op, err, "The role "+arn)
	}
	return nil
}

// SetPrincipalTags replaces a user's or role's tags (aws:PrincipalTag/…).
func (s *Service) SetPrincipalTags(ctx context.Context, arn string, tags []metadata.ResourceTag) error {
	const op = "TagPrincipal"
	if err := checkTags(op, tags); err != nil {
		return err
	}
	_, err := s.Store.UpdatePrincipal(ctx, arn, func(p *metadata.Principal) error {
		p.Tags = tags
		return nil
	})
	if err != nil {
		return storeErr(op, err, "The principal "+arn)
	}
	return nil
}

// DeletePrincipal removes a user or role with everything it holds: its
// policies, keys, sessions and registry credentials (and so every login
// token issued to them).
func (s *Service) DeletePrincipal(ctx context.Context, arn string) error {
	const op = "DeletePrincipal"
	if err := s.Store.DeletePrincipal(ctx, arn); err != nil {
		return storeErr(op, err, "The principal "+arn)
	}
	return nil
}

// Principal reads a user or role.
func (s *Service) Principal(ctx context.Context, arn string) (metadata.Principal, error) {
	p, err := s.Store.GetPrincipal(ctx, arn)
	if err != nil {
		return p, storeErr("GetPrincipal", err, "The principal "+arn)
	}
	return p, nil
}

// Find looks a user or role up by account, kind and name.
func (s *Service) Find(ctx context.Context, account, kind, name string) (metadata.Principal, error) {
	p, err := s.Store.FindPrincipal(ctx, account, kind, name)
	if err != nil {
		return p, storeErr("Find", err, fmt.Sprintf("The %s with name %s", kind, name))
	}
	return p, nil
}

// CreateAccessKey gives a user a new active key (at most two per user, as
// IAM allows) and returns its secret, which is shown only now.
func (s *Service) CreateAccessKey(ctx context.Context, userARN string) (id, secret string, err error) {
	const op = "CreateAccessKey"
	u, err := s.Store.GetPrincipal(ctx, userARN)
	if err != nil {
		return "", "", storeErr(op, err, "The user "+userARN)
	}
	if u.Kind != metadata.KindUser {
		return "", "", errorf(op, Invalid, "Access keys belong to users; %s is a role.", userARN)
	}
	keys, err := s.Store.ListAccessKeys(ctx, userARN)
	if err != nil {
		return "", "", internal(op, err)
	}
	if len(keys) >= maxKeysPerUser {
		return "", "", errorf(op, Limit, "Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
	}
	return s.newKey(ctx, op, userARN, u.Account)
}

// CreateServiceKey makes a credential for a service principal (such as
// codebuild.amazonaws.com) in account: signed requests with it act as the
// service, which may only assume roles whose trust policy names it. It is
// how a self-hosted CI system stands in for the AWS service.
func (s *Service) CreateServiceKey(ctx context.Context, account, service string) (id, secret string, err error) {
	const op = "CreateServiceKey"
	if err := checkAccount(op, account); err != nil {
		return "", "", err
	}
	if !serviceRE.MatchString(service) {
		return "", "", errorf(op, Invalid, "Service principal %q is not a name like codebuild.amazonaws.com", service)
	}
	if _, err := s.Store.GetAccount(ctx, account); err != nil {
		return "", "", storeErr(op, err, "The account "+account)
	}
	return s.newKey(ctx, op, service, account)
}

func (s *Service) newKey(ctx context.Context, op, owner, account string) (string, string, error) {
	id, secret, err := auth.NewAccessKey(auth.PrefixLongLived)
	if err != nil {
		return "", "", internal(op, err)
	}
	sealed, err := auth.SealSecret(s.Keyring, secret)
	if err != nil {
		return "", "", internal(op, err)
	}
	if err := s.Store.CreateAccessKey(ctx, metadata.AccessKey{ID: id, Secret: sealed, Principal: owner, Account: account,
		Status: metadata.KeyActive, CreatedAt: s.now()}); err != nil {
		return "", "", internal(op, err)
	}
	return id, secret, nil
}

// SetAccessKeyStatus activates or deactivates a key; an inactive key
// signs nothing and its login tokens stop working.
func (s *Service) SetAccessKeyStatus(ctx context.Context, id string, active bool) error {
	st := metadata.KeyInactive
	if active {
		st = metadata.KeyActive
	}
	if err := s.Store.SetAccessKeyStatus(ctx, id, st); err != nil {
		return storeErr("UpdateAccessKey", err, "The Access Key with id "+id)
	}
	return nil
}

// DeleteAccessKey removes a key (and so its login tokens).
func (s *Service) DeleteAccessKey(ctx context.Context, id string) error {
	if err := s.Store.DeleteAccessKey(ctx, id); err != nil {
		return storeErr("DeleteAccessKey", err, "The Access Key with id "+id)
	}
	return nil
}

// PutInlinePolicy embeds a policy document named name in a user or role.
func (s *Service) PutInlinePolicy(ctx context.Context, principalARN, name, doc string) error {
	const op = "PutPrincipalPolicy"
	if !policyRE.MatchString(name) {
		return errorf(op, Invalid, "1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	p, err := s.Store.GetPrincipal(ctx, principalARN)
	if err != nil {
		return storeErr(op, err, "The principal "+principalARN)
	}
	limit := maxUserInline
	if p.Kind == metadata.KindRole {
		limit = maxRoleInline
	}
	if n := nonSpace(doc); n > limit {
		return errorf(op, Limit, "Maximum policy size of %d bytes exceeded for %s %s", limit, p.Kind, p.Name)
	}
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		return errorf(op, Malformed, "%s", err.Error())
	}
	if err := s.Store.PutInlinePolicy(ctx, principalARN, name, doc); err != nil {
		return storeErr(op, err, "The principal "+principalARN)
	}
	return nil
}

// DeleteInlinePolicy removes an inline policy.
func (s *Service) DeleteInlinePolicy(ctx context.Context, principalARN, name string) error {
	if err := s.Store.DeleteInlinePolicy(ctx, principalARN, name); err != nil {
		return storeErr("DeletePrincipalPolicy", err, "The policy with name "+name)
	}
	return nil
}

// nonSpace counts the characters IAM counts against policy size quotas.
func nonSpace(doc string) int {
	n := 0
	for _, r := range doc {
		if r != ' ' && r != '\t' && r != '\n' && r != '\r' {
			n++
		}
	}
	return n
}

// PutManagedPolicy creates or replaces customer managed policy name in
// account and returns its ARN.
func (s *Service) PutManagedPolicy(ctx context.Context, account, name, path, doc, description string) (string, error) {
	const op = "CreatePolicy"
	if path == "" {
		path = "/"
	}
	if err := checkAccount(op, account); err != nil {
		return "", err
	}
	if !policyRE.MatchString(name) {
		return "", errorf(op, Invalid, "1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name)
	}
	if err := checkPath(op, path); err != nil {
		return "", err
	}
	if err := checkManagedDoc(op, doc); err != nil {
		return "", err
	}
	arn := PolicyARN(account, path, name)
	if _, err := s.Store.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: arn, Account: account, Name: name, Path: path,
		Description: description, Document: doc, UpdatedAt: s.now()}); err != nil {
		return "", internal(op, err)
	}
	return arn, nil
}

// ResolvePolicyARN accepts an AWS managed policy's name or ARN, or a
// customer managed policy's ARN, and returns the ARN.
func ResolvePolicyARN(ref string) (string, error) {
	if !strings.HasPrefix(ref, "arn:") {
		arn, _, ok := policy.Managed(ref)
		if !ok {
			return "", errorf("AttachPolicy", NotFound, "Policy %s does not exist or is not attachable.", ref)
		}
		return arn, nil
	}
	if strings.HasPrefix(ref, "arn:aws:iam::aws:policy/") {
		if _, _, ok := policy.ManagedByARN(ref); !ok {
			return "", errorf("AttachPolicy", NotFound, "Policy %s does not exist or is not attachable.", ref)
		}
	}
	return ref, nil
}

// AttachPolicy attaches a managed policy (see ResolvePolicyARN).
func (s *Service) AttachPolicy(ctx context.Context, principalARN, ref string) error {
	const op = "AttachPolicy"
	arn, err := ResolvePolicyARN(ref)
	if err != nil {
		return err
	}
	if acct, _, ok := ParseARN(arn); ok {
		// A customer managed policy is attachable in its own account only.
		if pacct, _, _ := ParseARN(principalARN); pacct != acct {
			return errorf(op, NotFound, "Policy %s does not exist or is not attachable.", arn)
		}
	}
	if err := s.Store.AttachPolicy(ctx, principalARN, arn); err != nil {
		if metadata.Is(err, metadata.NotFound) {
			if _, perr := s.Store.GetPrincipal(ctx, principalARN); perr != nil {
				return storeErr(op, perr, "The principal "+principalARN)
			}
			return errorf(op, NotFound, "Policy %s does not exist or is not attachable.", arn)
		}
		return internal(op, err)
	}
	return nil
}

// DetachPolicy detaches a managed policy.
func (s *Service) DetachPolicy(ctx context.Context, principalARN, ref string) error {
	arn, err := ResolvePolicyARN(ref)
	if err != nil {
		return err
	}
	if err := s.Store.DetachPolicy(ctx, principalARN, arn); err != nil {
		return storeErr("DetachPolicy", err, "Policy "+arn+" attached to "+principalARN)
	}
	return nil
}

// RevokeSessions ends every session of a role (every role when roleARN is
// ""), and with them their login tokens.
func (s *Service) RevokeSessions(ctx context.Context, roleARN string) (int, error) {
	n, err := s.Store.DeleteSessions(ctx, roleARN)
	if err != nil {
		return 0, internal("RevokeSessions", err)
	}
	return n, nil
}

// CreateRegistryCredential makes a long-lived /v2 Basic credential that
// acts as principalARN (a role: the requests act as a session of it named
// after the credential; or a user), for clients that cannot call
// GetAuthorizationToken, like the ECS agent's ECS_ENGINE_AUTH_DATA on EC2
// instances. ttl 0 means it never expires. The password is shown only
// now; berth keeps its SHA-256.
func (s *Service) CreateRegistryCredential(ctx context.Context, principalARN string, ttl time.Duration) (user, password string, err error) {
	const op = "CreateRegistryCredential"
	p, err := s.Store.GetPrincipal(ctx, principalARN)
	if err != nil {
		return "", "", storeErr(op, err, "The principal "+principalARN)
	}
	var b [16 + 30]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", internal(op, err)
	}
	user = credentialPrefix + base32.StdEncoding.EncodeToString(b[:10])
	password = base64.RawURLEncoding.EncodeToString(b[10:])
	sum := sha256.Sum256([]byte(password))
	c := metadata.RegistryCredential{ID: user, SecretHash: sum[:], Principal: p.ARN, Account: p.Account,
		Status: metadata.KeyActive, CreatedAt: s.now()}
	if ttl > 0 {
		c.Expires = s.now().Add(ttl)
	}
	if err := s.Store.CreateRegistryCredential(ctx, c); err != nil {
		return "", "", internal(op, err)
	}
	return user, password, nil
}

// DeleteRegistryCredential revokes a registry credential.
func (s *Service) DeleteRegistryCredential(ctx context.Context, id string) error {
	if err := s.Store.DeleteRegistryCredential(ctx, id); err != nil {
		return storeErr("DeleteRegistryCredential", err, "The registry credential "+id)
	}
	return nil
}

// checkManagedDoc checks a managed policy document: its size (white space
// not counted) and its grammar.
func checkManagedDoc(op, doc string) error {
	if n := nonSpace(doc); n > maxManaged {
		return errorf(op, Limit, "Cannot exceed quota for PolicySize: %d", maxManaged)
	}
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		return errorf(op, Malformed, "%s", err.Error())
	}
	return nil
}

// CreatePolicyVersion adds a version to a customer managed policy and,
// with setDefault, makes it the one in force. A policy has at most
// metadata.MaxPolicyVersions versions (LimitExceeded in AWS's words).
func (s *Service) CreatePolicyVersion(ctx context.Context, arn, doc string, setDefault bool) (metadata.PolicyVersion, error) {
	const op = "CreatePolicyVersion"
	if err := checkManagedDoc(op, doc); err != nil {
		return metadata.PolicyVersion{}, err
	}
	v, err := s.Store.CreatePolicyVersion(ctx, arn, doc, setDefault, s.now())
	switch {
	case metadata.Is(err, metadata.Limit):
		return v, errorf(op, Limit, "A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", metadata.MaxPolicyVersions)
	case metadata.Is(err, metadata.NotFound):
		return v, errorf(op, NotFound, "Policy %s does not exist or is not attachable.", arn)
	case err != nil:
		return v, internal(op, err)
	}
	return v, nil
}
