package policy

import (
	"testing"
)

// evalCase is one authorization question and AWS's answer. Names cite the
// AWS documentation section or the edge case each case pins down.
type evalCase struct {
	name     string
	identity []string // identity policies (inline)
	managed  []string // attached AWS managed policies, by name
	resource []string // repository policies
	registry []string // registry policies
	trust    string   // role trust policy; makes the Set a Trust decision
	req      Request
	want     Effect
	missing  string // for ImplicitDeny
	denyIn   string // for ExplicitDeny
	sid      string // deciding statement's Sid, when checked
	policy   string // deciding policy's name, when checked
	message  string // exact AccessDenied text, when checked
}

const (
	I = IdentityBased
	R = ResourceBased
)

func TestEvaluate(t *testing.T) {
	cases := []evalCase{}
	cases = append(cases, basicCases()...)
	cases = append(cases, denyCases()...)
	cases = append(cases, resourcePolicyCases()...)
	cases = append(cases, crossAccountCases()...)
	cases = append(cases, trustCases()...)
	cases = append(cases, stringConditionCases()...)
	cases = append(cases, typedConditionCases()...)
	cases = append(cases, setOperatorCases()...)
	cases = append(cases, variableCases()...)
	cases = append(cases, managedCases()...)
	cases = append(cases, messageCases()...)
	if len(cases) < 150 {
		t.Fatalf("only %d evaluation cases", len(cases))
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) { runEvalCase(t, c) })
	}
}

func runEvalCase(t *testing.T, c evalCase) {
	t.Helper()
	var s Set
	for i, d := range c.identity {
		p, err := Parse(d, Identity)
		if err != nil {
			t.Fatalf("identity policy %d: %v\n%s", i, err, d)
		}
		s.Identity = append(s.Identity, Named{Name: "inline:" + string(rune('a'+i)), Policy: p})
	}
	for _, m := range c.managed {
		arn, p, ok := Managed(m)
		if !ok {
			t.Fatalf("no managed policy %s", m)
		}
		s.Identity = append(s.Identity, Named{Name: arn, Policy: p})
	}
	for i, d := range c.resource {
		p, err := Parse(d, Resource)
		if err != nil {
			t.Fatalf("repository policy %d: %v\n%s", i, err, d)
		}
		s.Resource = append(s.Resource, Named{Name: "repository policy", Policy: p})
	}
	for i, d := range c.registry {
		p, err := Parse(d, Registry)
		if err != nil {
			t.Fatalf("registry policy %d: %v\n%s", i, err, d)
		}
		s.Resource = append(s.Resource, Named{Name: "registry policy", Policy: p})
	}
	if c.trust != "" {
		p, err := Parse(c.trust, Trust)
		if err != nil {
			t.Fatalf("trust policy: %v\n%s", err, c.trust)
		}
		s.Resource = append(s.Resource, Named{Name: "trust policy", Policy: p})
		s.Trust = true
	}
	d := Evaluate(c.req, s)
	if d.Effect != c.want {
		t.Fatalf("effect = %v, want %v (decision %+v)", d.Effect, c.want, d)
	}
	if d.Allowed() != (c.want == Allow) {
		t.Errorf("Allowed() = %v", d.Allowed())
	}
	switch c.want {
	case ImplicitDeny:
		want := c.missing
		if want == "" {
			want = I
		}
		if d.Missing != want {
			t.Errorf("missing = %q, want %q", d.Missing, want)
		}
		if d.Index != -1 {
			t.Errorf("implicit deny names statement %d", d.Index)
		}
	case ExplicitDeny:
		if d.DenyIn != c.denyIn {
			t.Errorf("denyIn = %q, want %q", d.DenyIn, c.denyIn)
		}
	}
	if c.sid != "" && d.Sid != c.sid {
		t.Errorf("sid = %q, want %q", d.Sid, c.sid)
	}
	if c.policy != "" && d.Policy != c.policy {
		t.Errorf("policy = %q, want %q", d.Policy, c.policy)
	}
	if c.message != "" && d.Message(c.req) != c.message {
		t.Errorf("message =\n%s\nwant\n%s", d.Message(c.req), c.message)
	}
}

// basicCases: identity policies alone, Action/Resource matching rules
// ("IAM JSON policy elements: Action / NotAction / Resource / NotResource").
func basicCases() []evalCase {
	get := rq(alice, "ecr:BatchGetImage")
	token := on(rq(alice, "ecr:GetAuthorizationToken"), "*")
	return []evalCase{
		{name: "eval-logic/default deny without policies", req: get, want: ImplicitDeny, missing: I},
		{name: "Action/exact match", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Action/case-insensitive (actions are not case-sensitive)", identity: []string{doc(`{"Effect":"Allow","Action":"ECR:batchgetimage","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Action/prefix wildcard ecr:Batch*", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:Batch*","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Action/infix wildcard ecr:*Image", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*Image","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Action/single-character wildcard ?", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:BatchGetImag?","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Action/? matches exactly one character", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:BatchGetIma?","Resource":"*"}`)}, req: get, want: ImplicitDeny},
		{name: "Action/lone * matches every action", identity: []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Action/other service does not match", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)}, req: get, want: ImplicitDeny},
		{name: "Action/list of actions ORed", identity: []string{doc(`{"Effect":"Allow","Action":["ecr:PutImage","ecr:BatchGetImage"],"Resource":"*"}`)}, req: get, want: Allow},
		{name: "NotAction/allows everything not listed", identity: []string{doc(`{"Effect":"Allow","NotAction":"ecr:DeleteRepository","Resource":"*"}`)}, req: get, want: Allow},
		{name: "NotAction/listed action is not allowed", identity: []string{doc(`{"Effect":"Allow","NotAction":"ecr:DeleteRepository","Resource":"*"}`)}, req: rq(alice, "ecr:DeleteRepository"), want: ImplicitDeny},
		{name: "NotAction/case-insensitive like Action", identity: []string{doc(`{"Effect":"Allow","NotAction":"ECR:DELETE*","Resource":"*"}`)}, req: rq(alice, "ecr:DeleteRepository"), want: ImplicitDeny},
		{name: "Resource/exact ARN", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team/app"}`)}, req: get, want: Allow},
		{name: "Resource/case-sensitive", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/Team/App"}`)}, req: get, want: ImplicitDeny},
		{name: "Resource/* spans / in the resource part", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}`)}, req: get, want: Allow},
		{name: "Resource/wildcard region segment", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111122223333:repository/team/app"}`)}, req: get, want: Allow},
		{name: "Resource/segment wildcard does not cross a colon", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:repository/team/app"}`)}, req: get, want: ImplicitDeny},
		{name: "Resource/? in resource part", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team/ap?"}`)}, req: get, want: Allow},
		{name: "Resource/* in resource part spans colons", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:*"}`)}, req: get, want: Allow},
		{name: "Resource/short pattern arn:aws:ecr:* covers ECR ARNs", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*"}`)}, req: get, want: Allow},
		{name: "Resource/partition mismatch", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws-cn:ecr:*:*:repository/*"}`)}, req: get, want: ImplicitDeny},
		{name: "Resource/lone * matches the non-ARN resource *", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}`)}, req: token, want: Allow},
		{name: "Resource/ARN pattern does not match the resource *", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/*"}`)}, req: token, want: ImplicitDeny},
		{name: "NotResource/allows resources not listed", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:*:*:repository/secret/*"}`)}, req: get, want: Allow},
		{name: "NotResource/listed resource is excluded", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:*:*:repository/secret/*"}`)}, req: on(get, "arn:aws:ecr:us-east-1:111122223333:repository/secret/db"), want: ImplicitDeny},
		{name: "Statement/single object instead of a list", identity: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}}`}, req: get, want: Allow},
		{name: "Statement/second statement allows, Sid reported", identity: []string{doc(`{"Sid":"Push","Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`, `{"Sid":"Pull","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)}, req: get, want: Allow, sid: "Pull"},
		{name: "Identity/second policy allows, its name reported", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`), doc(`{"Sid":"B","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)}, req: get, want: Allow, policy: "inline:b", sid: "B"},
		{name: "Version/2008-10-17 identity policy evaluates", identity: []string{doc08(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)}, req: get, want: Allow},
		{name: "Version/missing Version evaluates", identity: []string{`{"Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`}, req: get, want: Allow},
	}
}

// denyCases: "Explicit deny wins" (Policy evaluation logic, "How AWS
// enforcement code logic evaluates requests").
func denyCases() []evalCase {
	get := rq(alice, "ecr:BatchGetImage")
	return []evalCase{
		{name: "deny/identity deny beats identity allow", identity: []string{doc(allowECR, `{"Sid":"NoPull","Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}`)}, req: get, want: ExplicitDeny, denyIn: I, sid: "NoPull"},
		{name: "deny/deny in one policy beats allow in another", identity: []string{doc(allowECR), doc(`{"Sid":"D","Effect":"Deny","Action":"ecr:*","Resource":"*"}`)}, req: get, want: ExplicitDeny, denyIn: I, policy: "inline:b"},
		{name: "deny/resource deny beats identity allow", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Sid":"NoAlice","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"ecr:*"}`)}, req: get, want: ExplicitDeny, denyIn: R, sid: "NoAlice"},
		{name: "deny/identity deny beats resource allow", identity: []string{doc(`{"Sid":"D","Effect":"Deny","Action":"ecr:*","Resource":"*"}`)}, resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*"}`)}, req: get, want: ExplicitDeny, denyIn: I},
		{name: "deny/in both types reported as identity-based", identity: []string{doc(`{"Effect":"Deny","Action":"ecr:*","Resource":"*"}`)}, resource: []string{doc(`{"Effect":"Deny","Principal":"*","Action":"ecr:*"}`)}, req: get, want: ExplicitDeny, denyIn: I},
		{name: "deny/NotAction deny leaves listed action allowed", identity: []string{doc(allowECR, `{"Effect":"Deny","NotAction":"ecr:BatchGetImage","Resource":"*"}`)}, req: get, want: Allow},
		{name: "deny/NotAction deny denies other actions", identity: []string{doc(allowECR, `{"Effect":"Deny","NotAction":"ecr:BatchGetImage","Resource":"*"}`)}, req: rq(alice, "ecr:PutImage"), want: ExplicitDeny, denyIn: I},
		{name: "deny/deny on other resource does not apply", identity: []string{doc(allowECR, `{"Effect":"Deny","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/secret/*"}`)}, req: get, want: Allow},
		{name: "deny/account principal in Deny covers every principal of the account", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"ecr:*"}`)}, req: get, want: ExplicitDeny, denyIn: R},
		{name: "deny/account principal in Deny covers role sessions", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"ecr:*"}`)}, req: rq(deploy, "ecr:BatchGetImage"), want: ExplicitDeny, denyIn: R},
		{name: "deny/Principal * Deny applies to anonymous", resource: []string{doc(`{"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"ecr:*"}`, `{"Sid":"NoAnon","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalType":"Anonymous"}}}`)}, req: rq(anon, "ecr:BatchGetImage"), want: ExplicitDeny, denyIn: R, sid: "NoAnon"},
		{name: "deny/root user is bound by a repository policy deny", resource: []string{doc(`{"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"ecr:DeleteRepository"}`)}, req: rq(root, "ecr:DeleteRepository"), want: ExplicitDeny, denyIn: R},
	}
}

// resourcePolicyCases: same-account union of identity and resource
// policies ("Policy evaluation logic": "If either ... allows the request and
// the other doesn't, the request is still allowed"), and the account
// principal as delegation ("AWS account principals").
func resourcePolicyCases() []evalCase {
	get := rq(alice, "ecr:BatchGetImage")
	return []evalCase{
		{name: "same-account/repository policy naming the user allows alone", resource: []string{doc(`{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow, sid: "Alice", policy: "repository policy"},
		{name: "same-account/user with path named by full ARN", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/dev/carol"]},"Action":"ecr:*"}`)}, req: rq(carol, "ecr:BatchGetImage"), want: Allow},
		{name: "same-account/Principal * allows without identity policy", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow},
		{name: "same-account/Principal AWS:* is equivalent to *", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow},
		{name: "same-account/account root ARN only delegates", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: ImplicitDeny, missing: I},
		{name: "same-account/bare account id only delegates", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: ImplicitDeny, missing: I},
		{name: "same-account/account principal plus identity allow", identity: []string{doc(`{"Sid":"Id","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow, sid: "Id"},
		{name: "same-account/role ARN grants the role's sessions", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/deploy"},"Action":"ecr:*"}`)}, req: rq(deploy, "ecr:PutImage"), want: Allow},
		{name: "same-account/assumed-role session ARN grants that session", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/deploy/ci-run"},"Action":"ecr:*"}`)}, req: rq(deploy, "ecr:PutImage"), want: Allow},
		{name: "same-account/other session of the role is not named", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/deploy/other"},"Action":"ecr:*"}`)}, req: rq(deploy, "ecr:PutImage"), want: ImplicitDeny},
		{name: "same-account/other user is not named", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/mallory"},"Action":"ecr:*"}`)}, req: get, want: ImplicitDeny},
		{name: "same-account/user ARN does not grant a role session", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/deploy"},"Action":"ecr:*"}`)}, req: rq(deploy, "ecr:PutImage"), want: ImplicitDeny},
		{name: "repository policy/Resource element matching the repository", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/team/*"}`)}, req: get, want: Allow},
		{name: "repository policy/Resource element not matching", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/other"}`)}, req: get, want: ImplicitDeny},
		{name: "repository policy/Version 2008-10-17 accepted (ecr.md 4.3)", resource: []string{doc08(`{"Sid":"old","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}`)}, req: get, want: Allow},
		{name: "repository policy/no Version", resource: []string{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}]}`}, req: get, want: Allow},
		{name: "union/identity allows, repository policy silent", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/mallory"},"Action":"ecr:*"}`)}, req: get, want: Allow, sid: "All"},
		{name: "union/both allow, identity statement reported", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Sid":"Repo","Effect":"Allow","Principal":"*","Action":"ecr:*"}`)}, req: get, want: Allow, sid: "All"},
		{name: "union/identity allows push, repository allows pull: pull", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`)}, resource: []string{doc(`{"Sid":"Pull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow, sid: "Pull"},
		{name: "union/identity allows push, repository allows pull: push", identity: []string{doc(`{"Sid":"Push","Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`)}, resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: rq(alice, "ecr:PutImage"), want: Allow, sid: "Push"},
		{name: "union/neither allows the action", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`)}, resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: rq(alice, "ecr:DeleteRepository"), want: ImplicitDeny, missing: I},
		{name: "NotPrincipal/Allow grants everyone not listed", resource: []string{doc(`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/mallory"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow},
		{name: "NotPrincipal/Allow does not grant the listed user", resource: []string{doc(`{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: ImplicitDeny},
		{name: "NotPrincipal/Deny exempts a session listed by its role ARN", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:role/deploy","arn:aws:iam::111122223333:root"]},"Action":"ecr:*"}`)}, req: rq(deploy, "ecr:PutImage"), want: Allow},
		{name: "NotPrincipal/Deny exempts principals of a listed account", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"ecr:*"}`)}, req: get, want: Allow},
		{name: "NotPrincipal/Deny hits everyone else", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Sid":"OnlyBob","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/bob","arn:aws:iam::444455556666:root"]},"Action":"ecr:*"}`)}, req: get, want: ExplicitDeny, denyIn: R, sid: "OnlyBob"},
		{name: "NotPrincipal/Deny hits anonymous", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*"}`, `{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"ecr:*"}`)}, req: rq(anon, "ecr:BatchGetImage"), want: ExplicitDeny, denyIn: R},
		{name: "registry policy/names the user on all repositories", registry: []string{doc(`{"Sid":"Reg","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}`)}, req: get, want: Allow, policy: "registry policy"},
		{name: "registry policy/deny beats repository allow", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*"}`)}, registry: []string{doc(`{"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository","Resource":"*"}`)}, req: rq(alice, "ecr:DeleteRepository"), want: ExplicitDeny, denyIn: R, policy: "registry policy"},
		{name: "root/implicit full access in its own account", req: rq(root, "ecr:DeleteRepository"), want: Allow},
		{name: "service/repository policy naming the service principal", resource: []string{doc(`{"Sid":"CodeBuild","Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}`)}, req: rq(codebuild, "ecr:BatchGetImage"), want: Allow, sid: "CodeBuild"},
		{name: "service/not named: only resource policies can allow", resource: []string{doc(`{"Effect":"Allow","Principal":{"Service":"codepipeline.amazonaws.com"},"Action":"ecr:*"}`)}, req: rq(codebuild, "ecr:BatchGetImage"), want: ImplicitDeny, missing: R},
		{name: "service/identity policies do not apply to a service", identity: []string{doc(allowECR)}, req: rq(codebuild, "ecr:BatchGetImage"), want: ImplicitDeny, missing: R},
		{name: "service/Principal * includes services", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: rq(codebuild, "ecr:BatchGetImage"), want: Allow},
		{name: "anonymous/public repository policy", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: rq(anon, "ecr:BatchGetImage"), want: Allow},
		{name: "anonymous/account principal does not cover anonymous", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"ecr:BatchGetImage"}`)}, req: rq(anon, "ecr:BatchGetImage"), want: ImplicitDeny, missing: R},
	}
}

// crossAccountCases: "Cross-account policy evaluation logic": the
// identity-based policy in the trusted account and the resource-based
// policy in the trusting account must both allow.
func crossAccountCases() []evalCase {
	get := owned(rq(bob, "ecr:BatchGetImage"), acctA)
	bobPull := doc(`{"Sid":"BobPull","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`)
	return []evalCase{
		{name: "cross-account/identity allow alone is not enough", identity: []string{bobPull}, req: get, want: ImplicitDeny, missing: R},
		{name: "cross-account/resource allow alone is not enough", resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: ImplicitDeny, missing: I},
		{name: "cross-account/both allow", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow, sid: "BobPull"},
		{name: "cross-account/resource names the account root ARN", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow},
		{name: "cross-account/resource names the bare account id", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow},
		{name: "cross-account/resource Principal * plus identity allow", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: get, want: Allow},
		{name: "cross-account/resource Principal * still needs identity allow", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: get, want: ImplicitDeny, missing: I},
		{name: "cross-account/resource names a third account", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: ImplicitDeny, missing: R},
		{name: "cross-account/identity allows another action only", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`)}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:*"}`)}, req: get, want: ImplicitDeny, missing: I},
		{name: "cross-account/role session named by role ARN", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/puller"},"Action":"ecr:BatchGetImage"}`)}, req: owned(rq(puller, "ecr:BatchGetImage"), acctA), want: Allow},
		{name: "cross-account/root user of the other account", resource: []string{doc(`{"Sid":"AcctB","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"ecr:BatchGetImage"}`)}, req: owned(rq(rootB, "ecr:BatchGetImage"), acctA), want: Allow, sid: "AcctB"},
		{name: "cross-account/root user still needs the resource policy", req: owned(rq(rootB, "ecr:BatchGetImage"), acctA), want: ImplicitDeny, missing: R},
		{name: "cross-account/resource deny on the account", identity: []string{bobPull}, resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*"}`, `{"Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"ecr:BatchGetImage"}`)}, req: get, want: ExplicitDeny, denyIn: R},
		{name: "cross-account/ResourceAccount equal to caller's is same-account", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)}, req: owned(rq(alice, "ecr:BatchGetImage"), acctA), want: Allow},
	}
}

// trustCases: role trust policies ("IAM roles: ... trust policy",
// "Cross-account policy evaluation logic" for sts:AssumeRole).
func trustCases() []evalCase {
	assume := func(p Principal) Request {
		return Request{Principal: p, Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/target"}
	}
	idAssume := doc(`{"Sid":"MayAssume","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/*"}`)
	return []evalCase{
		{name: "trust/names the user: no identity allow needed", trust: doc(`{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}`), req: assume(alice), want: Allow, sid: "Alice", policy: "trust policy"},
		{name: "trust/account root only: identity allow needed", trust: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}`), req: assume(alice), want: ImplicitDeny, missing: I},
		{name: "trust/account root plus identity allow", identity: []string{idAssume}, trust: doc(`{"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"}`), req: assume(alice), want: Allow, sid: "Acct"},
		{name: "trust/identity allow cannot replace the trust policy", identity: []string{idAssume}, trust: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/mallory"},"Action":"sts:AssumeRole"}`), req: assume(alice), want: ImplicitDeny, missing: R},
		{name: "trust/service principal", trust: doc(`{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}`), req: assume(codebuild), want: Allow},
		{name: "trust/other service principal", trust: doc(`{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}`), req: assume(codebuild), want: ImplicitDeny, missing: R},
		{name: "trust/cross-account user named, identity allows", identity: []string{doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`)}, trust: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"sts:AssumeRole"}`), req: owned(assume(bob), acctA), want: Allow},
		{name: "trust/cross-account user named, no identity allow", trust: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"sts:AssumeRole"}`), req: owned(assume(bob), acctA), want: ImplicitDeny, missing: I},
		{name: "trust/cross-account account principal plus identity", identity: []string{doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`)}, trust: doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole"}`), req: owned(assume(bob), acctA), want: Allow},
		{name: "trust/deny statement wins", trust: doc(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`, `{"Sid":"NoAlice","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:*"}`), req: assume(alice), want: ExplicitDeny, denyIn: R, sid: "NoAlice"},
		{name: "trust/sts:ExternalId matches", identity: []string{doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`)}, trust: doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique1"}}}`), req: with(owned(assume(bob), acctA), "sts:ExternalId", "Unique1"), want: Allow},
		{name: "trust/sts:ExternalId missing", identity: []string{doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`)}, trust: doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique1"}}}`), req: owned(assume(bob), acctA), want: ImplicitDeny, missing: R},
		{name: "trust/MFA required via Bool", trust: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`), req: with(assume(alice), "aws:MultiFactorAuthPresent", "true"), want: Allow},
		{name: "trust/role chaining: session of a named role", trust: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/deploy"},"Action":"sts:AssumeRole"}`), req: assume(deploy), want: Allow},
		{name: "trust/message names the missing resource-based policy", trust: doc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`), req: assume(alice), want: ImplicitDeny, missing: R,
			message: "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/target because no resource-based policy allows the sts:AssumeRole action"},
	}
}

// stringConditionCases: "Condition operators: String", the evaluation of
// multiple keys and values, ...IfExists.
func stringConditionCases() []evalCase {
	get := rq(alice, "ecr:BatchGetImage")
	tag := func(v ...string) Request { return with(get, "ecr:ResourceTag/team", v...) }
	return []evalCase{
		{name: "StringEquals/match", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"web"}}`)}, req: tag("web"), want: Allow, sid: "Cond"},
		{name: "StringEquals/mismatch", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"web"}}`)}, req: tag("db"), want: ImplicitDeny},
		{name: "StringEquals/case-sensitive value", identity: []string{allowIf(`{"StringEquals":{"aws:username":"johndoe"}}`)}, req: with(get, "aws:username", "JohnDoe"), want: ImplicitDeny},
		{name: "StringEquals/absent key is false", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"web"}}`)}, req: get, want: ImplicitDeny},
		{name: "StringEquals/* is literal", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"w*"}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "StringEquals/* literal matches a literal *", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"w*"}}`)}, req: tag("w*"), want: Allow},
		{name: "StringEquals/multiple values are ORed", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":["db","web"]}}`)}, req: tag("web"), want: Allow},
		{name: "StringNotEquals/different value", identity: []string{allowIf(`{"StringNotEquals":{"ecr:ResourceTag/team":"web"}}`)}, req: tag("db"), want: Allow},
		{name: "StringNotEquals/equal value", identity: []string{allowIf(`{"StringNotEquals":{"ecr:ResourceTag/team":"web"}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "StringNotEquals/multiple values are NORed", identity: []string{allowIf(`{"StringNotEquals":{"ecr:ResourceTag/team":["db","web"]}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "StringNotEquals/absent key is true", identity: []string{allowIf(`{"StringNotEquals":{"ecr:ResourceTag/team":"web"}}`)}, req: get, want: Allow},
		{name: "StringEqualsIgnoreCase/JohnDoe matches johndoe", identity: []string{allowIf(`{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}`)}, req: with(get, "aws:username", "JohnDoe"), want: Allow},
		{name: "StringNotEqualsIgnoreCase/differs only in case", identity: []string{allowIf(`{"StringNotEqualsIgnoreCase":{"aws:username":"johndoe"}}`)}, req: with(get, "aws:username", "JOHNDOE"), want: ImplicitDeny},
		{name: "StringLike/* wildcard", identity: []string{allowIf(`{"StringLike":{"ecr:ResourceTag/team":"w*"}}`)}, req: tag("web"), want: Allow},
		{name: "StringLike/? wildcard", identity: []string{allowIf(`{"StringLike":{"ecr:ResourceTag/team":"w?b"}}`)}, req: tag("web"), want: Allow},
		{name: "StringLike/needs wildcards for partial match", identity: []string{allowIf(`{"StringLike":{"ecr:ResourceTag/team":"we"}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "StringLike/case-sensitive", identity: []string{allowIf(`{"StringLike":{"ecr:ResourceTag/team":"W*"}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "StringLike/ARN-looking value spans colons", identity: []string{allowIf(`{"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`)}, req: with(get, "aws:SourceArn", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"), want: Allow},
		{name: "StringNotLike/matching value", identity: []string{allowIf(`{"StringNotLike":{"ecr:ResourceTag/team":"w*"}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "StringNotLike/absent key is true", identity: []string{allowIf(`{"StringNotLike":{"ecr:ResourceTag/team":"w*"}}`)}, req: get, want: Allow},
		{name: "Condition/multiple keys are ANDed", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"web","aws:PrincipalTag/role":"dev"}}`)}, req: tag("web"), want: ImplicitDeny},
		{name: "Condition/multiple keys all hold", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"web","aws:PrincipalTag/role":"dev"}}`)}, req: with(tag("web"), "aws:PrincipalTag/role", "dev"), want: Allow},
		{name: "Condition/multiple operators are ANDed", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"web"},"Bool":{"aws:SecureTransport":"true"}}`)}, req: with(tag("web"), "aws:SecureTransport", "false"), want: ImplicitDeny},
		{name: "Condition/key names are case-insensitive", identity: []string{allowIf(`{"StringEquals":{"ECR:resourcetag/TEAM":"web"}}`)}, req: tag("web"), want: Allow},
		{name: "IfExists/absent key is true", identity: []string{allowIf(`{"StringEqualsIfExists":{"ecr:ResourceTag/team":"web"}}`)}, req: get, want: Allow},
		{name: "IfExists/present key is tested", identity: []string{allowIf(`{"StringEqualsIfExists":{"ecr:ResourceTag/team":"web"}}`)}, req: tag("db"), want: ImplicitDeny},
		{name: "IfExists/Deny with StringNotEqualsIfExists denies when missing", identity: []string{denyIf(`{"StringNotEqualsIfExists":{"ecr:ResourceTag/team":"web"}}`)}, req: get, want: ExplicitDeny, denyIn: I, sid: "Guard"},
		{name: "Condition/derived aws:PrincipalArn is the role ARN for a session", identity: []string{allowIf(`{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/deploy"}}`)}, req: rq(deploy, "ecr:BatchGetImage"), want: Allow},
		{name: "Condition/derived aws:PrincipalAccount", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}}`)}, req: get, want: Allow},
		{name: "Condition/derived aws:PrincipalType for a user", identity: []string{allowIf(`{"StringEquals":{"aws:PrincipalType":"User"}}`)}, req: get, want: Allow},
		{name: "Condition/explicit context overrides derived key", identity: []string{allowIf(`{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`)}, req: with(get, "aws:PrincipalAccount", "000000000000"), want: ImplicitDeny},
	}
}

// typedConditionCases: numeric, date, Bool, binary, IP, ARN and Null
// operators ("Condition operators").
func typedConditionCases() []evalCase {
	get := rq(alice, "ecr:BatchGetImage")
	n := func(v string) Request { return with(get, "ecr:max-results", v) }
	ts := func(v string) Request { return with(get, "aws:CurrentTime", v) }
	ip := func(v string) Request { return with(get, "aws:SourceIp", v) }
	src := func(v string) Request { return with(get, "aws:SourceArn", v) }
	return []evalCase{
		{name: "NumericEquals/string operand", identity: []string{allowIf(`{"NumericEquals":{"ecr:max-results":"10"}}`)}, req: n("10"), want: Allow},
		{name: "NumericEquals/JSON number operand", identity: []string{allowIf(`{"NumericEquals":{"ecr:max-results":10}}`)}, req: n("10"), want: Allow},
		{name: "NumericEquals/decimal equals integer", identity: []string{allowIf(`{"NumericEquals":{"ecr:max-results":"10"}}`)}, req: n("10.0"), want: Allow},
		{name: "NumericNotEquals/different", identity: []string{allowIf(`{"NumericNotEquals":{"ecr:max-results":"10"}}`)}, req: n("11"), want: Allow},
		{name: "NumericNotEquals/equal", identity: []string{allowIf(`{"NumericNotEquals":{"ecr:max-results":"10"}}`)}, req: n("10"), want: ImplicitDeny},
		{name: "NumericLessThan/below", identity: []string{allowIf(`{"NumericLessThan":{"ecr:max-results":"10"}}`)}, req: n("9"), want: Allow},
		{name: "NumericLessThan/equal is not less", identity: []string{allowIf(`{"NumericLessThan":{"ecr:max-results":"10"}}`)}, req: n("10"), want: ImplicitDeny},
		{name: "NumericLessThanEquals/boundary (s3:max-keys example)", identity: []string{allowIf(`{"NumericLessThanEquals":{"ecr:max-results":"10"}}`)}, req: n("10"), want: Allow},
		{name: "NumericGreaterThan/above", identity: []string{allowIf(`{"NumericGreaterThan":{"ecr:max-results":"10"}}`)}, req: n("10.5"), want: Allow},
		{name: "NumericGreaterThanEquals/below", identity: []string{allowIf(`{"NumericGreaterThanEquals":{"ecr:max-results":"10"}}`)}, req: n("9.99"), want: ImplicitDeny},
		{name: "Numeric/unparsable request value does not match", identity: []string{allowIf(`{"NumericLessThan":{"ecr:max-results":"10"}}`)}, req: n("ten"), want: ImplicitDeny},
		{name: "Numeric/unparsable request value fails a negated operator too", identity: []string{allowIf(`{"NumericNotEquals":{"ecr:max-results":"10"}}`)}, req: n("ten"), want: ImplicitDeny},
		{name: "Numeric/unparsable policy value never matches", identity: []string{allowIf(`{"NumericEquals":{"ecr:max-results":"abc"}}`)}, req: n("10"), want: ImplicitDeny},
		{name: "DateGreaterThan/ISO 8601 (aws:CurrentTime example)", identity: []string{allowIf(`{"DateGreaterThan":{"aws:CurrentTime":"2013-12-15T12:00:00Z"}}`)}, req: ts("2020-01-01T00:00:00Z"), want: Allow},
		{name: "DateGreaterThan/earlier time", identity: []string{allowIf(`{"DateGreaterThan":{"aws:CurrentTime":"2013-12-15T12:00:00Z"}}`)}, req: ts("2013-12-15T11:59:59Z"), want: ImplicitDeny},
		{name: "DateLessThan/epoch policy value, ISO request", identity: []string{allowIf(`{"DateLessThan":{"aws:CurrentTime":"1577836800"}}`)}, req: ts("2019-12-31T23:59:59Z"), want: Allow},
		{name: "DateEquals/ISO and epoch name the same instant", identity: []string{allowIf(`{"DateEquals":{"aws:EpochTime":"2020-01-01T00:00:00Z"}}`)}, req: with(get, "aws:EpochTime", "1577836800"), want: Allow},
		{name: "DateNotEquals/different instants", identity: []string{allowIf(`{"DateNotEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)}, req: ts("2020-01-01T00:00:01Z"), want: Allow},
		{name: "DateLessThanEquals/boundary", identity: []string{allowIf(`{"DateLessThanEquals":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}`)}, req: ts("2020-01-01T00:00:00Z"), want: Allow},
		{name: "DateGreaterThanEquals/time zone offset", identity: []string{allowIf(`{"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01T02:00:00+02:00"}}`)}, req: ts("2020-01-01T00:00:00Z"), want: Allow},
		{name: "Date/date-only value", identity: []string{allowIf(`{"DateLessThan":{"aws:CurrentTime":"2020-01-02"}}`)}, req: ts("2020-01-01T23:00:00Z"), want: Allow},
		{name: "Date/aws:TokenIssueTime absent for long-term keys", identity: []string{allowIf(`{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}`)}, req: get, want: ImplicitDeny},
		{name: "Date/unparsable request value", identity: []string{allowIf(`{"DateGreaterThan":{"aws:CurrentTime":"2013-12-15T12:00:00Z"}}`)}, req: ts("yesterday"), want: ImplicitDeny},
		{name: "Bool/true", identity: []string{allowIf(`{"Bool":{"aws:SecureTransport":"true"}}`)}, req: with(get, "aws:SecureTransport", "true"), want: Allow},
		{name: "Bool/case-insensitive", identity: []string{allowIf(`{"Bool":{"aws:SecureTransport":"True"}}`)}, req: with(get, "aws:SecureTransport", "TRUE"), want: Allow},
		{name: "Bool/JSON boolean operand", identity: []string{allowIf(`{"Bool":{"aws:SecureTransport":true}}`)}, req: with(get, "aws:SecureTransport", "true"), want: Allow},
		{name: "Bool/false vs true", identity: []string{allowIf(`{"Bool":{"aws:SecureTransport":"false"}}`)}, req: with(get, "aws:SecureTransport", "true"), want: ImplicitDeny},
		{name: "Bool/Deny without SSL (BooleanExample)", identity: []string{denyIf(`{"Bool":{"aws:SecureTransport":"false"}}`)}, req: with(get, "aws:SecureTransport", "false"), want: ExplicitDeny, denyIn: I},
		{name: "BinaryEquals/same bytes", identity: []string{allowIf(`{"BinaryEquals":{"ecr:blob":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`)}, req: with(get, "ecr:blob", "QmluYXJ5VmFsdWVJbkJhc2U2NA=="), want: Allow},
		{name: "BinaryEquals/different bytes", identity: []string{allowIf(`{"BinaryEquals":{"ecr:blob":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`)}, req: with(get, "ecr:blob", "b3RoZXI="), want: ImplicitDeny},
		{name: "IpAddress/IPv4 inside CIDR", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: ip("203.0.113.77"), want: Allow},
		{name: "IpAddress/IPv4 outside CIDR", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: ip("203.0.114.1"), want: ImplicitDeny},
		{name: "IpAddress/single address means /32", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.5"}}`)}, req: ip("203.0.113.6"), want: ImplicitDeny},
		{name: "IpAddress/IPv6 inside CIDR", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`)}, req: ip("2001:db8:1234:5678::1"), want: Allow},
		{name: "IpAddress/IPv6 outside CIDR", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}`)}, req: ip("2001:db8:1234:5679::1"), want: ImplicitDeny},
		{name: "IpAddress/mixed IPv4 and IPv6 list", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}`)}, req: ip("2001:db8:1234:5678:abcd::9"), want: Allow},
		{name: "IpAddress/IPv4-mapped IPv6 request", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: ip("::ffff:203.0.113.9"), want: Allow},
		{name: "IpAddress/unparsable request value", identity: []string{allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: ip("localhost"), want: ImplicitDeny},
		{name: "NotIpAddress/inside is false", identity: []string{allowIf(`{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: ip("203.0.113.1"), want: ImplicitDeny},
		{name: "NotIpAddress/outside is true", identity: []string{allowIf(`{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)}, req: ip("198.51.100.1"), want: Allow},
		{name: "ArnLike/wildcard segment", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:topic-*"}}`)}, req: src("arn:aws:sns:us-east-2:111122223333:topic-1"), want: Allow},
		{name: "ArnEquals/exact", identity: []string{allowIf(`{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-2:111122223333:topic"}}`)}, req: src("arn:aws:sns:us-east-2:111122223333:topic"), want: Allow},
		{name: "ArnLike/segments checked separately (doc example)", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`)}, req: src("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"), want: ImplicitDeny},
		{name: "ArnLike/resource part may contain colons", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:logs:*:111122223333:log-group:*"}}`)}, req: src("arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:x"), want: Allow},
		{name: "ArnNotLike/matching ARN is false", identity: []string{allowIf(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"}}`)}, req: src("arn:aws:sns:us-east-2:111122223333:topic"), want: ImplicitDeny},
		{name: "ArnLike/aws:PrincipalArn of a session is the role", identity: []string{allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/dep*"}}`)}, req: rq(deploy, "ecr:BatchGetImage"), want: Allow},
		{name: "ArnLike/non-ARN request value", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`)}, req: src("not-an-arn"), want: ImplicitDeny},
		{name: "Null/true and key absent (aws:TokenIssueTime example)", identity: []string{allowIf(`{"Null":{"aws:TokenIssueTime":"true"}}`)}, req: get, want: Allow},
		{name: "Null/true and key present", identity: []string{allowIf(`{"Null":{"aws:TokenIssueTime":"true"}}`)}, req: with(get, "aws:TokenIssueTime", "2024-01-01T00:00:00Z"), want: ImplicitDeny},
		{name: "Null/false and key present", identity: []string{allowIf(`{"Null":{"ecr:ResourceTag/team":"false"}}`)}, req: with(get, "ecr:ResourceTag/team", "web"), want: Allow},
		{name: "Null/false and key absent", identity: []string{allowIf(`{"Null":{"ecr:ResourceTag/team":"false"}}`)}, req: get, want: ImplicitDeny},
		{name: "Null/key set with no values counts as absent", identity: []string{allowIf(`{"Null":{"aws:TagKeys":"true"}}`)}, req: with(get, "aws:TagKeys"), want: Allow},
	}
}

// setOperatorCases: "Single-valued vs. multivalued context keys", set
// operators ForAllValues / ForAnyValue.
func setOperatorCases() []evalCase {
	create := rq(alice, "ecr:CreateRepository")
	keys := func(v ...string) Request { return with(create, "aws:TagKeys", v...) }
	return []evalCase{
		{name: "ForAnyValue/one request value matches", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["DataClass","Owner"]}}`)}, req: on(with(rq(alice, "ecr:BatchGetImage"), "aws:TagKeys", "DataClass", "Dept"), repoARN), want: Allow},
		{name: "ForAnyValue/no request value matches", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["DataClass","Owner"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "aws:TagKeys", "Dept", "SIC"), want: ImplicitDeny},
		{name: "ForAnyValue/absent key is false", identity: []string{allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":["DataClass","Owner"]}}`)}, req: rq(alice, "ecr:BatchGetImage"), want: ImplicitDeny},
		{name: "ForAnyValue/IfExists makes an absent key true", identity: []string{allowIf(`{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["DataClass"]}}`)}, req: rq(alice, "ecr:BatchGetImage"), want: Allow},
		{name: "ForAnyValue/StringNotEquals: some value outside the list", identity: []string{allowIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["DataClass","Owner"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "aws:TagKeys", "DataClass", "Dept"), want: Allow},
		{name: "ForAnyValue/StringNotEquals: all values inside the list", identity: []string{allowIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["DataClass","Owner"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "aws:TagKeys", "DataClass", "Owner"), want: ImplicitDeny},
		{name: "ForAnyValue/Deny PutItem on ID or PostDateTime (DynamoDB example)", identity: []string{denyIf(`{"ForAnyValue:StringLike":{"dynamodb:requestedAttributes":["ID","PostDateTime"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "dynamodb:requestedAttributes", "UserName", "Message", "PostDateTime"), want: ExplicitDeny, denyIn: I},
		{name: "ForAllValues/every value in the list", identity: []string{allowIf(`{"ForAllValues:StringLike":{"dynamodb:requestedAttributes":["PostDateTime","Message","Tags"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "dynamodb:requestedAttributes", "PostDateTime", "Message"), want: Allow},
		{name: "ForAllValues/one value outside the list (DynamoDB example)", identity: []string{allowIf(`{"ForAllValues:StringLike":{"dynamodb:requestedAttributes":["PostDateTime","Message","Tags"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "dynamodb:requestedAttributes", "PostDateTime", "UserName"), want: ImplicitDeny},
		{name: "ForAllValues/absent key is true", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}}`)}, req: create, want: Allow},
		{name: "ForAllValues/empty set is true", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]}}}`)}, req: keys(), want: Allow},
		{name: "ForAllValues/Null false guards the empty set", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env"]},"Null":{"aws:TagKeys":"false"}}}`)}, req: create, want: ImplicitDeny},
		{name: "ForAllValues/StringLike prefix key1* (Deny example inverted)", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":"key1*"}}}`)}, req: keys("key1a", "key1b"), want: Allow},
		{name: "ForAllValues/StringNotEquals: every value outside", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}}`)}, req: keys("env", "team"), want: Allow},
		{name: "ForAllValues/StringNotEquals: one value inside", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}}`)}, req: keys("env", "secret"), want: ImplicitDeny},
		{name: "multivalued without set operator/positive: any value", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"env"}}}`)}, req: keys("team", "env"), want: Allow},
		{name: "multivalued without set operator/negated: no value may match", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:CreateRepository","Resource":"*","Condition":{"StringNotEquals":{"aws:TagKeys":"env"}}}`)}, req: keys("team", "env"), want: ImplicitDeny},
		{name: "multivalued/ecr tag-based CreateRepository (ecr.md 4.1)", identity: []string{doc(`{"Effect":"Allow","Action":["ecr:CreateRepository","ecr:TagResource"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/environment":"dev"}}}`)}, req: with(create, "aws:RequestTag/environment", "dev"), want: Allow},
	}
}

// variableCases: "IAM policy elements: Variables and tags".
func variableCases() []evalCase {
	own := on(rq(alice, "ecr:PutImage"), "arn:aws:ecr:us-east-1:111122223333:repository/home/alice")
	homePolicy := doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111122223333:repository/home/${aws:username}"}`)
	tagged := func(r Request) Request { return with(r, "aws:PrincipalTag/team", "web") }
	teamPolicy := doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*"}`)
	webRepo := "arn:aws:ecr:us-east-1:111122223333:repository/web/api"
	return []evalCase{
		{name: "variables/${aws:username} in Resource: own repository", identity: []string{homePolicy}, req: own, want: Allow},
		{name: "variables/${aws:username} in Resource: someone else's", identity: []string{homePolicy}, req: on(own, "arn:aws:ecr:us-east-1:111122223333:repository/home/bob"), want: ImplicitDeny},
		{name: "variables/aws:username absent for a role session", identity: []string{homePolicy}, req: on(rq(deploy, "ecr:PutImage"), "arn:aws:ecr:us-east-1:111122223333:repository/home/"), want: ImplicitDeny},
		{name: "variables/default value for an absent key", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/home/${aws:username, 'shared'}"}`)}, req: on(rq(deploy, "ecr:PutImage"), "arn:aws:ecr:us-east-1:111122223333:repository/home/shared"), want: Allow},
		{name: "variables/default value ignored when the key is present", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/home/${aws:username, 'shared'}"}`)}, req: on(own, "arn:aws:ecr:us-east-1:111122223333:repository/home/shared"), want: ImplicitDeny},
		{name: "variables/${aws:PrincipalTag/team} in Resource", identity: []string{teamPolicy}, req: tagged(on(rq(alice, "ecr:PutImage"), webRepo)), want: Allow},
		{name: "variables/PrincipalTag absent", identity: []string{teamPolicy}, req: on(rq(alice, "ecr:PutImage"), webRepo), want: ImplicitDeny},
		{name: "variables/variable key is case-insensitive", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${AWS:PRINCIPALTAG/Team}/*"}`)}, req: tagged(on(rq(alice, "ecr:PutImage"), webRepo)), want: Allow},
		{name: "variables/in a condition value: principal tag equals resource tag", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"${aws:PrincipalTag/team}"}}`)}, req: tagged(with(rq(alice, "ecr:BatchGetImage"), "ecr:ResourceTag/team", "web")), want: Allow},
		{name: "variables/in a condition value: unresolved never matches", identity: []string{allowIf(`{"StringEquals":{"ecr:ResourceTag/team":"${aws:PrincipalTag/team}"}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "ecr:ResourceTag/team", "${aws:PrincipalTag/team}"), want: ImplicitDeny},
		{name: "variables/unresolved makes a negated condition false", identity: []string{allowIf(`{"StringNotEquals":{"ecr:ResourceTag/team":"${aws:PrincipalTag/team}"}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "ecr:ResourceTag/team", "db"), want: ImplicitDeny},
		{name: "variables/StringLike with variable and wildcard (s3:prefix home example)", identity: []string{allowIf(`{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "s3:prefix", "home/alice/docs"), want: Allow},
		{name: "variables/ArnLike with ${aws:PrincipalAccount}", identity: []string{allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:${aws:PrincipalAccount}:*"}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "aws:SourceArn", "arn:aws:sns:us-east-1:111122223333:t"), want: Allow},
		{name: "variables/Version 2008-10-17 does not substitute", identity: []string{doc08(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111122223333:repository/home/${aws:username}"}`)}, req: own, want: ImplicitDeny},
		{name: "variables/Version 2008-10-17 reads ${...} literally", identity: []string{doc08(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111122223333:repository/home/${aws:username}"}`)}, req: on(own, "arn:aws:ecr:us-east-1:111122223333:repository/home/${aws:username}"), want: Allow},
		{name: "variables/missing Version does not substitute", identity: []string{`{"Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:111122223333:repository/home/${aws:username}"}]}`}, req: own, want: ImplicitDeny},
		{name: "variables/${*} is a literal asterisk", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/star${*}"}`)}, req: on(own, "arn:aws:ecr:us-east-1:111122223333:repository/star*"), want: Allow},
		{name: "variables/${*} does not act as a wildcard", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/star${*}"}`)}, req: on(own, "arn:aws:ecr:us-east-1:111122223333:repository/starx"), want: ImplicitDeny},
		{name: "variables/${?} and ${$} are literal", identity: []string{allowIf(`{"StringLike":{"ecr:note":"why${?}${$}"}}`)}, req: with(rq(alice, "ecr:BatchGetImage"), "ecr:note", "why?$"), want: Allow},
		{name: "variables/a substituted * is literal, not a wildcard", identity: []string{teamPolicy}, req: with(on(rq(alice, "ecr:PutImage"), webRepo), "aws:PrincipalTag/team", "*"), want: ImplicitDeny},
		{name: "variables/multivalued key cannot be a variable", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:TagKeys}/*"}`)}, req: with(on(rq(alice, "ecr:PutImage"), webRepo), "aws:TagKeys", "web", "db"), want: ImplicitDeny},
		{name: "variables/unresolved variable in NotResource: statement does not apply", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","NotResource":"arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*"}`)}, req: on(rq(alice, "ecr:PutImage"), webRepo), want: ImplicitDeny},
		{name: "variables/in a repository policy (2012-10-17)", resource: []string{doc(`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"${ecr:ResourceTag/team}"}}}`)}, req: tagged(with(rq(alice, "ecr:BatchGetImage"), "ecr:ResourceTag/team", "web")), want: Allow},
	}
}

// managedCases: the AWS managed policies for ECR (ecr.md 4.4).
func managedCases() []evalCase {
	const power, readOnly, full, pull, ecsExec = "AmazonEC2ContainerRegistryPowerUser", "AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerRegistryPullOnly", "AmazonECSTaskExecutionRolePolicy"
	prodDeny := doc(`{"Sid":"NoProd","Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/env":"prod"}}}`)
	return []evalCase{
		{name: "managed/PowerUser can PutImage", managed: []string{power}, req: rq(alice, "ecr:PutImage"), want: Allow, policy: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"},
		{name: "managed/PowerUser cannot DeleteRepository", managed: []string{power}, req: rq(alice, "ecr:DeleteRepository"), want: ImplicitDeny, missing: I,
			message: "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ecr:DeleteRepository on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app because no identity-based policy allows the ecr:DeleteRepository action"},
		{name: "managed/PowerUser cannot SetRepositoryPolicy", managed: []string{power}, req: rq(alice, "ecr:SetRepositoryPolicy"), want: ImplicitDeny},
		{name: "managed/PowerUser lacks BatchImportUpstreamImage", managed: []string{power}, req: rq(alice, "ecr:BatchImportUpstreamImage"), want: ImplicitDeny},
		{name: "managed/PowerUser GetAuthorizationToken on *", managed: []string{power}, req: on(rq(alice, "ecr:GetAuthorizationToken"), "*"), want: Allow},
		{name: "managed/ReadOnly can BatchGetImage", managed: []string{readOnly}, req: rq(alice, "ecr:BatchGetImage"), want: Allow},
		{name: "managed/ReadOnly cannot PutImage", managed: []string{readOnly}, req: rq(alice, "ecr:PutImage"), want: ImplicitDeny},
		{name: "managed/ECS execution role can BatchGetImage", managed: []string{ecsExec}, req: rq(deploy, "ecr:BatchGetImage"), want: Allow, policy: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"},
		{name: "managed/ECS execution role cannot PutImage", managed: []string{ecsExec}, req: rq(deploy, "ecr:PutImage"), want: ImplicitDeny,
			message: "User: arn:aws:sts::111122223333:assumed-role/deploy/ci-run is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app because no identity-based policy allows the ecr:PutImage action"},
		{name: "managed/ECS execution role can CreateLogStream", managed: []string{ecsExec}, req: on(rq(deploy, "logs:CreateLogStream"), "arn:aws:logs:us-east-1:111122223333:log-group:app"), want: Allow},
		{name: "managed/FullAccess can DeleteRepository", managed: []string{full}, req: rq(alice, "ecr:DeleteRepository"), want: Allow},
		{name: "managed/FullAccess denied by Deny on ecr:ResourceTag/env = prod", managed: []string{full}, identity: []string{prodDeny}, req: with(rq(alice, "ecr:DeleteRepository"), "ecr:ResourceTag/env", "prod"), want: ExplicitDeny, denyIn: I, sid: "NoProd",
			message: "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ecr:DeleteRepository on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app with an explicit deny in an identity-based policy"},
		{name: "managed/FullAccess with the prod Deny on a dev repository", managed: []string{full}, identity: []string{prodDeny}, req: with(rq(alice, "ecr:DeleteRepository"), "ecr:ResourceTag/env", "dev"), want: Allow},
		{name: "managed/FullAccess CreateServiceLinkedRole for replication", managed: []string{full}, req: with(on(rq(alice, "iam:CreateServiceLinkedRole"), "arn:aws:iam::111122223333:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication"), "iam:AWSServiceName", "replication.ecr.amazonaws.com"), want: Allow},
		{name: "managed/FullAccess CreateServiceLinkedRole for another service", managed: []string{full}, req: with(on(rq(alice, "iam:CreateServiceLinkedRole"), "arn:aws:iam::111122223333:role/x"), "iam:AWSServiceName", "ecs.amazonaws.com"), want: ImplicitDeny},
		{name: "managed/PullOnly can BatchImportUpstreamImage", managed: []string{pull}, req: rq(alice, "ecr:BatchImportUpstreamImage"), want: Allow},
		{name: "managed/PullOnly cannot BatchCheckLayerAvailability", managed: []string{pull}, req: rq(alice, "ecr:BatchCheckLayerAvailability"), want: ImplicitDeny},
		{name: "managed/PowerUser across accounts needs the repository policy", managed: []string{power}, req: owned(rq(bob, "ecr:PutImage"), acctA), want: ImplicitDeny, missing: R},
		{name: "managed/PowerUser blocked by repository policy deny", managed: []string{power}, resource: []string{doc(`{"Sid":"ReadOnlyRepo","Effect":"Deny","Principal":"*","Action":["ecr:PutImage","ecr:InitiateLayerUpload"]}`)}, req: rq(alice, "ecr:PutImage"), want: ExplicitDeny, denyIn: R, policy: "repository policy", sid: "ReadOnlyRepo",
			message: "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app with an explicit deny in a resource-based policy"},
	}
}

// messageCases: AWS's AccessDenied texts (ecr.md 4.3).
func messageCases() []evalCase {
	return []evalCase{
		{name: "message/GetAuthorizationToken on resource *", req: on(rq(alice, "ecr:GetAuthorizationToken"), "*"), want: ImplicitDeny,
			message: "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"},
		{name: "message/cross-account names the resource-based policy", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`)}, req: owned(rq(bob, "ecr:BatchGetImage"), acctA), want: ImplicitDeny, missing: R,
			message: "User: arn:aws:iam::444455556666:user/bob is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app because no resource-based policy allows the ecr:BatchGetImage action"},
		{name: "message/CodeBuild session pushing (aws-modern-application-workshop#95)", identity: []string{doc(`{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}`)},
			req:  Request{Principal: Principal{Type: AssumedRole, ARN: "arn:aws:sts::111122223333:assumed-role/codebuild-role/AWSCodeBuild-1234", Account: acctA, RoleARN: "arn:aws:iam::111122223333:role/service-role/codebuild-role"}, Action: "ecr:CompleteLayerUpload", Resource: repoARN},
			want: ImplicitDeny, message: "User: arn:aws:sts::111122223333:assumed-role/codebuild-role/AWSCodeBuild-1234 is not authorized to perform: ecr:CompleteLayerUpload on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app because no identity-based policy allows the ecr:CompleteLayerUpload action"},
		{name: "message/explicit deny in a resource-based policy across accounts", identity: []string{doc(allowECR)}, resource: []string{doc(`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::444455556666:user/bob"},"Action":"ecr:*"}`)}, req: owned(rq(bob, "ecr:BatchGetImage"), acctA), want: ExplicitDeny, denyIn: R,
			message: "User: arn:aws:iam::444455556666:user/bob is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:111122223333:repository/team/app with an explicit deny in a resource-based policy"},
	}
}

// TestMessageAllowed: an allowing decision has no denial text.
func TestMessageAllowed(t *testing.T) {
	d := Decision{Effect: Allow}
	if m := d.Message(rq(alice, "ecr:BatchGetImage")); m != "" {
		t.Fatalf("Message = %q", m)
	}
}
