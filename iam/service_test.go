package iam

import (
	"strings"
	"testing"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/metadata"
)

func TestCreatePrincipals(t *testing.T) {
	trust := trustDoc(aws("arn:aws:iam::111111111111:root"), assume, "")
	tests := []struct {
		name    string
		setup   func(e *env)
		create  func(e *env) (metadata.Principal, error)
		kind    Kind // 0: success
		msg     string
		wantARN string
	}{
		{name: "user", wantARN: "arn:aws:iam::111111111111:user/alice",
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "alice", "", nil) }},
		{name: "user with path", wantARN: "arn:aws:iam::111111111111:user/ci/team/alice",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "alice", "/ci/team/", nil)
			}},
		{name: "user name with every allowed character", wantARN: "arn:aws:iam::111111111111:user/a_Z9+=,.@-",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "a_Z9+=,.@-", "/", nil)
			}},
		{name: "user name of 64 characters", wantARN: "arn:aws:iam::111111111111:user/" + strings.Repeat("n", 64),
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, strings.Repeat("n", 64), "/", nil)
			}},
		{name: "user name of 65 characters", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, strings.Repeat("n", 65), "/", nil)
			}},
		{name: "empty user name", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "", "/", nil) }},
		{name: "user name with a space", kind: Invalid,
			msg:    "1 validation error detected: Value 'al ice' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and 64",
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "al ice", "/", nil) }},
		{name: "user name with a slash", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "ci/alice", "/", nil) }},
		{name: "user name not ASCII", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "ålice", "/", nil) }},
		{name: "path without the trailing slash", kind: Invalid,
			msg:    "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.",
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "alice", "/ci", nil) }},
		{name: "path without the leading slash", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "alice", "ci/", nil) }},
		{name: "path with a space", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "alice", "/c i/", nil) }},
		{name: "path of 512 characters", wantARN: "arn:aws:iam::111111111111:user/" + strings.Repeat("p", 510) + "/alice",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "alice", "/"+strings.Repeat("p", 510)+"/", nil)
			}},
		{name: "path of 513 characters", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "alice", "/"+strings.Repeat("p", 511)+"/", nil)
			}},
		{name: "account id not 12 digits", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, "12345", "alice", "/", nil) }},
		{name: "account that does not exist", kind: NotFound,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, "999999999999", "alice", "/", nil)
			}},
		{name: "duplicate user name", kind: Exists, msg: "User with name alice already exists.",
			setup:  func(e *env) { e.user(acctA, "alice", nil) },
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "alice", "/", nil) }},
		{name: "duplicate user name in another case", kind: Exists, msg: "User with name ALICE already exists.",
			setup:  func(e *env) { e.user(acctA, "alice", nil) },
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctA, "ALICE", "/", nil) }},
		{name: "duplicate user name on another path", kind: Exists,
			setup: func(e *env) { e.user(acctA, "alice", nil) },
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "Alice", "/other/", nil)
			}},
		{name: "same user name in another account", wantARN: "arn:aws:iam::222222222222:user/alice",
			setup:  func(e *env) { e.user(acctA, "alice", nil) },
			create: func(e *env) (metadata.Principal, error) { return e.svc.CreateUser(e.ctx, acctB, "alice", "/", nil) }},
		{name: "role named like a user", wantARN: "arn:aws:iam::111111111111:role/alice",
			setup: func(e *env) { e.user(acctA, "alice", nil) },
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "alice", "/", trust, 0, nil)
			}},
		{name: "duplicate role name in another case", kind: Exists, msg: "Role with name BUILDER already exists.",
			setup: func(e *env) { e.role(acctA, "builder", trust, nil) },
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "BUILDER", "/", trust, 0, nil)
			}},
		{name: "too many tags", kind: Limit,
			create: func(e *env) (metadata.Principal, error) {
				var ts []string
				for i := 0; i < 51; i++ {
					ts = append(ts, "k"+strings.Repeat("x", i), "v")
				}
				return e.svc.CreateUser(e.ctx, acctA, "alice", "/", tags(ts...))
			}},
		{name: "empty tag key", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "alice", "/", tags("", "v"))
			}},
		{name: "tag value of 257 characters", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateUser(e.ctx, acctA, "alice", "/", tags("k", strings.Repeat("v", 257)))
			}},

		// Roles.
		{name: "role", wantARN: "arn:aws:iam::111111111111:role/service-role/builder",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/service-role/", trust, 0, nil)
			}},
		{name: "role with a malformed trust policy", kind: Malformed, msg: "Has prohibited field Resource",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", doc(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}`), 0, nil)
			}},
		{name: "role trust with a non-STS action", kind: Malformed, msg: "AssumeRole policy may only specify STS AssumeRole actions.",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", trustDoc(`"*"`, `"ecr:*"`, ""), 0, nil)
			}},
		{name: "role trust not JSON", kind: Malformed, msg: "Syntax errors in policy.",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", "{", 0, nil)
			}},
		{name: "role trust above 2048 characters", kind: Limit,
			create: func(e *env) (metadata.Principal, error) {
				big := doc(`{"Sid":"` + strings.Repeat("S", 2048) + `","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`)
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", big, 0, nil)
			}},
		{name: "role session limit below an hour", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", trust, 3599, nil)
			}},
		{name: "role session limit above twelve hours", kind: Invalid,
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", trust, 43201, nil)
			}},
		{name: "role session limit twelve hours", wantARN: "arn:aws:iam::111111111111:role/builder",
			create: func(e *env) (metadata.Principal, error) {
				return e.svc.CreateRole(e.ctx, acctA, "builder", "/", trust, 43200, nil)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			p, err := tc.create(e)
			if tc.kind != 0 {
				wantKind(t, err, tc.kind)
				if tc.msg != "" && err.(*Error).Message != tc.msg {
					t.Errorf("message\n got %q\nwant %q", err.(*Error).Message, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.ARN != tc.wantARN {
				t.Errorf("ARN %q, want %q", p.ARN, tc.wantARN)
			}
			got, err := e.st.GetPrincipal(e.ctx, p.ARN)
			if err != nil {
				t.Fatalf("stored: %v", err)
			}
			prefix := "AIDA"
			if got.Kind == metadata.KindRole {
				prefix = "AROA"
				if got.MaxSessionSeconds < 3600 {
					t.Errorf("role max session %d", got.MaxSessionSeconds)
				}
			}
			if !strings.HasPrefix(got.ID, prefix) || len(got.ID) != 21 || got.ID != p.ID {
				t.Errorf("unique id %q (returned %q), want %s + 17 characters", got.ID, p.ID, prefix)
			}
		})
	}
}

func TestRoleDefaultsAndUpdates(t *testing.T) {
	e := newEnv(t)
	trust := trustDoc(aws("arn:aws:iam::111111111111:root"), assume, "")
	r, err := e.svc.CreateRole(e.ctx, acctA, "builder", "/", trust, 0, tags("team", "a"))
	e.must(err)
	if r.MaxSessionSeconds != 3600 {
		t.Errorf("default max session %d, want 3600", r.MaxSessionSeconds)
	}
	trust2 := trustDoc(`{"Service":"codebuild.amazonaws.com"}`, assume, "")
	tests := []struct {
		name  string
		arn   string
		trust string
		max   int
		kind  Kind
	}{
		{"new trust", r.ARN, trust2, 0, 0},
		{"new session limit", r.ARN, "", 7200, 0},
		{"bad session limit", r.ARN, "", 60, Invalid},
		{"bad trust", r.ARN, doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`), 0, Malformed},
		{"missing role", RoleARN(acctA, "/", "ghost"), trust2, 0, NotFound},
		{"a user is not a role", e.user(acctA, "alice", nil).ARN, trust2, 0, NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := e.svc.UpdateRole(e.ctx, tc.arn, tc.trust, tc.max)
			if tc.kind != 0 {
				wantKind(t, err, tc.kind)
				return
			}
			e.must(err)
		})
	}
	got, err := e.svc.Principal(e.ctx, r.ARN)
	e.must(err)
	if got.TrustPolicy != trust2 || got.MaxSessionSeconds != 7200 || len(got.Tags) != 1 {
		t.Errorf("role after updates: trust %s max %d tags %v", got.TrustPolicy, got.MaxSessionSeconds, got.Tags)
	}
	if _, err := e.svc.Principal(e.ctx, RoleARN(acctA, "/", "ghost")); KindOf(err) != NotFound {
		t.Errorf("Principal(ghost): %v", err)
	}
	if p, err := e.svc.Find(e.ctx, acctA, metadata.KindRole, "builder"); err != nil || p.ARN != r.ARN {
		t.Errorf("Find: %+v %v", p, err)
	}
	if _, err := e.svc.Find(e.ctx, acctA, metadata.KindUser, "builder"); KindOf(err) != NotFound {
		t.Errorf("Find(user builder): %v", err)
	}
	if err := e.svc.SetPrincipalTags(e.ctx, r.ARN, tags("", "x")); KindOf(err) != Invalid {
		t.Errorf("SetPrincipalTags with an empty key: %v", err)
	}
	if err := e.svc.DeletePrincipal(e.ctx, RoleARN(acctA, "/", "ghost")); KindOf(err) != NotFound {
		t.Errorf("DeletePrincipal(ghost): %v", err)
	}
}

func TestAccessKeys(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	r := e.role(acctA, "builder", "", nil)

	id1, s1, err := e.svc.CreateAccessKey(e.ctx, u.ARN)
	e.must(err)
	id2, _, err := e.svc.CreateAccessKey(e.ctx, u.ARN)
	e.must(err)
	if !strings.HasPrefix(id1, "AKIA") || len(id1) != 20 || len(s1) != 40 || id1 == id2 {
		t.Fatalf("keys %q %q, secret of %d characters", id1, id2, len(s1))
	}
	cred, err := e.keys.Lookup(e.ctx, id1)
	e.must(err)
	want := auth.Principal{Type: auth.TypeUser, ARN: u.ARN, Account: acctA, AccessKeyID: id1, UserID: u.UserID, Username: "alice"}
	if cred.Secret != s1 || cred.Principal != want {
		t.Errorf("looked-up key: principal %+v (want %+v), secret matches %v", cred.Principal, want, cred.Secret == s1)
	}

	tests := []struct {
		name   string
		create func() error
		kind   Kind
		msg    string
	}{
		{"third key", func() error { _, _, err := e.svc.CreateAccessKey(e.ctx, u.ARN); return err }, Limit,
			"Cannot exceed quota for AccessKeysPerUser: 2"},
		{"key for a role", func() error { _, _, err := e.svc.CreateAccessKey(e.ctx, r.ARN); return err }, Invalid, ""},
		{"key for a missing user", func() error {
			_, _, err := e.svc.CreateAccessKey(e.ctx, UserARN(acctA, "/", "ghost"))
			return err
		}, NotFound, ""},
		{"deactivate a missing key", func() error { return e.svc.SetAccessKeyStatus(e.ctx, "AKIAGHOSTGHOSTGHOSTG", false) }, NotFound, ""},
		{"delete a missing key", func() error { return e.svc.DeleteAccessKey(e.ctx, "AKIAGHOSTGHOSTGHOSTG") }, NotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.create()
			wantKind(t, err, tc.kind)
			if tc.msg != "" && err.(*Error).Message != tc.msg {
				t.Errorf("message %q, want %q", err.(*Error).Message, tc.msg)
			}
		})
	}

	t.Run("a deleted key frees its slot", func(t *testing.T) {
		e.must(e.svc.DeleteAccessKey(e.ctx, id2))
		if _, _, err := e.svc.CreateAccessKey(e.ctx, u.ARN); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an inactive key still counts", func(t *testing.T) {
		e.must(e.svc.SetAccessKeyStatus(e.ctx, id1, false))
		_, _, err := e.svc.CreateAccessKey(e.ctx, u.ARN)
		wantKind(t, err, Limit)
	})
}

func TestServiceKeys(t *testing.T) {
	tests := []struct {
		account, service string
		kind             Kind
	}{
		{acctA, "codebuild.amazonaws.com", 0},
		{acctA, "ecs-tasks.amazonaws.com", 0},
		{acctA, "build.eu-west-1.amazonaws.com", 0},
		{acctA, "9lives.amazonaws.com", 0},
		{acctA, "CodeBuild.amazonaws.com", Invalid},
		{acctA, "codebuild", Invalid},
		{acctA, "codebuild.amazonaws.com.evil.example", Invalid},
		{acctA, ".amazonaws.com", Invalid},
		{acctA, "-x.amazonaws.com", Invalid},
		{acctA, "code build.amazonaws.com", Invalid},
		{acctA, "arn:aws:iam::111111111111:user/alice", Invalid},
		{acctA, "", Invalid},
		{"1111", "codebuild.amazonaws.com", Invalid},
		{"999999999999", "codebuild.amazonaws.com", NotFound},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.account+"/"+tc.service, func(t *testing.T) {
			id, secret, err := e.svc.CreateServiceKey(e.ctx, tc.account, tc.service)
			if tc.kind != 0 {
				wantKind(t, err, tc.kind)
				return
			}
			e.must(err)
			cred, err := e.keys.Lookup(e.ctx, id)
			e.must(err)
			want := auth.Principal{Type: auth.TypeService, ARN: tc.service, Account: tc.account, AccessKeyID: id}
			if cred.Principal != want || cred.Secret != secret {
				t.Errorf("service key resolves to %+v, want %+v", cred.Principal, want)
			}
		})
	}
}

// policyOf pads a one-statement identity policy with a Sid so that it has
// exactly n characters that are not white space.
func policyOf(n int) string {
	base := doc(`{"Sid":"","Effect":"Allow","Action":"ecr:*","Resource":"*"}`)
	if n < len(base) {
		panic("policyOf: too small")
	}
	return doc(`{"Sid":"` + strings.Repeat("S", n-len(base)) + `","Effect":"Allow","Action":"ecr:*","Resource":"*"}`)
}

// spaced inserts white space IAM does not count between every JSON token.
func spaced(d string) string {
	r := strings.NewReplacer(`,"`, " ,\n\t\"", `":`, "\" :\r\n ", "{", "{\n    ", "}", "\n}  ", "[", "[ ", "]", "\t]")
	return r.Replace(d)
}

func TestPutInlinePolicy(t *testing.T) {
	if n := nonSpace(policyOf(2048)); n != 2048 {
		t.Fatalf("policyOf(2048) has %d characters", n)
	}
	if n := nonSpace(spaced(policyOf(2048))); n != 2048 {
		t.Fatalf("spaced(policyOf(2048)) has %d characters", n)
	}
	tests := []struct {
		name   string
		user   bool // the user, else the role
		pname  string
		doc    string
		kind   Kind
		msg    string
		stored bool
	}{
		{name: "user at 2048", user: true, pname: "p", doc: policyOf(2048), stored: true},
		{name: "user at 2048 with white space", user: true, pname: "p", doc: spaced(policyOf(2048)), stored: true},
		{name: "user at 2049", user: true, pname: "p", doc: policyOf(2049), kind: Limit,
			msg: "Maximum policy size of 2048 bytes exceeded for user alice"},
		{name: "role at 2049", pname: "p", doc: policyOf(2049), stored: true},
		{name: "role at 10240 with white space", pname: "p", doc: spaced(policyOf(10240)), stored: true},
		{name: "role at 10241", pname: "p", doc: policyOf(10241), kind: Limit,
			msg: "Maximum policy size of 10240 bytes exceeded for role builder"},
		{name: "Principal in an identity policy", user: true, pname: "p", kind: Malformed,
			doc: doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}`),
			msg: "Policy document should not specify a principal."},
		{name: "no Resource", user: true, pname: "p", kind: Malformed,
			doc: doc(`{"Effect":"Allow","Action":"ecr:*"}`), msg: "Policy statement must contain resources."},
		{name: "action without a vendor", user: true, pname: "p", kind: Malformed,
			doc: doc(`{"Effect":"Allow","Action":"PutImage","Resource":"*"}`),
			msg: "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{name: "not JSON", user: true, pname: "p", kind: Malformed, doc: `{"Version":`, msg: "Syntax errors in policy."},
		{name: "bad Sid", user: true, pname: "p", kind: Malformed,
			doc: doc(`{"Sid":"a-b","Effect":"Allow","Action":"ecr:*","Resource":"*"}`),
			msg: "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{name: "policy name of 128 characters", user: true, pname: strings.Repeat("p", 128), doc: policyOf(100), stored: true},
		{name: "policy name of 129 characters", user: true, pname: strings.Repeat("p", 129), doc: policyOf(100), kind: Invalid},
		{name: "policy name with a space", user: true, pname: "my policy", doc: policyOf(100), kind: Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			arn := e.user(acctA, "alice", nil).ARN
			if !tc.user {
				arn = e.role(acctA, "builder", "", nil).ARN
			}
			err := e.svc.PutInlinePolicy(e.ctx, arn, tc.pname, tc.doc)
			if tc.kind != 0 {
				wantKind(t, err, tc.kind)
				if tc.msg != "" && err.(*Error).Message != tc.msg {
					t.Errorf("message\n got %q\nwant %q", err.(*Error).Message, tc.msg)
				}
				if tc.kind == Malformed && KindOf(err).Code() != "MalformedPolicyDocument" {
					t.Errorf("code %s", KindOf(err).Code())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			inline, _, err := e.st.PrincipalPolicies(e.ctx, arn)
			e.must(err)
			if got := len(inline) == 1 && inline[0].Name == tc.pname && inline[0].Document == tc.doc; got != tc.stored {
				t.Errorf("stored %v, want %v (%d inline policies)", got, tc.stored, len(inline))
			}
		})
	}

	t.Run("missing principal", func(t *testing.T) {
		e := newEnv(t)
		wantKind(t, e.svc.PutInlinePolicy(e.ctx, UserARN(acctA, "/", "ghost"), "p", policyOf(100)), NotFound)
	})
	t.Run("replace and delete", func(t *testing.T) {
		e := newEnv(t)
		arn := e.user(acctA, "alice", nil).ARN
		e.inline(arn, "p", policyOf(100))
		e.inline(arn, "p", policyOf(120))
		inline, _, err := e.st.PrincipalPolicies(e.ctx, arn)
		e.must(err)
		if len(inline) != 1 || inline[0].Document != policyOf(120) {
			t.Fatalf("after replacing: %+v", inline)
		}
		e.must(e.svc.DeleteInlinePolicy(e.ctx, arn, "p"))
		wantKind(t, e.svc.DeleteInlinePolicy(e.ctx, arn, "p"), NotFound)
	})
}

func TestManagedPolicies(t *testing.T) {
	pull := doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)
	t.Run("put", func(t *testing.T) {
		tests := []struct {
			name, account, pname, path, doc string
			kind                            Kind
			arn                             string
		}{
			{"plain", acctA, "Pull", "", pull, 0, "arn:aws:iam::111111111111:policy/Pull"},
			{"with path", acctA, "Pull", "/team/", pull, 0, "arn:aws:iam::111111111111:policy/team/Pull"},
			{"bad name", acctA, "Pu ll", "/", pull, Invalid, ""},
			{"bad path", acctA, "Pull", "team", pull, Invalid, ""},
			{"bad account", "1", "Pull", "/", pull, Invalid, ""},
			{"malformed", acctA, "Pull", "/", doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}`), Malformed, ""},
			{"at 6144", acctA, "Big", "/", policyOf(6144), 0, "arn:aws:iam::111111111111:policy/Big"},
			{"at 6144 with white space", acctA, "Big", "/", spaced(policyOf(6144)), 0, "arn:aws:iam::111111111111:policy/Big"},
			{"at 6145", acctA, "Big", "/", policyOf(6145), Limit, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t)
				arn, err := e.svc.PutManagedPolicy(e.ctx, tc.account, tc.pname, tc.path, tc.doc, "desc")
				if tc.kind != 0 {
					wantKind(t, err, tc.kind)
					if ps, _ := e.st.ListManagedPolicies(e.ctx, ""); len(ps) != 0 {
						t.Errorf("stored anyway: %+v", ps)
					}
					return
				}
				e.must(err)
				if arn != tc.arn {
					t.Errorf("ARN %q, want %q", arn, tc.arn)
				}
				mp, err := e.st.GetManagedPolicy(e.ctx, arn)
				e.must(err)
				if mp.Document != tc.doc || mp.Description != "desc" || mp.Name != tc.pname {
					t.Errorf("stored %+v", mp)
				}
			})
		}
	})

	t.Run("replace keeps the ARN", func(t *testing.T) {
		e := newEnv(t)
		a1, err := e.svc.PutManagedPolicy(e.ctx, acctA, "Pull", "/", pull, "v1")
		e.must(err)
		a2, err := e.svc.PutManagedPolicy(e.ctx, acctA, "Pull", "/", policyOf(100), "v2")
		e.must(err)
		mp, err := e.st.GetManagedPolicy(e.ctx, a1)
		e.must(err)
		if a1 != a2 || mp.Document != policyOf(100) || mp.Description != "v2" {
			t.Errorf("after replacing: %s %s %+v", a1, a2, mp)
		}
	})

	t.Run("attach", func(t *testing.T) {
		tests := []struct {
			name, ref string
			kind      Kind
			arn       string
		}{
			{"AWS managed by name", "AmazonEC2ContainerRegistryPowerUser", 0, arnPowerUser},
			{"AWS managed by ARN", arnReadOnly, 0, arnReadOnly},
			{"service-role policy by name", "AmazonECSTaskExecutionRolePolicy", 0, arnTaskExec},
			{"service-role policy by ARN", arnTaskExec, 0, arnTaskExec},
			{"customer managed by ARN", "arn:aws:iam::111111111111:policy/Pull", 0, "arn:aws:iam::111111111111:policy/Pull"},
			{"unknown AWS managed name", "AmazonS3FullAccess", NotFound, ""},
			{"unknown AWS managed ARN", "arn:aws:iam::aws:policy/AmazonS3FullAccess", NotFound, ""},
			{"service-role policy without its path", "arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy", NotFound, ""},
			{"unknown customer managed ARN", "arn:aws:iam::111111111111:policy/Nope", NotFound, ""},
			{"customer managed policy of another account", "arn:aws:iam::222222222222:policy/Pull", NotFound, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t)
				for _, acct := range []string{acctA, acctB} {
					_, err := e.svc.PutManagedPolicy(e.ctx, acct, "Pull", "/", pull, "")
					e.must(err)
				}
				u := e.user(acctA, "alice", nil)
				err := e.svc.AttachPolicy(e.ctx, u.ARN, tc.ref)
				_, attached, lerr := e.st.PrincipalPolicies(e.ctx, u.ARN)
				e.must(lerr)
				if tc.kind != 0 {
					wantKind(t, err, tc.kind)
					if want := "Policy " + tc.ref + " does not exist or is not attachable."; err.(*Error).Message != want {
						t.Errorf("message %q, want %q", err.(*Error).Message, want)
					}
					if len(attached) != 0 {
						t.Errorf("attached anyway: %+v", attached)
					}
					return
				}
				e.must(err)
				if len(attached) != 1 || attached[0].ARN != tc.arn {
					t.Fatalf("attached %+v, want %s", attached, tc.arn)
				}
				// Attaching twice is a no-op; detaching by the same reference works.
				e.must(e.svc.AttachPolicy(e.ctx, u.ARN, tc.ref))
				e.must(e.svc.DetachPolicy(e.ctx, u.ARN, tc.ref))
				wantKind(t, e.svc.DetachPolicy(e.ctx, u.ARN, tc.ref), NotFound)
			})
		}
	})

	t.Run("attach to a missing principal", func(t *testing.T) {
		e := newEnv(t)
		err := e.svc.AttachPolicy(e.ctx, UserARN(acctA, "/", "ghost"), "AmazonEC2ContainerRegistryReadOnly")
		wantKind(t, err, NotFound)
		if !strings.Contains(err.(*Error).Message, "ghost") {
			t.Errorf("message %q does not name the principal", err.(*Error).Message)
		}
	})

	t.Run("delete while attached", func(t *testing.T) {
		e := newEnv(t)
		arn, err := e.svc.PutManagedPolicy(e.ctx, acctA, "Pull", "/", pull, "")
		e.must(err)
		u := e.user(acctA, "alice", nil, arn)
		// Service has no DeleteManagedPolicy of its own; the store's answer
		// goes through storeErr like every other.
		err = storeErr("DeleteManagedPolicy", e.st.DeleteManagedPolicy(e.ctx, arn), "Policy "+arn)
		wantKind(t, err, Conflict)
		if KindOf(err).Code() != "DeleteConflict" || err.(*Error).Message != "Cannot delete a policy attached to entities." {
			t.Errorf("error %v", err)
		}
		e.must(e.svc.DetachPolicy(e.ctx, u.ARN, arn))
		e.must(e.st.DeleteManagedPolicy(e.ctx, arn))
	})
}

func TestEnsureBootstrapAdmin(t *testing.T) {
	const acct = "333333333333"
	adminARN := "arn:aws:iam::333333333333:user/berth-admin"

	t.Run("first start, then again", func(t *testing.T) {
		e := newEnv(t)
		id, secret, created, err := e.svc.EnsureBootstrapAdmin(e.ctx, acct)
		e.must(err)
		if !created || !strings.HasPrefix(id, "AKIA") || len(secret) != 40 {
			t.Fatalf("first start: %q %d-char secret created=%v", id, len(secret), created)
		}
		if _, err := e.st.GetAccount(e.ctx, acct); err != nil {
			t.Errorf("account: %v", err)
		}
		u, err := e.st.GetPrincipal(e.ctx, adminARN)
		if err != nil || u.Kind != metadata.KindUser || !strings.HasPrefix(u.ID, "AIDA") {
			t.Fatalf("admin user %+v: %v", u, err)
		}
		_, attached, err := e.st.PrincipalPolicies(e.ctx, adminARN)
		e.must(err)
		if len(attached) != 1 || attached[0].ARN != arnAdmin {
			t.Errorf("attached %+v, want AdministratorAccess", attached)
		}
		cred, err := e.keys.Lookup(e.ctx, id)
		if err != nil || cred.Secret != secret || cred.Principal.ARN != adminARN || cred.Principal.Username != auth.BootstrapUser {
			t.Errorf("admin key: %+v %v", cred.Principal, err)
		}
		// The admin may do anything.
		if !e.allowed(ecr(cred.Principal, "ecr:DeleteRepository", acct, "x")) {
			t.Error("admin denied")
		}

		id2, secret2, created2, err := e.svc.EnsureBootstrapAdmin(e.ctx, acct)
		e.must(err)
		if created2 || id2 != "" || secret2 != "" {
			t.Errorf("second start: %q %q created=%v, want nothing", id2, secret2, created2)
		}
		keys, err := e.st.ListAccessKeys(e.ctx, adminARN)
		e.must(err)
		if len(keys) != 1 {
			t.Errorf("%d admin keys, want 1", len(keys))
		}
	})

	t.Run("key of an older berth gets its user", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.st.CreateAccount(e.ctx, metadata.Account{ID: acct, Name: "old"})
		e.must(err)
		id, _, created, err := auth.EnsureBootstrapAdmin(e.ctx, e.st, e.kr, acct)
		e.must(err)
		if !created {
			t.Fatal("no key made")
		}
		id2, _, created2, err := e.svc.EnsureBootstrapAdmin(e.ctx, acct)
		e.must(err)
		if created2 || id2 != "" {
			t.Errorf("second key %q made", id2)
		}
		if _, err := e.st.GetPrincipal(e.ctx, adminARN); err != nil {
			t.Errorf("admin user not made: %v", err)
		}
		_, attached, _ := e.st.PrincipalPolicies(e.ctx, adminARN)
		if len(attached) != 1 || attached[0].ARN != arnAdmin {
			t.Errorf("attached %+v", attached)
		}
		if _, err := e.keys.Lookup(e.ctx, id); err != nil {
			t.Errorf("old key: %v", err)
		}
	})

	t.Run("bad account", func(t *testing.T) {
		e := newEnv(t)
		_, _, _, err := e.svc.EnsureBootstrapAdmin(e.ctx, "abc")
		wantKind(t, err, Invalid)
	})
}
