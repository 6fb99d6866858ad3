package storetest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

const (
	aliceARN = "arn:aws:iam::123456789012:user/alice"
	roleARN  = "arn:aws:iam::123456789012:role/ci/builder"
	custARN  = "arn:aws:iam::123456789012:policy/pull-team"
	awsARN   = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
)

// iamFixture makes an account with user alice and role ci/builder.
func iamFixture(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	_, err := s.CreateAccount(ctx, metadata.Account{ID: reg, Name: "main"})
	must(t, err)
	_, err = s.CreatePrincipal(ctx, metadata.Principal{ARN: aliceARN, Account: reg, Kind: metadata.KindUser, Name: "alice", ID: "AIDAALICE",
		Tags: []metadata.ResourceTag{{Key: "team", Value: "a"}}})
	must(t, err)
	_, err = s.CreatePrincipal(ctx, metadata.Principal{ARN: roleARN, Account: reg, Kind: metadata.KindRole, Name: "builder", Path: "/ci/",
		ID: "AROABUILDER", TrustPolicy: `{"Statement":[]}`, MaxSessionSeconds: 3600})
	must(t, err)
}

func testAccounts(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	a, err := s.CreateAccount(ctx, metadata.Account{ID: reg, Name: "main"})
	must(t, err)
	if a.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	_, err = s.CreateAccount(ctx, metadata.Account{ID: reg})
	wantKind(t, err, metadata.AlreadyExists, "account")
	_, err = s.CreateAccount(ctx, metadata.Account{ID: other, Name: "second"})
	must(t, err)
	got, err := s.GetAccount(ctx, reg)
	must(t, err)
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("GetAccount = %+v, want %+v", got, a)
	}
	_, err = s.GetAccount(ctx, "999999999999")
	wantKind(t, err, metadata.NotFound, "account")
	list, err := s.ListAccounts(ctx)
	must(t, err)
	if len(list) != 2 || list[0].ID != reg || list[1].ID != other {
		t.Fatalf("ListAccounts = %+v", list)
	}
	// An account is a registry too.
	_, err = s.CreateRepository(ctx, metadata.Repository{RegistryID: other, Name: "r"})
	must(t, err)
}

func testPrincipals(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	_, err := s.CreatePrincipal(ctx, metadata.Principal{ARN: aliceARN, Account: reg, Kind: metadata.KindUser, Name: "alice", ID: "AIDAALICE"})
	wantKind(t, err, metadata.NotFound, "account")
	iamFixture(t, s)
	_, err = s.CreatePrincipal(ctx, metadata.Principal{ARN: aliceARN + "2", Account: reg, Kind: metadata.KindUser, Name: "alice", ID: "AIDAX"})
	wantKind(t, err, metadata.AlreadyExists, "principal")
	_, err = s.CreatePrincipal(ctx, metadata.Principal{ARN: aliceARN, Account: reg, Kind: "group", Name: "x", ID: "x"})
	wantKind(t, err, metadata.Invalid, "principal")

	alice, err := s.GetPrincipal(ctx, aliceARN)
	must(t, err)
	if alice.Path != "/" || alice.ID != "AIDAALICE" || len(alice.Tags) != 1 || alice.Tags[0].Value != "a" {
		t.Fatalf("GetPrincipal = %+v", alice)
	}
	role, err := s.FindPrincipal(ctx, reg, metadata.KindRole, "builder")
	must(t, err)
	if role.ARN != roleARN || role.Path != "/ci/" || role.MaxSessionSeconds != 3600 || role.TrustPolicy == "" {
		t.Fatalf("FindPrincipal = %+v", role)
	}
	_, err = s.FindPrincipal(ctx, reg, metadata.KindUser, "builder")
	wantKind(t, err, metadata.NotFound, "principal")

	names := func(account, kind string) []string {
		list, err := s.ListPrincipals(ctx, account, kind)
		must(t, err)
		var out []string
		for _, p := range list {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names(reg, ""); !reflect.DeepEqual(got, []string{"builder", "alice"}) {
		t.Fatalf("ListPrincipals(reg) = %v (want roles after users? kind order role < user)", got)
	}
	if got := names("", metadata.KindUser); !reflect.DeepEqual(got, []string{"alice"}) {
		t.Fatalf("ListPrincipals(users) = %v", got)
	}

	v0, err := s.AuthzVersion(ctx)
	must(t, err)
	up, err := s.UpdatePrincipal(ctx, roleARN, func(p *metadata.Principal) error {
		p.TrustPolicy, p.MaxSessionSeconds, p.Name = `{"Version":"2012-10-17","Statement":[]}`, 7200, "renamed"
		return nil
	})
	must(t, err)
	if up.Name != "builder" || up.MaxSessionSeconds != 7200 {
		t.Fatalf("UpdatePrincipal = %+v", up)
	}
	if v1, _ := s.AuthzVersion(ctx); v1 <= v0 {
		t.Fatalf("AuthzVersion did not move on UpdatePrincipal: %d → %d", v0, v1)
	}
	_, err = s.UpdatePrincipal(ctx, "arn:aws:iam::123456789012:role/none", func(*metadata.Principal) error { return nil })
	wantKind(t, err, metadata.NotFound, "principal")

	// A role's last use: recorded without moving the authorization
	// version, never moved back by an older use, kept by UpdatePrincipal.
	if !up.LastUsed.IsZero() || up.LastUsedRegion != "" {
		t.Fatalf("never used role: %+v", up)
	}
	used := time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)
	v1, err := s.AuthzVersion(ctx)
	must(t, err)
	must(t, s.PrincipalUsed(ctx, roleARN, used, "eu-west-1"))
	must(t, s.PrincipalUsed(ctx, roleARN, used.Add(-time.Minute), "us-east-1"))
	if v2, _ := s.AuthzVersion(ctx); v2 != v1 {
		t.Fatalf("AuthzVersion moved on PrincipalUsed: %d → %d", v1, v2)
	}
	_, err = s.UpdatePrincipal(ctx, roleARN, func(p *metadata.Principal) error { p.Description = "d"; return nil })
	must(t, err)
	role, err = s.GetPrincipal(ctx, roleARN)
	must(t, err)
	if !role.LastUsed.Equal(used) || role.LastUsedRegion != "eu-west-1" {
		t.Fatalf("after PrincipalUsed: %v %q", role.LastUsed, role.LastUsedRegion)
	}
	if list, _ := s.ListPrincipals(ctx, reg, metadata.KindRole); len(list) != 1 || !list[0].LastUsed.Equal(used) {
		t.Fatalf("ListPrincipals last used: %+v", list)
	}
	err = s.PrincipalUsed(ctx, "arn:aws:iam::123456789012:role/none", used, "eu-west-1")
	wantKind(t, err, metadata.NotFound, "principal")
}

func testIdentityPolicies(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	iamFixture(t, s)
	wantKind(t, s.PutInlinePolicy(ctx, "arn:aws:iam::123456789012:user/nobody", "p", "{}"), metadata.NotFound, "principal")
	must(t, s.PutInlinePolicy(ctx, aliceARN, "b", `{"v":1}`))
	must(t, s.PutInlinePolicy(ctx, aliceARN, "a", `{"v":2}`))
	must(t, s.PutInlinePolicy(ctx, aliceARN, "b", `{"v":3}`)) // replaces

	wantKind(t, s.AttachPolicy(ctx, aliceARN, custARN), metadata.NotFound, "policy")
	p, err := s.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: custARN, Account: reg, Name: "pull-team", Document: `{"d":1}`})
	must(t, err)
	time.Sleep(2 * time.Millisecond)
	p2, err := s.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: custARN, Account: reg, Name: "pull-team", Document: `{"d":2}`})
	must(t, err)
	if !p2.CreatedAt.Equal(p.CreatedAt) || !p2.UpdatedAt.After(p.UpdatedAt) {
		t.Fatalf("PutManagedPolicy replace: created %v→%v updated %v→%v", p.CreatedAt, p2.CreatedAt, p.UpdatedAt, p2.UpdatedAt)
	}
	must(t, s.AttachPolicy(ctx, aliceARN, custARN))
	must(t, s.AttachPolicy(ctx, aliceARN, custARN)) // no-op
	must(t, s.AttachPolicy(ctx, aliceARN, awsARN))  // AWS managed: no row needed

	inline, attached, err := s.PrincipalPolicies(ctx, aliceARN)
	must(t, err)
	if len(inline) != 2 || inline[0].Name != "a" || inline[1].Document != `{"v":3}` {
		t.Fatalf("inline = %+v", inline)
	}
	// Ordered by ARN: the account's digits sort before "aws".
	if len(attached) != 2 || attached[1].ARN != awsARN || attached[1].Document != "" ||
		attached[0].ARN != custARN || attached[0].Document != `{"d":2}` {
		t.Fatalf("attached = %+v", attached)
	}
	list, err := s.ListManagedPolicies(ctx, reg)
	must(t, err)
	if len(list) != 1 || list[0].ARN != custARN {
		t.Fatalf("ListManagedPolicies = %+v", list)
	}
	wantKind(t, s.DeleteManagedPolicy(ctx, custARN), metadata.Referenced, "policy")
	must(t, s.DetachPolicy(ctx, aliceARN, custARN))

	// Tags of a managed policy survive a document replace; a policy used
	// as a permissions boundary cannot be deleted.
	tags := []metadata.ResourceTag{{Key: "team", Value: "infra"}}
	must(t, s.SetManagedPolicyTags(ctx, custARN, tags))
	wantKind(t, s.SetManagedPolicyTags(ctx, "arn:aws:iam::123456789012:policy/none", tags), metadata.NotFound, "policy")
	_, err = s.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: custARN, Account: reg, Name: "pull-team", Document: `{"d":2}`})
	must(t, err)
	if got, err := s.GetManagedPolicy(ctx, custARN); err != nil || !reflect.DeepEqual(got.Tags, tags) {
		t.Fatalf("policy tags = %+v %v, want %+v", got.Tags, err, tags)
	}
	_, err = s.UpdatePrincipal(ctx, roleARN, func(p *metadata.Principal) error { p.PermissionsBoundary = custARN; return nil })
	must(t, err)
	if got, err := s.GetPrincipal(ctx, roleARN); err != nil || got.PermissionsBoundary != custARN {
		t.Fatalf("boundary = %q %v", got.PermissionsBoundary, err)
	}
	wantKind(t, s.DeleteManagedPolicy(ctx, custARN), metadata.Referenced, "policy")
	_, err = s.UpdatePrincipal(ctx, roleARN, func(p *metadata.Principal) error { p.PermissionsBoundary = ""; return nil })
	must(t, err)
	wantKind(t, s.DetachPolicy(ctx, aliceARN, custARN), metadata.NotFound, "attachment")
	must(t, s.DeleteManagedPolicy(ctx, custARN))
	_, err = s.GetManagedPolicy(ctx, custARN)
	wantKind(t, err, metadata.NotFound, "policy")
	must(t, s.DeleteInlinePolicy(ctx, aliceARN, "a"))
	wantKind(t, s.DeleteInlinePolicy(ctx, aliceARN, "a"), metadata.NotFound, "policy")

	// Deleting a principal takes everything of it along.
	must(t, s.CreateAccessKey(ctx, metadata.AccessKey{ID: "AKIAALICE", Secret: []byte("s"), Principal: aliceARN, Account: reg}))
	must(t, s.CreateRegistryCredential(ctx, metadata.RegistryCredential{ID: "ecs-1", SecretHash: []byte{1}, Principal: aliceARN, Account: reg}))
	must(t, s.DeletePrincipal(ctx, aliceARN))
	wantKind(t, s.DeletePrincipal(ctx, aliceARN), metadata.NotFound, "principal")
	inline, attached, err = s.PrincipalPolicies(ctx, aliceARN)
	must(t, err)
	if len(inline)+len(attached) != 0 {
		t.Fatalf("policies of a deleted principal: %+v %+v", inline, attached)
	}
	_, err = s.GetAccessKey(ctx, "AKIAALICE")
	wantKind(t, err, metadata.NotFound, "access key")
	_, err = s.GetRegistryCredential(ctx, "ecs-1")
	wantKind(t, err, metadata.NotFound, "registry credential")
}

func testSessions(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ss := metadata.Session{AccessKeyID: "ASIA1", Sealed: []byte{9, 0, 255}, RoleARN: roleARN, SessionName: "build-1",
		Account: reg, SourceARN: aliceARN, Tags: []metadata.ResourceTag{{Key: "project", Value: "x"}}, CreatedAt: now, Expires: now.Add(time.Hour),
		Policy: `{"Statement":[]}`, PolicyArns: []string{awsARN}, TransitiveTagKeys: []string{"project"}}
	must(t, s.CreateSession(ctx, ss))
	wantKind(t, s.CreateSession(ctx, ss), metadata.AlreadyExists, "session")
	must(t, s.CreateSession(ctx, metadata.Session{AccessKeyID: "ASIA2", Sealed: []byte{1}, RoleARN: roleARN, Expires: now.Add(-time.Minute)}))
	must(t, s.CreateSession(ctx, metadata.Session{AccessKeyID: "ASIA3", Sealed: []byte{1}, RoleARN: "arn:aws:iam::123456789012:role/other", Expires: now.Add(time.Hour)}))
	got, err := s.GetSession(ctx, "ASIA1")
	must(t, err)
	if !reflect.DeepEqual(got, ss) {
		t.Fatalf("GetSession = %+v, want %+v", got, ss)
	}
	n, err := s.PruneSessions(ctx, now)
	must(t, err)
	if n != 1 {
		t.Fatalf("PruneSessions removed %d, want 1", n)
	}
	n, err = s.DeleteSessions(ctx, roleARN)
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteSessions(role) removed %d, want 1", n)
	}
	_, err = s.GetSession(ctx, "ASIA1")
	wantKind(t, err, metadata.NotFound, "session")
	n, err = s.DeleteSessions(ctx, "")
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteSessions(all) removed %d, want 1", n)
	}
}

func testRegistryCredentials(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	iamFixture(t, s)
	c := metadata.RegistryCredential{ID: "ecs-abc", SecretHash: bytes.Repeat([]byte{7}, 32), Principal: roleARN, Account: reg,
		Status: metadata.KeyActive, CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	must(t, s.CreateRegistryCredential(ctx, c))
	wantKind(t, s.CreateRegistryCredential(ctx, c), metadata.AlreadyExists, "registry credential")
	wantKind(t, s.CreateRegistryCredential(ctx, metadata.RegistryCredential{ID: "x", SecretHash: []byte{1},
		Principal: "arn:aws:iam::123456789012:role/none"}), metadata.NotFound, "principal")
	got, err := s.GetRegistryCredential(ctx, "ecs-abc")
	must(t, err)
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("GetRegistryCredential = %+v, want %+v", got, c)
	}
	list, err := s.ListRegistryCredentials(ctx, roleARN)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("ListRegistryCredentials = %+v", list)
	}
	must(t, s.DeleteRegistryCredential(ctx, "ecs-abc"))
	wantKind(t, s.DeleteRegistryCredential(ctx, "ecs-abc"), metadata.NotFound, "registry credential")
}

// testAuthzVersion: every write that can change a decision moves the
// version; reads and image writes do not.
func testAuthzVersion(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	iamFixture(t, s)
	mustRepo(t, s, reg, "app")
	cur, err := s.AuthzVersion(ctx)
	must(t, err)
	step := func(what string, moves bool, fn func() error) {
		t.Helper()
		must(t, fn())
		v, err := s.AuthzVersion(ctx)
		must(t, err)
		if moved := v != cur; moved != moves {
			t.Fatalf("%s: version %d → %d (want moved=%v)", what, cur, v, moves)
		}
		cur = v
	}
	step("repository policy", true, func() error {
		_, err := s.PutPolicy(ctx, metadata.PolicyRepository, reg, "app", "{}")
		return err
	})
	step("registry policy", true, func() error {
		_, err := s.PutPolicy(ctx, metadata.PolicyRegistry, reg, "", "{}")
		return err
	})
	step("lifecycle policy", false, func() error {
		_, err := s.PutPolicy(ctx, metadata.PolicyLifecycle, reg, "app", "{}")
		return err
	})
	step("repository tags", true, func() error {
		_, err := s.UpdateRepository(ctx, reg, "app", func(r *metadata.Repository) error {
			r.Tags = []metadata.ResourceTag{{Key: "env", Value: "prod"}}
			return nil
		})
		return err
	})
	step("tag mutability", false, func() error {
		_, err := s.UpdateRepository(ctx, reg, "app", func(r *metadata.Repository) error {
			r.TagMutability = metadata.Immutable
			return nil
		})
		return err
	})
	step("image push", false, func() error { putImage(t, s, "app", "x"); return nil })
	step("inline policy", true, func() error { return s.PutInlinePolicy(ctx, aliceARN, "p", "{}") })
	step("attach", true, func() error { return s.AttachPolicy(ctx, aliceARN, awsARN) })
	step("setting", true, func() error { return s.PutSetting(ctx, reg, "REGISTRY_POLICY_SCOPE", "V2") })
	step("delete repository", true, func() error {
		_, _, err := s.DeleteRepository(ctx, reg, "app", true)
		return err
	})
}

// testPolicyVersions: v1 comes with the policy; versions are numbered on,
// never reused; at most MaxPolicyVersions; the default version's document
// is the policy's (what authorization reads) and cannot be deleted.
func testPolicyVersions(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	iamFixture(t, s)
	_, err := s.CreatePolicyVersion(ctx, custARN, `{"d":0}`, false, time.Time{})
	wantKind(t, err, metadata.NotFound, "policy")
	p, err := s.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: custARN, Account: reg, Name: "pull-team", Document: `{"d":1}`})
	must(t, err)
	if p.DefaultVersion != "v1" {
		t.Fatalf("DefaultVersion %q", p.DefaultVersion)
	}
	v1, err := s.GetPolicyVersion(ctx, custARN, "v1")
	must(t, err)
	if v1.Document != `{"d":1}` || !v1.IsDefault || v1.CreatedAt.IsZero() {
		t.Fatalf("v1 = %+v", v1)
	}
	// Replacing the policy's document replaces the default version's.
	_, err = s.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: custARN, Account: reg, Name: "pull-team", Document: `{"d":1.5}`})
	must(t, err)
	if v, err := s.GetPolicyVersion(ctx, custARN, "v1"); err != nil || v.Document != `{"d":1.5}` {
		t.Fatalf("v1 after Put = %+v, %v", v, err)
	}
	v2, err := s.CreatePolicyVersion(ctx, custARN, `{"d":2}`, false, time.Time{})
	must(t, err)
	if v2.VersionID != "v2" || v2.IsDefault {
		t.Fatalf("v2 = %+v", v2)
	}
	if p, _ := s.GetManagedPolicy(ctx, custARN); p.Document != `{"d":1.5}` || p.DefaultVersion != "v1" {
		t.Fatalf("a version not set as default changed the policy: %+v", p)
	}
	v3, err := s.CreatePolicyVersion(ctx, custARN, `{"d":3}`, true, time.Time{})
	must(t, err)
	if p, _ := s.GetManagedPolicy(ctx, custARN); v3.VersionID != "v3" || !v3.IsDefault || p.Document != `{"d":3}` || p.DefaultVersion != "v3" {
		t.Fatalf("v3 as default: %+v, policy %+v", v3, p)
	}
	for _, d := range []string{`{"d":4}`, `{"d":5}`} {
		_, err := s.CreatePolicyVersion(ctx, custARN, d, false, time.Time{})
		must(t, err)
	}
	_, err = s.CreatePolicyVersion(ctx, custARN, `{"d":6}`, false, time.Time{})
	wantKind(t, err, metadata.Limit, "policy version")
	vs, err := s.ListPolicyVersions(ctx, custARN)
	must(t, err)
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.VersionID)
		if v.IsDefault != (v.VersionID == "v3") {
			t.Errorf("ListPolicyVersions: %s IsDefault %v", v.VersionID, v.IsDefault)
		}
	}
	if strings.Join(ids, ",") != "v5,v4,v3,v2,v1" {
		t.Fatalf("ListPolicyVersions = %v, want newest first", ids)
	}
	wantKind(t, s.DeletePolicyVersion(ctx, custARN, "v3"), metadata.Referenced, "policy version")
	wantKind(t, s.DeletePolicyVersion(ctx, custARN, "v9"), metadata.NotFound, "policy version")
	must(t, s.SetDefaultPolicyVersion(ctx, custARN, "v2", time.Time{}))
	if p, _ := s.GetManagedPolicy(ctx, custARN); p.Document != `{"d":2}` || p.DefaultVersion != "v2" {
		t.Fatalf("after SetDefaultPolicyVersion v2: %+v", p)
	}
	wantKind(t, s.SetDefaultPolicyVersion(ctx, custARN, "v9", time.Time{}), metadata.NotFound, "policy version")
	must(t, s.DeletePolicyVersion(ctx, custARN, "v1"))
	_, err = s.GetPolicyVersion(ctx, custARN, "v1")
	wantKind(t, err, metadata.NotFound, "policy version")
	// Ids are not reused: the next is v6.
	v6, err := s.CreatePolicyVersion(ctx, custARN, `{"d":6}`, false, time.Time{})
	must(t, err)
	if v6.VersionID != "v6" {
		t.Fatalf("after deleting v1, created %s, want v6", v6.VersionID)
	}
	// Deleting the policy deletes its versions.
	must(t, s.DeleteManagedPolicy(ctx, custARN))
	_, err = s.GetPolicyVersion(ctx, custARN, "v2")
	wantKind(t, err, metadata.NotFound, "policy version")
	_, err = s.ListPolicyVersions(ctx, custARN)
	wantKind(t, err, metadata.NotFound, "policy")
	p, err = s.PutManagedPolicy(ctx, metadata.ManagedPolicy{ARN: custARN, Account: reg, Name: "pull-team", Document: `{"d":1}`})
	must(t, err)
	if vs, err := s.ListPolicyVersions(ctx, custARN); err != nil || len(vs) != 1 || vs[0].VersionID != "v1" || p.DefaultVersion != "v1" {
		t.Fatalf("re-created policy's versions: %+v %v", vs, err)
	}
}
