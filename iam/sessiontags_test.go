package iam

import (
	"testing"

	"github.com/berth-registry/berth/auth/oidc"
	"github.com/berth-registry/berth/auth/oidc/oidctest"
)

// podIdentityTrust is an EKS Pod Identity trust policy as the EKS guide
// writes it, with the agent's principal replaced by a user of the account
// (berth cannot sign as pods.eks.amazonaws.com): sts:AssumeRole and
// sts:TagSession, only for the team-a namespace's service account.
func podIdentityTrust(agentARN string) string {
	return doc(`{"Sid":"AllowEksAuthToAssumeRoleForPodIdentity","Effect":"Allow","Principal":{"AWS":"` + agentARN + `"},` +
		`"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{` +
		`"aws:RequestTag/kubernetes-namespace":["team-a","team-b"],"aws:RequestTag/kubernetes-service-account":["deployer"]}}}`)
}

// nsPolicy lets a session push and pull only the repositories under its
// namespace tag: the ${aws:PrincipalTag/…} variable in the resource.
const nsPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*",` +
	`"Resource":"arn:aws:ecr:` + region + `:` + acctA + `:repository/${aws:PrincipalTag/kubernetes-namespace}/*"}]}`

func TestPodIdentitySessionTags(t *testing.T) {
	e := newEnv(t)
	agent := e.user(acctA, "pod-identity-agent", nil)
	r := e.role(acctA, "app", podIdentityTrust(agent.ARN), tags("kubernetes-namespace", "from-role-tag"))
	e.inline(r.ARN, "ns", nsPolicy)
	e.repo(acctA, "team-a/app")
	e.repo(acctA, "team-b/app")
	podTags := func(ns string) []SessionTag {
		return sessTags("eks-cluster-name", "prod", "kubernetes-namespace", ns, "kubernetes-service-account", "deployer")
	}

	// Without tags, or with a namespace the condition does not name, the
	// trust policy does not allow sts:AssumeRole.
	for _, in := range []AssumeRoleInput{stsIn(r.ARN, "pod", nil), stsIn(r.ARN, "pod", podTags("kube-system"))} {
		_, err := e.roles.AssumeRole(e.ctx, agent, in, nil)
		wantSTS(t, err, "AccessDenied", msgBrief(agent.ARN, "sts:AssumeRole", r.ARN))
	}
	out, sess := e.assume(agent, stsIn(r.ARN, "pod", podTags("team-a")))
	if out.PackedPolicySize <= 0 {
		t.Errorf("PackedPolicySize %d with session tags", out.PackedPolicySize)
	}
	// The session tag overrides the role's own tag of the same key.
	for _, c := range []struct {
		repo   string
		action string
		want   bool
	}{
		{"team-a/app", "ecr:PutImage", true},
		{"team-a/app", "ecr:BatchGetImage", true},
		{"team-b/app", "ecr:PutImage", false},
		{"team-b/app", "ecr:BatchGetImage", false},
	} {
		if got := e.allowed(ecr(sess, c.action, acctA, c.repo)); got != c.want {
			t.Errorf("%s on %s: allowed %v, want %v", c.action, c.repo, got, c.want)
		}
	}
	d, req := e.decide(ecr(sess, "ecr:PutImage", acctA, "team-b/app"))
	if want := msgNoPolicy(sess.ARN, "ecr:PutImage", repoARN(acctA, "team-b/app"), "identity-based"); d.Message(req) != want {
		t.Errorf("denial %q, want %q", d.Message(req), want)
	}

	// A trust policy allowing sts:AssumeRole alone refuses tags.
	plain := e.role(acctA, "plain", trustDoc(aws(agent.ARN), assume, ""), nil)
	_, err := e.roles.AssumeRole(e.ctx, agent, stsIn(plain.ARN, "pod", podTags("team-a")), nil)
	wantSTS(t, err, "AccessDenied", msgBrief(agent.ARN, "sts:TagSession", plain.ARN))
}

// A role tag and a session tag whose keys differ only in case are one
// key; the session's value wins.
func TestSessionTagOverridesRoleTagWhateverTheCase(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	r := e.role(acctA, "ci", trustDoc(aws(u.ARN), `["sts:AssumeRole","sts:TagSession"]`, ""), tags("Kubernetes-Namespace", "team-b"))
	e.inline(r.ARN, "ns", nsPolicy)
	e.repo(acctA, "team-a/app")
	_, sess := e.assume(u, stsIn(r.ARN, "s", sessTags("kubernetes-namespace", "team-a")))
	if !e.allowed(ecr(sess, "ecr:PutImage", acctA, "team-a/app")) {
		t.Fatal("the session tag did not override the role tag")
	}
}

func TestTransitiveSessionTags(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	tagging := `["sts:AssumeRole","sts:TagSession"]`
	first := e.role(acctA, "first", trustDoc(aws(u.ARN), tagging, ""), nil)
	e.inline(first.ARN, "assume", doc(`{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}`))
	second := e.role(acctA, "second", trustDoc(aws(first.ARN), tagging, ""), nil)
	e.inline(second.ARN, "ns", nsPolicy)
	untagged := e.role(acctA, "untagged", trustDoc(aws(first.ARN), assume, ""), nil)
	e.repo(acctA, "team-a/app")

	in := stsIn(first.ARN, "hop1", sessTags("kubernetes-namespace", "team-a", "pod", "p-1"))
	in.TransitiveTagKeys = []string{"Kubernetes-Namespace"}
	_, hop1 := e.assume(u, in)

	// The transitive tag reaches the chained session; the other does not.
	_, hop2 := e.assume(hop1, stsIn(second.ARN, "hop2", nil))
	if !e.allowed(ecr(hop2, "ecr:PutImage", acctA, "team-a/app")) {
		t.Fatal("the transitive tag did not reach the chained session")
	}
	ss, err := e.st.GetSession(e.ctx, hop2.AccessKeyID)
	e.must(err)
	if len(ss.Tags) != 1 || ss.Tags[0].Key != "kubernetes-namespace" || len(ss.TransitiveTagKeys) != 1 {
		t.Fatalf("chained session tags %+v transitive %v", ss.Tags, ss.TransitiveTagKeys)
	}
	// and further down the chain (it stays transitive).
	third := e.role(acctA, "third", trustDoc(aws(second.ARN), tagging, ""), nil)
	e.inline(second.ARN, "assume", doc(`{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"*"}`))
	_, hop3 := e.assume(hop2, stsIn(third.ARN, "hop3", nil))
	if ss, err := e.st.GetSession(e.ctx, hop3.AccessKeyID); err != nil || len(ss.Tags) != 1 || ss.Tags[0].Value != "team-a" {
		t.Fatalf("third hop tags %+v %v", ss.Tags, err)
	}

	// Inherited transitive tags cannot be overridden, in any case.
	_, err = e.roles.AssumeRole(e.ctx, hop1, stsIn(second.ARN, "hop2", sessTags("KUBERNETES-NAMESPACE", "team-b")), nil)
	wantSTS(t, err, "InvalidParameterValue", msgInheritedClash)
	// Carrying tags on needs sts:TagSession in the next trust policy.
	_, err = e.roles.AssumeRole(e.ctx, hop1, stsIn(untagged.ARN, "hop2", nil), nil)
	wantSTS(t, err, "AccessDenied", msgBrief(hop1.ARN, "sts:TagSession", untagged.ARN))

	// A transitive key must be one of the request's tags; keys are unique
	// whatever their case.
	bad := stsIn(first.ARN, "s", sessTags("a", "1"))
	bad.TransitiveTagKeys = []string{"b"}
	_, err = e.roles.AssumeRole(e.ctx, u, bad, nil)
	wantSTS(t, err, "InvalidParameterValue", msgTransitiveKey)
	_, err = e.roles.AssumeRole(e.ctx, u, stsIn(first.ARN, "s", sessTags("Team", "1", "team", "2")), nil)
	wantSTS(t, err, "ValidationError", msgDuplicateTag)
}

// A session's session policy is part of the decision on sts:AssumeRole:
// a session narrowed to pulls cannot widen itself through another role.
func TestChainingAppliesSessionPolicy(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	first := e.role(acctA, "first", trustDoc(aws(u.ARN), assume, ""), nil, arnAdmin)
	admin := e.role(acctA, "admin", trustDoc(aws(first.ARN), assume, ""), nil, arnAdmin)

	pullOnly := stsIn(first.ARN, "narrow", nil)
	pullOnly.Policy = doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)
	_, narrow := e.assume(u, pullOnly)
	_, err := e.roles.AssumeRole(e.ctx, narrow, stsIn(admin.ARN, "wide", nil), nil)
	wantSTS(t, err, "AccessDenied", msgBrief(narrow.ARN, "sts:AssumeRole", admin.ARN))

	allowing := stsIn(first.ARN, "chain", nil)
	allowing.Policy = doc(`{"Effect":"Allow","Action":["ecr:BatchGetImage","sts:AssumeRole"],"Resource":"*"}`)
	_, chain := e.assume(u, allowing)
	e.assume(chain, stsIn(admin.ARN, "wide", nil))

	_, full := e.assume(u, stsIn(first.ARN, "full", nil))
	e.assume(full, stsIn(admin.ARN, "wide", nil))
}

// A permissions boundary caps a role's sessions and a user, on ECR and on
// sts:AssumeRole, and grants nothing by itself.
func TestPermissionsBoundary(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	u := e.user(acctA, "alice", nil, arnAdmin)
	r := e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil, arnAdmin)
	_, sess := e.assume(u, stsIn(r.ARN, "s", nil))
	if !e.allowed(ecr(sess, "ecr:PutImage", acctA, "app")) {
		t.Fatal("PowerUser role cannot push before the boundary")
	}
	readOnly := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	e.must(e.svc.SetPermissionsBoundary(e.ctx, r.ARN, readOnly))
	d, req := e.decide(ecr(sess, "ecr:PutImage", acctA, "app"))
	if want := "User: " + sess.ARN + " is not authorized to perform: ecr:PutImage on resource: " + repoARN(acctA, "app") +
		" because no permissions boundary allows the ecr:PutImage action"; d.Allowed() || d.Message(req) != want {
		t.Fatalf("push under a read-only boundary: %v %q", d.Allowed(), d.Message(req))
	}
	if !e.allowed(ecr(sess, "ecr:BatchGetImage", acctA, "app")) {
		t.Fatal("pull under a read-only boundary refused")
	}

	// A customer managed boundary on a user; deleting it is refused.
	arn, err := e.svc.PutManagedPolicy(e.ctx, acctA, "cap", "/", doc(`{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":"*"}`), "")
	e.must(err)
	e.must(e.svc.SetPermissionsBoundary(e.ctx, u.ARN, arn))
	if e.allowed(ecr(u, "ecr:BatchGetImage", acctA, "app")) || !e.allowed(ecr(u, "ecr:DescribeRepositories", acctA, "")) {
		t.Fatal("the user's boundary does not cap it")
	}
	// berth caps sts:AssumeRole too, even where the trust policy names
	// the user (stricter than AWS, which exempts that grant).
	_, err = e.roles.AssumeRole(e.ctx, u, stsIn(r.ARN, "s2", nil), nil)
	wantSTS(t, err, "AccessDenied", msgBrief(u.ARN, "sts:AssumeRole", r.ARN))
	e.must(e.svc.SetPermissionsBoundary(e.ctx, u.ARN, ""))
	if !e.allowed(ecr(u, "ecr:BatchGetImage", acctA, "app")) {
		t.Fatal("removing the boundary did not restore the user's permissions")
	}
	err = e.svc.SetPermissionsBoundary(e.ctx, u.ARN, "arn:aws:iam::"+acctA+":policy/none")
	wantKind(t, err, NotFound)
	p, err := e.st.GetPrincipal(e.ctx, u.ARN)
	e.must(err)
	if p.PermissionsBoundary != "" {
		t.Fatalf("boundary after a refused set: %q", p.PermissionsBoundary)
	}
}

// sts:TransitiveTagKeys is in the trust policy's context: a role can
// refuse to let a tag be carried on.
func TestTransitiveTagKeysConditionKey(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	r := e.role(acctA, "ci", doc(`{"Effect":"Allow","Principal":`+aws(u.ARN)+`,"Action":["sts:AssumeRole","sts:TagSession"]}`,
		`{"Effect":"Deny","Principal":`+aws(u.ARN)+`,"Action":"sts:TagSession","Condition":{"ForAnyValue:StringEquals":{"sts:TransitiveTagKeys":"secret"}}}`), nil)
	in := stsIn(r.ARN, "s", sessTags("secret", "1", "team", "a"))
	in.TransitiveTagKeys = []string{"team"}
	e.assume(u, in)
	in.TransitiveTagKeys = []string{"team", "secret"}
	_, err := e.roles.AssumeRole(e.ctx, u, in, nil)
	wantSTS(t, err, "AccessDenied", msgBrief(u.ARN, "sts:TagSession", r.ARN))
}

// Session tags in a web identity token (the https://aws.amazon.com/tags
// claim) need sts:TagSession in the trust policy, are aws:RequestTag/… to
// it and the session's aws:PrincipalTag/… after; a malformed claim is the
// token's fault.
func TestWebIdentityTokenTags(t *testing.T) {
	e := newEnv(t)
	is := oidctest.New(t, "")
	e.roles.OIDC = &oidc.Verifier{Client: is.Server.Client()}
	prov, err := e.svc.CreateOpenIDConnectProvider(e.ctx, acctA, is.URL, []string{"sts.amazonaws.com"}, nil, nil)
	e.must(err)
	fed := `{"Federated":"` + prov.ARN + `"}`
	tagged := e.role(acctA, "tagged", trustDoc(fed, `["sts:AssumeRoleWithWebIdentity","sts:TagSession"]`,
		`{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"team-a"}}`), nil)
	e.inline(tagged.ARN, "ns", nsPolicy)
	untagged := e.role(acctA, "untagged", trustDoc(fed, `"sts:AssumeRoleWithWebIdentity"`, ""), nil)
	e.repo(acctA, "team-a/app")
	e.repo(acctA, "team-b/app")
	mint := func(tags any) string {
		c := is.GitHubClaims("org/app")
		if tags != nil {
			c["https://aws.amazon.com/tags"] = tags
		}
		return is.Mint(t, c)
	}
	good := map[string]any{"principal_tags": map[string]any{"kubernetes-namespace": []any{"team-a"}}, "transitive_tag_keys": []any{"kubernetes-namespace"}}
	in := func(role, tok string) WebIdentityInput {
		return WebIdentityInput{RoleArn: role, RoleSessionName: "pod", WebIdentityToken: tok}
	}

	out, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, in(tagged.ARN, mint(good)), nil)
	e.must(err)
	cred, err := e.keys.Lookup(e.ctx, out.AccessKeyID)
	e.must(err)
	if !e.allowed(ecr(cred.Principal, "ecr:PutImage", acctA, "team-a/app")) || e.allowed(ecr(cred.Principal, "ecr:PutImage", acctA, "team-b/app")) {
		t.Fatal("the token's tag does not scope the session")
	}
	if ss, err := e.st.GetSession(e.ctx, out.AccessKeyID); err != nil || len(ss.TransitiveTagKeys) != 1 {
		t.Fatalf("session %+v %v", ss, err)
	}
	other := map[string]any{"principal_tags": map[string]any{"kubernetes-namespace": []any{"team-b"}}}
	_, err = e.roles.AssumeRoleWithWebIdentity(e.ctx, in(tagged.ARN, mint(other)), nil)
	wantSTS(t, err, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	_, err = e.roles.AssumeRoleWithWebIdentity(e.ctx, in(untagged.ARN, mint(good)), nil)
	wantSTS(t, err, "AccessDenied", "Not authorized to perform sts:TagSession")
	if _, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, in(untagged.ARN, mint(nil)), nil); err != nil {
		t.Fatalf("a token without tags needs no sts:TagSession: %v", err)
	}
	for name, bad := range map[string]any{
		"not an object":        "x",
		"value not a list":     map[string]any{"principal_tags": map[string]any{"k": "v"}},
		"two values":           map[string]any{"principal_tags": map[string]any{"k": []any{"a", "b"}}},
		"transitive not a tag": map[string]any{"principal_tags": map[string]any{"k": []any{"v"}}, "transitive_tag_keys": []any{"j"}},
		"empty key":            map[string]any{"principal_tags": map[string]any{"": []any{"v"}}},
	} {
		_, err := e.roles.AssumeRoleWithWebIdentity(e.ctx, in(tagged.ARN, mint(bad)), nil)
		if ie, _ := err.(*Error); ie == nil || ie.Kind != InvalidToken || ie.Message != msgTokenInvalid {
			t.Errorf("%s: %v, want InvalidIdentityToken", name, err)
		}
	}
}
