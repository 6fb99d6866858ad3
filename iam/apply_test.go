package iam

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// Accounts the declarative files create (newEnv made A and B already).
const (
	acctC = "333333333333"
	acctD = "444444444444"
)

const fileV1 = `
accounts:
  - id: "333333333333"
    name: team-c
    managed_policies:
      - name: Pull
        description: pull everything
        document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"*"}]}'
    users:
      - name: alice
        path: /devs/
        tags: {team: platform}
        policies: [AmazonEC2ContainerRegistryPowerUser, "arn:aws:iam::333333333333:policy/Pull"]
        inline:
          deploy: |
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "ecr:DeleteRepository", "Resource": "*"}]}
    roles:
      - name: ci
        max_session: 7200
        tags: {env: prod}
        trust:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::333333333333:user/devs/alice"}
              Action: sts:AssumeRole
        policies: [arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy]
        inline:
          push:
            Version: "2012-10-17"
            Statement:
              - Sid: Push
                Effect: Allow
                Action: [ecr:PutImage, ecr:InitiateLayerUpload]
                Resource: "arn:aws:ecr:*:333333333333:repository/*"
  - id: "444444444444"
    users:
      - name: ext
`

// fileV2 changes the role (trust, session limit, tags, attached and inline
// policies) and the managed policy; alice stays as she was.
const fileV2 = `
accounts:
  - id: "333333333333"
    name: team-c
    managed_policies:
      - name: Pull
        description: pull everything
        document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}'
    users:
      - name: alice
        path: /devs/
        tags: {team: platform}
        policies: [AmazonEC2ContainerRegistryPowerUser, "arn:aws:iam::333333333333:policy/Pull"]
        inline:
          deploy: |
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "ecr:DeleteRepository", "Resource": "*"}]}
    roles:
      - name: ci
        tags: {env: dev, owner: ops}
        trust: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        policies: [AmazonEC2ContainerRegistryReadOnly]
        inline:
          pull:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: ecr:BatchGetImage
                Resource: "*"
  - id: "444444444444"
    users:
      - name: ext
`

func parse(t *testing.T, text string) *File {
	t.Helper()
	f, err := ParseFile([]byte(text))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	return f
}

func (e *env) apply(f *File) Applied {
	e.t.Helper()
	res, err := e.svc.Apply(e.ctx, f)
	if err != nil {
		e.t.Fatalf("Apply: %v", err)
	}
	return res
}

// policiesOf lists a principal's attached ARNs (sorted) and inline
// documents by name.
func (e *env) policiesOf(arn string) ([]string, map[string]string) {
	e.t.Helper()
	inline, attached, err := e.st.PrincipalPolicies(e.ctx, arn)
	e.must(err)
	var arns []string
	for _, a := range attached {
		arns = append(arns, a.ARN)
	}
	sort.Strings(arns)
	docs := map[string]string{}
	for _, ip := range inline {
		docs[ip.Name] = ip.Document
	}
	return arns, docs
}

func TestParseFile(t *testing.T) {
	f := parse(t, fileV1)
	if len(f.Accounts) != 2 || f.Accounts[0].ID != acctC || f.Accounts[1].ID != acctD {
		t.Fatalf("accounts %+v", f.Accounts)
	}
	a := f.Accounts[0]
	if len(a.Users) != 1 || len(a.Roles) != 1 || len(a.ManagedPolicies) != 1 {
		t.Fatalf("account %+v", a)
	}
	// A JSON string is kept as written; a YAML mapping becomes JSON.
	if d := string(a.Users[0].Inline["deploy"]); !strings.HasPrefix(d, `{"Version": "2012-10-17",`) {
		t.Errorf("JSON text document %q", d)
	}
	wantTrust := `{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::333333333333:user/devs/alice"}}],"Version":"2012-10-17"}`
	if d := string(a.Roles[0].Trust); d != wantTrust {
		t.Errorf("YAML trust document\n got %s\nwant %s", d, wantTrust)
	}
	if a.Roles[0].MaxSession != 7200 || a.Roles[0].Tags["env"] != "prod" || !slices.Equal(a.Users[0].Policies,
		[]string{"AmazonEC2ContainerRegistryPowerUser", "arn:aws:iam::333333333333:policy/Pull"}) {
		t.Errorf("role %+v / user %+v", a.Roles[0], a.Users[0])
	}

	errs := []struct{ name, text string }{
		{"unknown key", "accounts:\n  - id: \"333333333333\"\n    userz: []\n"},
		{"unknown user key", "accounts:\n  - id: \"333333333333\"\n    users:\n      - name: a\n        polices: [x]\n"},
		{"unknown top-level key", "acounts: []\n"},
		{"wrong type", "accounts:\n  - id: \"333333333333\"\n    users:\n      - name: a\n        tags: [x, y]\n"},
		{"not YAML", "accounts: [\n"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			if f, err := ParseFile([]byte(tc.text)); err == nil {
				t.Fatalf("parsed: %+v", f)
			}
		})
	}
	t.Run("empty file", func(t *testing.T) {
		f, err := ParseFile(nil)
		if err != nil || len(f.Accounts) != 0 {
			t.Fatalf("%+v %v", f, err)
		}
	})
}

func TestApplyCreatesThenNothing(t *testing.T) {
	e := newEnv(t)
	if got := e.apply(parse(t, fileV1)); got != (Applied{Created: 6}) {
		t.Fatalf("first Apply %+v, want 6 created (2 accounts, 1 policy, 2 users, 1 role)", got)
	}
	for _, id := range []string{acctC, acctD} {
		if _, err := e.st.GetAccount(e.ctx, id); err != nil {
			t.Errorf("account %s: %v", id, err)
		}
	}
	alice, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindUser, "alice")
	e.must(err)
	if alice.ARN != "arn:aws:iam::333333333333:user/devs/alice" || !reflect.DeepEqual(alice.Tags, tags("team", "platform")) {
		t.Errorf("alice %+v", alice)
	}
	arns, docs := e.policiesOf(alice.ARN)
	if !slices.Equal(arns, []string{"arn:aws:iam::333333333333:policy/Pull", arnPowerUser}) || len(docs) != 1 ||
		!strings.Contains(docs["deploy"], "ecr:DeleteRepository") {
		t.Errorf("alice's policies %v %v", arns, docs)
	}
	ci, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindRole, "ci")
	e.must(err)
	if ci.MaxSessionSeconds != 7200 || !strings.Contains(ci.TrustPolicy, "user/devs/alice") || !reflect.DeepEqual(ci.Tags, tags("env", "prod")) {
		t.Errorf("ci %+v", ci)
	}
	arns, docs = e.policiesOf(ci.ARN)
	if !slices.Equal(arns, []string{arnTaskExec}) || !strings.Contains(docs["push"], `"Sid":"Push"`) {
		t.Errorf("ci's policies %v %v", arns, docs)
	}
	if _, err := e.st.FindPrincipal(e.ctx, acctD, metadata.KindUser, "ext"); err != nil {
		t.Errorf("ext: %v", err)
	}

	// What was applied works: alice assumes ci, whose session may push.
	e.repo(acctC, "app")
	out, sess := e.assume(userPrincipal(alice), stsIn(ci.ARN, "deploy", nil))
	if !out.Expiration.Equal(e.clk.Now().Add(time.Hour)) {
		t.Errorf("session expiration %v", out.Expiration)
	}
	if !e.allowed(ecr(sess, "ecr:PutImage", acctC, "app")) || !e.allowed(ecr(sess, "ecr:BatchGetImage", acctC, "app")) {
		t.Error("ci session denied what its policies allow")
	}
	if !e.allowed(ecr(userPrincipal(alice), "ecr:DeleteRepository", acctC, "app")) {
		t.Error("alice denied what her inline policy allows")
	}

	v := e.version()
	if got := e.apply(parse(t, fileV1)); got != (Applied{}) {
		t.Errorf("second Apply %+v, want nothing", got)
	}
	if e.version() != v {
		t.Error("second Apply wrote to the store")
	}
}

func (e *env) version() int64 {
	e.t.Helper()
	v, err := e.st.AuthzVersion(e.ctx)
	e.must(err)
	return v
}

func TestApplyConverges(t *testing.T) {
	e := newEnv(t)
	e.apply(parse(t, fileV1))
	// Something the file does not list is left alone.
	bob, err := e.svc.CreateUser(e.ctx, acctC, "bob", "/", nil)
	e.must(err)
	e.inline(bob.ARN, "own", policyOf(100))

	if got := e.apply(parse(t, fileV2)); got != (Applied{Updated: 2}) {
		t.Fatalf("Apply of v2 %+v, want 2 updated (the policy and the role)", got)
	}
	ci, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindRole, "ci")
	e.must(err)
	if ci.MaxSessionSeconds != 3600 || !strings.Contains(ci.TrustPolicy, "codebuild.amazonaws.com") ||
		!reflect.DeepEqual(ci.Tags, tags("env", "dev", "owner", "ops")) {
		t.Errorf("ci after v2: max %d trust %s tags %v", ci.MaxSessionSeconds, ci.TrustPolicy, ci.Tags)
	}
	arns, docs := e.policiesOf(ci.ARN)
	if !slices.Equal(arns, []string{arnReadOnly}) {
		t.Errorf("ci attached %v, want only ReadOnly (task execution detached)", arns)
	}
	if _, ok := docs["push"]; ok || len(docs) != 1 || !strings.Contains(docs["pull"], "ecr:BatchGetImage") {
		t.Errorf("ci inline %v, want only pull", docs)
	}
	mp, err := e.st.GetManagedPolicy(e.ctx, "arn:aws:iam::333333333333:policy/Pull")
	e.must(err)
	if strings.Contains(mp.Document, "GetDownloadUrlForLayer") {
		t.Errorf("managed policy not replaced: %s", mp.Document)
	}
	if _, docs := e.policiesOf(bob.ARN); len(docs) != 1 {
		t.Errorf("unlisted user bob touched: %v", docs)
	}
	if got := e.apply(parse(t, fileV2)); got != (Applied{}) {
		t.Errorf("Apply of v2 again %+v, want nothing", got)
	}

	// The changes decide requests: the new trust and policies.
	alice, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindUser, "alice")
	e.must(err)
	if _, err := e.roles.AssumeRole(e.ctx, userPrincipal(alice), stsIn(ci.ARN, "x", nil), nil); err == nil {
		t.Error("alice may still assume ci")
	}
	e.repo(acctC, "app")
	e.clk.Advance(refresh)
	s := session(ci, "build")
	if e.allowed(ecr(s, "ecr:PutImage", acctC, "app")) || !e.allowed(ecr(s, "ecr:BatchGetImage", acctC, "app")) {
		t.Error("ci session decisions do not follow v2")
	}

	// Back to v1: everything converges back.
	if got := e.apply(parse(t, fileV1)); got != (Applied{Updated: 2}) {
		t.Errorf("Apply of v1 after v2 %+v, want 2 updated", got)
	}
	arns, docs = e.policiesOf(ci.ARN)
	if !slices.Equal(arns, []string{arnTaskExec}) || len(docs) != 1 || docs["push"] == "" {
		t.Errorf("ci after going back: %v %v", arns, docs)
	}
}

func TestApplyUserConverges(t *testing.T) {
	e := newEnv(t)
	e.apply(parse(t, `
accounts:
  - id: "333333333333"
    users:
      - name: dev
        tags: {a: "1", b: "2"}
        policies: [AmazonEC2ContainerRegistryReadOnly, AmazonEC2ContainerRegistryPowerUser]
        inline:
          one: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:ListImages","Resource":"*"}]}'
          two: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeImages","Resource":"*"}]}'
`))
	got := e.apply(parse(t, `
accounts:
  - id: "333333333333"
    users:
      - name: dev
        policies: [AmazonEC2ContainerRegistryPowerUser]
        inline:
          two: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:DescribeImages","Resource":"arn:aws:ecr:*:*:repository/x"}]}'
`))
	if got != (Applied{Updated: 1}) {
		t.Errorf("Apply %+v, want 1 updated", got)
	}
	dev, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindUser, "dev")
	e.must(err)
	arns, docs := e.policiesOf(dev.ARN)
	if len(dev.Tags) != 0 || !slices.Equal(arns, []string{arnPowerUser}) || len(docs) != 1 || !strings.Contains(docs["two"], "repository/x") {
		t.Errorf("dev: tags %v attached %v inline %v", dev.Tags, arns, docs)
	}
}

// TestApplyYAMLVersionUnquoted: a policy document written as YAML the way
// every example writes it, with the Version date unquoted.
func TestApplyYAMLVersionUnquoted(t *testing.T) {
	e := newEnv(t)
	f, err := ParseFile([]byte(`
accounts:
  - id: "333333333333"
    users:
      - name: dev
        inline:
          pull:
            Version: 2012-10-17
            Statement:
              - Effect: Allow
                Action: ecr:BatchGetImage
                Resource: "*"
`))
	if err != nil {
		t.Fatalf("ParseFile: %v", err)
	}
	if d := string(f.Accounts[0].Users[0].Inline["pull"]); !strings.Contains(d, `"Version":"2012-10-17"`) {
		t.Errorf("document %s: the Version is not the string 2012-10-17", d)
	}
	if _, err := e.svc.Apply(e.ctx, f); err != nil {
		t.Errorf("Apply: %v", err)
	}
}

// TestApplyFailsBeforeWriting: a bad file changes nothing.
func TestApplyFailsBeforeWriting(t *testing.T) {
	const head = "accounts:\n  - id: \"333333333333\"\n    name: c\n"
	tests := []struct {
		name string
		text string
		kind Kind // 0: any
	}{
		{"malformed inline document", head + `
    users:
      - name: dev
        inline:
          bad: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}]}'
`, Malformed},
		{"malformed YAML inline document", head + `
    users:
      - name: dev
        inline:
          bad:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: ecr:*
`, Malformed},
		{"malformed managed policy", head + `
    managed_policies:
      - name: P
        document: '{"Statement":[]}'
`, Malformed},
		{"malformed trust in a later account", head + `
    users:
      - name: dev
  - id: "444444444444"
    roles:
      - name: r
        trust: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}'
`, Malformed},
		{"role without trust", head + `
    roles:
      - name: r
`, Malformed},
		{"bad account id", `
accounts:
  - id: "333333333333"
    users:
      - name: dev
  - id: "12345"
`, Invalid},
		{"account listed twice", head + `
    users:
      - name: dev
  - id: "333333333333"
`, Invalid},
		{"bad user name", head + `
    users:
      - name: ok
      - name: "not ok"
`, Invalid},
		{"bad path", head + `
    users:
      - name: dev
        path: devs
`, Invalid},
		{"bad inline policy name", head + `
    users:
      - name: dev
        inline:
          "bad name": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}'
`, Invalid},
		{"unknown AWS managed policy", head + `
    users:
      - name: dev
        policies: [AmazonEC2ContainerRegistryPowerUser, AmazonS3FullAccess]
`, NotFound},
		{"bad max_session", head + `
    roles:
      - name: r
        max_session: 100
        trust: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"sts:AssumeRole"}]}'
`, Invalid},
		// Faults only the write itself would notice.
		{"inline policy above the user limit", head + `
    users:
      - name: dev
        inline:
          big: '` + policyOf(2049) + `'
`, Limit},
		{"trust policy above its limit", head + `
    roles:
      - name: r
        trust: '{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("S", 2048) + `","Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"sts:AssumeRole"}]}'
`, Limit},
		{"empty tag key", head + `
    users:
      - name: dev
        tags: {"": x}
`, Invalid},
		{"user listed twice", head + `
    users:
      - name: dev
        policies: [AmazonEC2ContainerRegistryReadOnly]
      - name: dev
        policies: [AmazonEC2ContainerRegistryPowerUser]
`, 0},
		{"user listed twice in another case", head + `
    users:
      - name: dev
      - name: Dev
`, 0},
		{"unknown customer managed policy", head + `
    users:
      - name: dev
        policies: ["arn:aws:iam::333333333333:policy/Missing"]
`, NotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			f := parse(t, tc.text)
			before := e.dump()
			_, err := e.svc.Apply(e.ctx, f)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			if k := KindOf(err); tc.kind != 0 && k != tc.kind {
				t.Errorf("error %v: kind %s, want %s", err, k.Code(), tc.kind.Code())
			}
			if after := e.dump(); after != before {
				t.Errorf("the store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// dump describes what Apply may write: accounts, principals, managed
// policies and the authorization version.
func (e *env) dump() string {
	e.t.Helper()
	accts, err := e.st.ListAccounts(e.ctx)
	e.must(err)
	ps, err := e.st.ListPrincipals(e.ctx, "", "")
	e.must(err)
	mps, err := e.st.ListManagedPolicies(e.ctx, "")
	e.must(err)
	var b strings.Builder
	for _, a := range accts {
		b.WriteString("account " + a.ID + "; ")
	}
	for _, p := range ps {
		b.WriteString(p.Kind + " " + p.ARN + "; ")
	}
	for _, m := range mps {
		b.WriteString("policy " + m.ARN + "; ")
	}
	v := e.version()
	b.WriteString("version " + strconv.FormatInt(v, 10))
	return b.String()
}

// TestApplyPermissionsBoundary: a listed principal's boundary becomes the
// file's (a name or ARN, a policy of the file included), cleared when the
// file names none; a boundary that does not exist fails before writing.
func TestApplyPermissionsBoundary(t *testing.T) {
	e := newEnv(t)
	got := e.apply(parse(t, `
accounts:
  - id: "333333333333"
    managed_policies:
      - name: cap
        document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}'
    users:
      - name: dev
        permissions_boundary: AmazonEC2ContainerRegistryReadOnly
    roles:
      - name: ci
        trust: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
        permissions_boundary: arn:aws:iam::333333333333:policy/cap
`))
	if got.Created != 4 {
		t.Errorf("Apply %+v, want 4 created", got)
	}
	dev, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindUser, "dev")
	e.must(err)
	ci, err := e.st.FindPrincipal(e.ctx, acctC, metadata.KindRole, "ci")
	e.must(err)
	if dev.PermissionsBoundary != "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly" || ci.PermissionsBoundary != "arn:aws:iam::333333333333:policy/cap" {
		t.Fatalf("boundaries %q %q", dev.PermissionsBoundary, ci.PermissionsBoundary)
	}
	got = e.apply(parse(t, `
accounts:
  - id: "333333333333"
    users:
      - name: dev
`))
	if got != (Applied{Updated: 1}) {
		t.Errorf("Apply %+v, want 1 updated", got)
	}
	if dev, err = e.st.FindPrincipal(e.ctx, acctC, metadata.KindUser, "dev"); err != nil || dev.PermissionsBoundary != "" {
		t.Fatalf("boundary after the file dropped it: %q %v", dev.PermissionsBoundary, err)
	}
	_, err = e.svc.Apply(e.ctx, parse(t, `
accounts:
  - id: "333333333333"
    users:
      - name: dev
        permissions_boundary: arn:aws:iam::333333333333:policy/none
`))
	wantKind(t, err, NotFound)
}
