package iam

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// TestAuthorizeDecisions: one decision per case, each in a fresh store;
// the denial text is checked word for word.
func TestAuthorizeDecisions(t *testing.T) {
	const (
		allowPullApp = `{"Sid":"PullApp","Effect":"Allow","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Resource":"arn:aws:ecr:us-east-1:111111111111:repository/app"}`
		registryAll  = `"arn:aws:ecr:us-east-1:111111111111:repository/*"`
	)
	repoAllow := func(principal string) string {
		return doc(`{"Sid":"Grant","Effect":"Allow","Principal":` + principal + `,"Action":["ecr:BatchGetImage","ecr:PutImage"]}`)
	}
	registryStmt := func(effect, principal, actions string) string {
		return doc(`{"Sid":"Reg","Effect":"` + effect + `","Principal":` + principal + `,"Action":` + actions + `,"Resource":` + registryAll + `}`)
	}
	userA := func(e *env, name string, policies ...string) auth.Principal {
		return e.user(acctA, name, nil, policies...)
	}
	userB := func(e *env, name string, policies ...string) auth.Principal {
		return e.user(acctB, name, nil, policies...)
	}
	setV1 := func(e *env) {
		e.must(e.st.PutSetting(e.ctx, acctA, ecrmodel.AccountSettingKey("REGISTRY_POLICY_SCOPE"), "V1"))
	}

	tests := []struct {
		name  string
		setup func(e *env) Check
		allow bool
		// for a denial: the missing policy type, or the type holding the
		// explicit deny
		missing, denyIn string
		// policy and statement the decision names ("" : not checked)
		policy, sid string
	}{
		// AWS managed policies.
		{name: "PowerUser may PutImage", allow: true, policy: arnPowerUser, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "pu", "AmazonEC2ContainerRegistryPowerUser"), "ecr:PutImage", acctA, "app")
		}},
		{name: "PowerUser may not DeleteRepository", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "pu", "AmazonEC2ContainerRegistryPowerUser"), "ecr:DeleteRepository", acctA, "app")
		}},
		{name: "PowerUser may not SetRepositoryPolicy", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "pu", arnPowerUser), "ecr:SetRepositoryPolicy", acctA, "app")
		}},
		{name: "PowerUser GetAuthorizationToken on *", allow: true, policy: arnPowerUser, setup: func(e *env) Check {
			return ecr(userA(e, "pu", arnPowerUser), "ecr:GetAuthorizationToken", acctA, "")
		}},
		{name: "ReadOnly may BatchGetImage", allow: true, policy: arnReadOnly, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "ro", "AmazonEC2ContainerRegistryReadOnly"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "ReadOnly may not PutImage", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "ro", arnReadOnly), "ecr:PutImage", acctA, "app")
		}},
		{name: "ReadOnly may not InitiateLayerUpload", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "ro", arnReadOnly), "ecr:InitiateLayerUpload", acctA, "app")
		}},
		{name: "task execution role session may BatchGetImage", allow: true, policy: arnTaskExec, setup: func(e *env) Check {
			e.repo(acctA, "app")
			r := e.role(acctA, "ecsTaskExecutionRole", "", nil, "AmazonECSTaskExecutionRolePolicy")
			return ecr(session(r, "task-1"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "task execution role session may GetAuthorizationToken", allow: true, policy: arnTaskExec, setup: func(e *env) Check {
			r := e.role(acctA, "ecsTaskExecutionRole", "", nil, arnTaskExec)
			return ecr(session(r, "task-1"), "ecr:GetAuthorizationToken", acctA, "")
		}},
		{name: "task execution role session may not PutImage", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			r := e.role(acctA, "ecsTaskExecutionRole", "", nil, arnTaskExec)
			return ecr(session(r, "task-1"), "ecr:PutImage", acctA, "app")
		}},
		{name: "user without policies", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "nobody"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "administrator anything", allow: true, policy: arnAdmin, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userA(e, "admin", "AdministratorAccess"), "ecr:DeleteRepository", acctA, "app")
		}},

		// Inline and customer managed policies.
		{name: "inline policy allows its repository", allow: true, sid: "PullApp",
			policy: "inline policy pull of arn:aws:iam::111111111111:user/dev", setup: func(e *env) Check {
				e.repo(acctA, "app")
				p := userA(e, "dev")
				e.inline(p.ARN, "pull", doc(allowPullApp))
				return ecr(p, "ecr:BatchGetImage", acctA, "app")
			}},
		{name: "inline policy does not reach another repository", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "other")
			p := userA(e, "dev")
			e.inline(p.ARN, "pull", doc(allowPullApp))
			return ecr(p, "ecr:BatchGetImage", acctA, "other")
		}},
		{name: "inline policy does not allow another action", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			p := userA(e, "dev")
			e.inline(p.ARN, "pull", doc(allowPullApp))
			return ecr(p, "ecr:PutImage", acctA, "app")
		}},
		{name: "role inline policy allows its sessions", allow: true, setup: func(e *env) Check {
			e.repo(acctA, "app")
			r := e.role(acctA, "builder", "", nil)
			e.inline(r.ARN, "pull", doc(allowPullApp))
			return ecr(session(r, "s"), "ecr:GetDownloadUrlForLayer", acctA, "app")
		}},
		{name: "customer managed policy allows", allow: true, sid: "Team",
			policy: "arn:aws:iam::111111111111:policy/team/TeamPush", setup: func(e *env) Check {
				e.repo(acctA, "team/app")
				arn, err := e.svc.PutManagedPolicy(e.ctx, acctA, "TeamPush", "/team/",
					doc(`{"Sid":"Team","Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/team/*"}`), "")
				e.must(err)
				return ecr(userA(e, "dev", arn), "ecr:PutImage", acctA, "team/app")
			}},
		{name: "customer managed policy limited to its resources", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			arn, err := e.svc.PutManagedPolicy(e.ctx, acctA, "TeamPush", "/",
				doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/team/*"}`), "")
			e.must(err)
			return ecr(userA(e, "dev", arn), "ecr:PutImage", acctA, "app")
		}},

		// Same account: the union.
		{name: "same account: repository policy alone grants a user", allow: true, policy: "repository policy", sid: "Grant",
			setup: func(e *env) Check {
				e.repo(acctA, "app")
				e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::111111111111:user/dev"}`))
				return ecr(userA(e, "dev"), "ecr:PutImage", acctA, "app")
			}},
		{name: "same account: repository policy naming the role grants its session", allow: true, policy: "repository policy",
			setup: func(e *env) Check {
				e.repo(acctA, "app")
				r := e.role(acctA, "builder", "", nil)
				e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"`+r.ARN+`"}`))
				return ecr(session(r, "s"), "ecr:BatchGetImage", acctA, "app")
			}},
		{name: "same account: repository policy with Principal *", allow: true, policy: "repository policy", setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`"*"`))
			return ecr(userA(e, "dev"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "same account: repository policy naming another user", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::111111111111:user/someone"}`))
			return ecr(userA(e, "dev"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "same account: account principal (root) does not grant alone", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::111111111111:root"}`))
			return ecr(userA(e, "dev"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "same account: account principal (bare id) does not grant alone", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"111111111111"}`))
			return ecr(userA(e, "dev"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "same account: account principal plus identity allow", allow: true, policy: arnReadOnly, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::111111111111:root"}`))
			return ecr(userA(e, "dev", arnReadOnly), "ecr:BatchGetImage", acctA, "app")
		}},

		// Cross account: both sides.
		{name: "cross account: identity allow without repository policy", missing: policy.ResourceBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			return ecr(userB(e, "ext", arnPowerUser), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "cross account: repository policy without identity allow", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::222222222222:user/ext"}`))
			return ecr(userB(e, "ext"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "cross account: repository policy naming another account", missing: policy.ResourceBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"333333333333"}`))
			return ecr(userB(e, "ext", arnPowerUser), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "cross account: user named in repository policy and identity allow", allow: true, policy: arnPowerUser, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::222222222222:user/ext"}`))
			return ecr(userB(e, "ext", arnPowerUser), "ecr:PutImage", acctA, "app")
		}},
		{name: "cross account: account named in repository policy and identity allow", allow: true, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"arn:aws:iam::222222222222:root"}`))
			return ecr(userB(e, "ext", arnReadOnly), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "cross account: role session, role named, identity allow", allow: true, setup: func(e *env) Check {
			e.repo(acctA, "app")
			r := e.role(acctB, "deployer", "", nil, arnReadOnly)
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"`+r.ARN+`"}`))
			return ecr(session(r, "ci"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "cross account: role session without identity allow", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			r := e.role(acctB, "deployer", "", nil)
			e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"`+r.ARN+`"}`))
			return ecr(session(r, "ci"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "cross account: registry policy (V2) grants with identity allow", allow: true, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"222222222222"}`, `["ecr:BatchGetImage"]`))
			return ecr(userB(e, "ext", arnReadOnly), "ecr:BatchGetImage", acctA, "app")
		}},

		// Explicit denies.
		{name: "explicit deny in repository policy beats administrator", denyIn: policy.ResourceBased,
			policy: "repository policy", sid: "NoDelete", setup: func(e *env) Check {
				e.repo(acctA, "app")
				e.repoPolicy(acctA, "app", doc(`{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}`))
				return ecr(userA(e, "admin", arnAdmin), "ecr:DeleteRepository", acctA, "app")
			}},
		{name: "explicit deny in identity policy beats repository allow", denyIn: policy.IdentityBased, sid: "NoPush",
			policy: "inline policy guard of arn:aws:iam::111111111111:user/dev", setup: func(e *env) Check {
				e.repo(acctA, "app")
				p := userA(e, "dev")
				e.inline(p.ARN, "guard", doc(`{"Sid":"NoPush","Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}`))
				e.repoPolicy(acctA, "app", repoAllow(`{"AWS":"`+p.ARN+`"}`))
				return ecr(p, "ecr:PutImage", acctA, "app")
			}},
		{name: "explicit deny in identity policy beats managed allow", denyIn: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			p := userA(e, "dev", arnPowerUser)
			e.inline(p.ARN, "guard", doc(`{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*"}`))
			return ecr(p, "ecr:PutImage", acctA, "app")
		}},
		{name: "explicit deny in repository policy for another account", denyIn: policy.ResourceBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", doc(
				`{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:*"}`,
				`{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:user/ext"},"Action":"ecr:PutImage"}`))
			return ecr(userB(e, "ext", arnPowerUser), "ecr:PutImage", acctA, "app")
		}},

		// Service principals.
		{name: "service principal named in repository policy", allow: true, policy: "repository policy", setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"Service":"codebuild.amazonaws.com"}`))
			p := auth.Principal{Type: auth.TypeService, ARN: "codebuild.amazonaws.com", Account: acctA, AccessKeyID: "AKIASERVICE"}
			return ecr(p, "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "service principal not named in repository policy", missing: policy.ResourceBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.repoPolicy(acctA, "app", repoAllow(`{"Service":"ecs.amazonaws.com"}`))
			p := auth.Principal{Type: auth.TypeService, ARN: "codebuild.amazonaws.com", Account: acctA, AccessKeyID: "AKIASERVICE"}
			return ecr(p, "ecr:BatchGetImage", acctA, "app")
		}},

		// The registry policy and REGISTRY_POLICY_SCOPE.
		{name: "registry policy V2 (default) grants BatchGetImage", allow: true, policy: "registry policy", sid: "Reg",
			setup: func(e *env) Check {
				e.repo(acctA, "app")
				e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"arn:aws:iam::111111111111:user/carol"}`, `["ecr:BatchGetImage","ecr:CreateRepository"]`))
				return ecr(userA(e, "carol"), "ecr:BatchGetImage", acctA, "app")
			}},
		{name: "registry policy V2 explicit V2 setting", allow: true, policy: "registry policy", setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.must(e.st.PutSetting(e.ctx, acctA, ecrmodel.AccountSettingKey("REGISTRY_POLICY_SCOPE"), "V2"))
			e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"arn:aws:iam::111111111111:user/carol"}`, `"ecr:*"`))
			return ecr(userA(e, "carol"), "ecr:ListImages", acctA, "app")
		}},
		{name: "registry policy V1 ignored for BatchGetImage", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			setV1(e)
			e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"arn:aws:iam::111111111111:user/carol"}`, `["ecr:BatchGetImage","ecr:CreateRepository"]`))
			return ecr(userA(e, "carol"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "registry policy V1 applies to CreateRepository", allow: true, policy: "registry policy", setup: func(e *env) Check {
			setV1(e)
			e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"arn:aws:iam::111111111111:user/carol"}`, `["ecr:BatchGetImage","ecr:CreateRepository"]`))
			return ecr(userA(e, "carol"), "ecr:CreateRepository", acctA, "new")
		}},
		{name: "registry policy V1 applies to ReplicateImage", allow: true, setup: func(e *env) Check {
			setV1(e)
			e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"222222222222"}`, `["ecr:ReplicateImage","ecr:CreateRepository"]`))
			return ecr(userB(e, "rep", "AmazonEC2ContainerRegistryFullAccess"), "ecr:ReplicateImage", acctA, "app")
		}},
		{name: "registry policy V1 applies to BatchImportUpstreamImage", allow: true, policy: "registry policy", setup: func(e *env) Check {
			setV1(e)
			e.registryPolicy(acctA, registryStmt("Allow", `{"AWS":"arn:aws:iam::111111111111:user/carol"}`, `"ecr:BatchImportUpstreamImage"`))
			return ecr(userA(e, "carol"), "ecr:BatchImportUpstreamImage", acctA, "cache/nginx")
		}},
		{name: "registry policy V2 deny applies to PutImage", denyIn: policy.ResourceBased, policy: "registry policy", setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.registryPolicy(acctA, registryStmt("Deny", `"*"`, `"ecr:*"`))
			return ecr(userA(e, "admin", arnAdmin), "ecr:PutImage", acctA, "app")
		}},
		{name: "registry policy V1 deny ignored for PutImage", allow: true, policy: arnAdmin, setup: func(e *env) Check {
			e.repo(acctA, "app")
			setV1(e)
			e.registryPolicy(acctA, registryStmt("Deny", `"*"`, `"ecr:*"`))
			return ecr(userA(e, "admin", arnAdmin), "ecr:PutImage", acctA, "app")
		}},
		{name: "registry policy V1 deny applies to CreateRepository", denyIn: policy.ResourceBased, setup: func(e *env) Check {
			setV1(e)
			e.registryPolicy(acctA, registryStmt("Deny", `"*"`, `"ecr:*"`))
			return ecr(userA(e, "admin", arnAdmin), "ecr:CreateRepository", acctA, "new")
		}},
		{name: "registry policy of another registry does not apply", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.registryPolicy(acctB, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/carol"},"Action":"ecr:*","Resource":"*"}`))
			return ecr(userA(e, "carol"), "ecr:BatchGetImage", acctA, "app")
		}},
		{name: "registry policy statement resource outside the repository", missing: policy.IdentityBased, setup: func(e *env) Check {
			e.repo(acctA, "app")
			e.registryPolicy(acctA, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/carol"},"Action":"ecr:*","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/prod/*"}`))
			return ecr(userA(e, "carol"), "ecr:BatchGetImage", acctA, "app")
		}},

		// Trust (sts:AssumeRole): the trust policy is the resource-based
		// policy and must allow; the reason is kept in the Decision.
		{name: "trust naming the user", allow: true, policy: "trust policy of arn:aws:iam::111111111111:role/r", setup: func(e *env) Check {
			p := userA(e, "dev")
			return assumeCheck(p, acctA, trustDoc(aws(p.ARN), assume, ""))
		}},
		{name: "trust naming the account, no identity allow", missing: policy.IdentityBased, setup: func(e *env) Check {
			return assumeCheck(userA(e, "dev"), acctA, trustDoc(aws(acctA), assume, ""))
		}},
		{name: "trust naming the account, identity allow", allow: true, setup: func(e *env) Check {
			return assumeCheck(userA(e, "dev", arnAdmin), acctA, trustDoc(aws(acctA), assume, ""))
		}},
		{name: "trust naming someone else", missing: policy.ResourceBased, setup: func(e *env) Check {
			return assumeCheck(userA(e, "dev", arnAdmin), acctA, trustDoc(aws(UserARN(acctA, "/", "x")), assume, ""))
		}},
		{name: "trust naming a cross-account user, no identity allow", missing: policy.IdentityBased, setup: func(e *env) Check {
			p := userB(e, "ext")
			return assumeCheck(p, acctA, trustDoc(aws(p.ARN), assume, ""))
		}},
		{name: "trust naming a cross-account user, identity allow", allow: true, setup: func(e *env) Check {
			p := userB(e, "ext", arnAdmin)
			return assumeCheck(p, acctA, trustDoc(aws(p.ARN), assume, ""))
		}},
		{name: "trust with a deny", denyIn: policy.ResourceBased, setup: func(e *env) Check {
			p := userA(e, "dev")
			return assumeCheck(p, acctA, doc(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}`,
				`{"Effect":"Deny","Principal":`+aws(p.ARN)+`,"Action":"sts:AssumeRole"}`))
		}},
		{name: "trust ignores the registry policy", missing: policy.ResourceBased, setup: func(e *env) Check {
			p := userA(e, "dev")
			e.registryPolicy(acctA, doc(`{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`))
			return assumeCheck(p, acctA, trustDoc(aws(UserARN(acctA, "/", "x")), assume, ""))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := tc.setup(e)
			d, req := e.decide(c)
			if d.Allowed() != tc.allow {
				t.Fatalf("Allowed() = %v, want %v (decision %+v, message %q)", d.Allowed(), tc.allow, d, d.Message(req))
			}
			var want string
			switch {
			case tc.allow:
			case tc.denyIn != "":
				if d.Effect != policy.ExplicitDeny || d.DenyIn != tc.denyIn {
					t.Errorf("decision %+v, want explicit deny in %s", d, tc.denyIn)
				}
				want = msgExplicit(c.Principal.ARN, c.Action, c.Resource, tc.denyIn)
			default:
				if d.Effect != policy.ImplicitDeny || d.Missing != tc.missing {
					t.Errorf("decision %+v, want implicit deny, missing %s", d, tc.missing)
				}
				want = msgNoPolicy(c.Principal.ARN, c.Action, c.Resource, tc.missing)
			}
			if got := d.Message(req); got != want {
				t.Errorf("message\n got %q\nwant %q", got, want)
			}
			if tc.policy != "" && d.Policy != tc.policy {
				t.Errorf("deciding policy %q, want %q", d.Policy, tc.policy)
			}
			if tc.sid != "" && d.Sid != tc.sid {
				t.Errorf("deciding sid %q, want %q", d.Sid, tc.sid)
			}
		})
	}
}

// assumeCheck is the Check Roles makes for sts:AssumeRole of role "r" in
// acct with trust.
func assumeCheck(p auth.Principal, acct, trust string) Check {
	return Check{Principal: p, Action: "sts:AssumeRole", Resource: RoleARN(acct, "/", "r"), Registry: acct, Trust: trust}
}

// TestDenialMessageBrief: Brief checks (STS's) name no reason.
func TestDenialMessageBrief(t *testing.T) {
	e := newEnv(t)
	p := e.user(acctA, "dev", nil)
	c := assumeCheck(p, acctA, trustDoc(aws(acctA), assume, ""))
	d, req := e.decide(c)
	if d.Allowed() {
		t.Fatal("allowed")
	}
	if got := DenialMessage(c, d, req); got != msgNoPolicy(p.ARN, "sts:AssumeRole", c.Resource, policy.IdentityBased) {
		t.Errorf("full message %q", got)
	}
	c.Brief = true
	e.audit.reset()
	d, req = e.decide(c)
	want := msgBrief(p.ARN, "sts:AssumeRole", c.Resource)
	if got := DenialMessage(c, d, req); got != want {
		t.Errorf("brief message %q, want %q", got, want)
	}
	if evs := e.audit.all(); len(evs) != 1 || evs[0].ErrorMessage != want {
		t.Errorf("audit %+v", evs)
	}
}

// TestAuthorizeConditionKeys: the keys the Authorizer puts in the
// request context, each probed with a matching and a non-matching request.
func TestAuthorizeConditionKeys(t *testing.T) {
	type probe struct {
		name  string
		check func(e *env, w *world) Check
		allow bool
	}
	tests := []struct {
		name   string
		setup  func(e *env, w *world)
		probes []probe
	}{
		{
			name: "aws:PrincipalArn is the role ARN for a session",
			setup: func(e *env, w *world) {
				e.repo(acctA, "app")
				w.role = e.role(acctA, "builder", "", nil)
				w.other = e.role(acctA, "other", "", nil)
				e.repoPolicy(acctA, "app", doc(
					`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalArn":"`+w.role.ARN+`"}}}`,
					`{"Effect":"Allow","Principal":"*","Action":"ecr:ListImages","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:sts::*:assumed-role/*"}}}`))
			},
			probes: []probe{
				{"session of the role", func(e *env, w *world) Check { return ecr(session(w.role, "s1"), "ecr:BatchGetImage", acctA, "app") }, true},
				{"session of another role", func(e *env, w *world) Check { return ecr(session(w.other, "s1"), "ecr:BatchGetImage", acctA, "app") }, false},
				{"session ARN is not aws:PrincipalArn", func(e *env, w *world) Check { return ecr(session(w.role, "s1"), "ecr:ListImages", acctA, "app") }, false},
			},
		},
		{
			name: "aws:PrincipalTag from user tags",
			setup: func(e *env, w *world) {
				e.repo(acctA, "app")
				w.user = e.user(acctA, "alice", tags("team", "platform"))
				w.user2 = e.user(acctA, "bob", tags("team", "web"))
				pol := doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"platform"}}}`)
				e.inline(w.user.ARN, "tagged", pol)
				e.inline(w.user2.ARN, "tagged", pol)
			},
			probes: []probe{
				{"tag matches", func(e *env, w *world) Check { return ecr(w.user, "ecr:BatchGetImage", acctA, "app") }, true},
				{"tag differs", func(e *env, w *world) Check { return ecr(w.user2, "ecr:BatchGetImage", acctA, "app") }, false},
			},
		},
		{
			name: "aws:PrincipalTag from role tags merged with session tags",
			setup: func(e *env, w *world) {
				e.repo(acctA, "app")
				w.user = e.user(acctA, "alice", nil)
				trust := trustDoc(`{"AWS":"`+w.user.ARN+`"}`, `["sts:AssumeRole","sts:TagSession"]`, "")
				w.role = e.role(acctA, "builder", trust, tags("team", "infra", "env", "prod"))
				e.inline(w.role.ARN, "tagged", doc(
					`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"platform","aws:PrincipalTag/env":"prod"}}}`,
					`{"Effect":"Allow","Action":"ecr:ListImages","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"infra"}}}`))
				_, w.tagged = e.assume(w.user, stsIn(w.role.ARN, "tagged", sessTags("team", "platform")))
				_, w.plain = e.assume(w.user, stsIn(w.role.ARN, "plain", nil))
			},
			probes: []probe{
				{"session tag overrides, role tag kept", func(e *env, w *world) Check { return ecr(w.tagged, "ecr:BatchGetImage", acctA, "app") }, true},
				{"overridden role tag no longer matches", func(e *env, w *world) Check { return ecr(w.tagged, "ecr:ListImages", acctA, "app") }, false},
				{"untagged session has the role tags", func(e *env, w *world) Check { return ecr(w.plain, "ecr:ListImages", acctA, "app") }, true},
				{"untagged session lacks the session tag", func(e *env, w *world) Check { return ecr(w.plain, "ecr:BatchGetImage", acctA, "app") }, false},
			},
		},
		{
			name: "ecr:ResourceTag and aws:ResourceTag from repository tags",
			setup: func(e *env, w *world) {
				e.repo(acctA, "dev-app", tags("env", "dev")...)
				e.repo(acctA, "prod-app", tags("env", "prod")...)
				e.repo(acctA, "untagged")
				w.user = e.user(acctA, "alice", nil)
				e.inline(w.user.ARN, "tagged", doc(
					`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/env":"dev"}}}`,
					`{"Effect":"Allow","Action":"ecr:ListImages","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}`,
					`{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/env":"prod"}}}`,
					`{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`))
			},
			probes: []probe{
				{"ecr:ResourceTag matches", func(e *env, w *world) Check { return ecr(w.user, "ecr:BatchGetImage", acctA, "dev-app") }, true},
				{"ecr:ResourceTag differs", func(e *env, w *world) Check { return ecr(w.user, "ecr:BatchGetImage", acctA, "prod-app") }, false},
				{"ecr:ResourceTag absent", func(e *env, w *world) Check { return ecr(w.user, "ecr:BatchGetImage", acctA, "untagged") }, false},
				{"aws:ResourceTag matches", func(e *env, w *world) Check { return ecr(w.user, "ecr:ListImages", acctA, "prod-app") }, true},
				{"aws:ResourceTag differs", func(e *env, w *world) Check { return ecr(w.user, "ecr:ListImages", acctA, "dev-app") }, false},
				{"tag-based deny", func(e *env, w *world) Check { return ecr(w.user, "ecr:PutImage", acctA, "prod-app") }, false},
				{"tag-based deny elsewhere", func(e *env, w *world) Check { return ecr(w.user, "ecr:PutImage", acctA, "dev-app") }, true},
			},
		},
		{
			name: "aws:RequestTag and aws:TagKeys",
			setup: func(e *env, w *world) {
				e.repo(acctA, "app")
				w.user = e.user(acctA, "alice", nil)
				e.inline(w.user.ARN, "tagging", doc(
					`{"Effect":"Allow","Action":["ecr:TagResource","ecr:CreateRepository"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/env":"dev"},"ForAllValues:StringEquals":{"aws:TagKeys":["env","owner"]}}}`,
					`{"Effect":"Allow","Action":"ecr:UntagResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["scratch"]}}}`))
			},
			probes: []probe{
				{"request tag matches", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:TagResource", acctA, "app")
					c.RequestTags = tags("env", "dev", "owner", "me")
					return c
				}, true},
				{"request tag differs", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:TagResource", acctA, "app")
					c.RequestTags = tags("env", "prod")
					return c
				}, false},
				{"tag keys derived from request tags", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:CreateRepository", acctA, "new")
					c.RequestTags = tags("env", "dev", "cost", "x")
					return c
				}, false},
				{"explicit tag keys allowed", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:UntagResource", acctA, "app")
					c.TagKeys = []string{"scratch"}
					return c
				}, true},
				{"explicit tag keys refused", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:UntagResource", acctA, "app")
					c.TagKeys = []string{"scratch", "env"}
					return c
				}, false},
			},
		},
		{
			name: "aws:SourceIp and aws:SecureTransport",
			setup: func(e *env, w *world) {
				e.repo(acctA, "app")
				w.user = e.user(acctA, "alice", nil)
				e.inline(w.user.ARN, "net", doc(
					`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}}`,
					`{"Effect":"Allow","Action":"ecr:PutImage","Resource":"*"}`,
					`{"Effect":"Deny","Action":"ecr:PutImage","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`))
			},
			probes: []probe{
				{"IPv4 inside", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:BatchGetImage", acctA, "app")
					c.HTTP = httpReq("10.1.2.3:5555", false)
					return c
				}, true},
				{"IPv4 outside", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:BatchGetImage", acctA, "app")
					c.HTTP = httpReq("192.0.2.7:5555", false)
					return c
				}, false},
				{"IPv6 inside", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:BatchGetImage", acctA, "app")
					c.HTTP = httpReq("[2001:db8::1]:443", false)
					return c
				}, true},
				{"no request", func(e *env, w *world) Check { return ecr(w.user, "ecr:BatchGetImage", acctA, "app") }, false},
				{"TLS", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:PutImage", acctA, "app")
					c.HTTP = httpReq("192.0.2.7:5555", true)
					return c
				}, true},
				{"plain HTTP", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:PutImage", acctA, "app")
					c.HTTP = httpReq("192.0.2.7:5555", false)
					return c
				}, false},
			},
		},
		{
			name: "aws:username only for users",
			setup: func(e *env, w *world) {
				e.repo(acctA, "alice/app")
				e.repo(acctA, "bob/app")
				e.repo(acctA, "builder/app")
				pol := doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:username}/*"}`,
					`{"Effect":"Allow","Action":"ecr:ListImages","Resource":"*","Condition":{"Null":{"aws:username":"true"}}}`)
				w.user = e.user(acctA, "alice", nil)
				e.inline(w.user.ARN, "home", pol)
				w.role = e.role(acctA, "builder", "", nil)
				e.inline(w.role.ARN, "home", pol)
			},
			probes: []probe{
				{"own prefix", func(e *env, w *world) Check { return ecr(w.user, "ecr:PutImage", acctA, "alice/app") }, true},
				{"other prefix", func(e *env, w *world) Check { return ecr(w.user, "ecr:PutImage", acctA, "bob/app") }, false},
				{"user has a username", func(e *env, w *world) Check { return ecr(w.user, "ecr:ListImages", acctA, "bob/app") }, false},
				{"session has none", func(e *env, w *world) Check {
					return ecr(session(w.role, "builder"), "ecr:PutImage", acctA, "builder/app")
				}, false},
				{"session: aws:username is null", func(e *env, w *world) Check {
					return ecr(session(w.role, "builder"), "ecr:ListImages", acctA, "bob/app")
				}, true},
			},
		},
		{
			name: "ecr:AccountSetting from Check.Keys",
			setup: func(e *env, w *world) {
				w.user = e.user(acctA, "alice", nil)
				e.inline(w.user.ARN, "settings", doc(
					`{"Effect":"Allow","Action":"ecr:PutAccountSetting","Resource":"*","Condition":{"StringEquals":{"ecr:AccountSetting":"BLOB_MOUNTING"}}}`))
			},
			probes: []probe{
				{"setting allowed", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:PutAccountSetting", acctA, "")
					c.Keys = map[string]string{"ecr:AccountSetting": "BLOB_MOUNTING"}
					return c
				}, true},
				{"other setting", func(e *env, w *world) Check {
					c := ecr(w.user, "ecr:PutAccountSetting", acctA, "")
					c.Keys = map[string]string{"ecr:AccountSetting": "REGISTRY_POLICY_SCOPE"}
					return c
				}, false},
				{"no setting", func(e *env, w *world) Check { return ecr(w.user, "ecr:PutAccountSetting", acctA, "") }, false},
			},
		},
		{
			name: "aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:RequestedRegion",
			setup: func(e *env, w *world) {
				e.repo(acctA, "app")
				w.user = e.user(acctB, "ext", nil, arnReadOnly)
				w.role = e.role(acctB, "ci", "", nil, arnReadOnly)
				e.repoPolicy(acctA, "app", doc(
					`{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage","Condition":{"StringEquals":{"aws:PrincipalAccount":"222222222222","aws:PrincipalType":"User","aws:RequestedRegion":"us-east-1"}}}`,
					`{"Effect":"Allow","Principal":"*","Action":"ecr:ListImages","Condition":{"StringLike":{"aws:userid":"AROA*:ci-*"}}}`))
			},
			probes: []probe{
				{"user of B", func(e *env, w *world) Check { return ecr(w.user, "ecr:BatchGetImage", acctA, "app") }, true},
				{"session is not a User", func(e *env, w *world) Check { return ecr(session(w.role, "ci-1"), "ecr:BatchGetImage", acctA, "app") }, false},
				{"session userid", func(e *env, w *world) Check { return ecr(session(w.role, "ci-1"), "ecr:ListImages", acctA, "app") }, true},
				{"user userid", func(e *env, w *world) Check { return ecr(w.user, "ecr:ListImages", acctA, "app") }, false},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			w := &world{}
			tc.setup(e, w)
			for _, p := range tc.probes {
				c := p.check(e, w)
				d, req := e.decide(c)
				if d.Allowed() != p.allow {
					t.Errorf("%s: Allowed() = %v, want %v (%+v %q)", p.name, d.Allowed(), p.allow, d, d.Message(req))
				}
			}
		})
	}
}

// world holds what a condition-key case set up.
type world struct {
	user, user2   auth.Principal
	role, other   metadata.Principal
	tagged, plain auth.Principal
}

// TestAuthorizeCache: a change becomes visible once the Refresh interval
// has passed (the version is checked), and not before.
func TestAuthorizeCache(t *testing.T) {
	type state struct {
		p    auth.Principal
		role metadata.Principal
	}
	tests := []struct {
		name   string
		setup  func(e *env, s *state)
		check  func(s *state) Check
		change func(e *env, s *state)
		before bool // decision before the change (and until refreshed)
	}{
		{
			name:  "inline policy put",
			setup: func(e *env, s *state) { e.repo(acctA, "app"); s.p = e.user(acctA, "dev", nil) },
			check: func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) {
				e.inline(s.p.ARN, "pull", doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`))
			},
		},
		{
			name: "inline policy deleted",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app")
				s.p = e.user(acctA, "dev", nil)
				e.inline(s.p.ARN, "pull", doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`))
			},
			check:  func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) { e.must(e.svc.DeleteInlinePolicy(e.ctx, s.p.ARN, "pull")) },
			before: true,
		},
		{
			name:  "managed policy attached",
			setup: func(e *env, s *state) { e.repo(acctA, "app"); s.p = e.user(acctA, "dev", nil) },
			check: func(s *state) Check { return ecr(s.p, "ecr:PutImage", acctA, "app") },
			change: func(e *env, s *state) {
				e.must(e.svc.AttachPolicy(e.ctx, s.p.ARN, "AmazonEC2ContainerRegistryPowerUser"))
			},
		},
		{
			name:   "managed policy detached",
			setup:  func(e *env, s *state) { e.repo(acctA, "app"); s.p = e.user(acctA, "dev", nil, arnPowerUser) },
			check:  func(s *state) Check { return ecr(s.p, "ecr:PutImage", acctA, "app") },
			change: func(e *env, s *state) { e.must(e.svc.DetachPolicy(e.ctx, s.p.ARN, arnPowerUser)) },
			before: true,
		},
		{
			name: "customer managed policy replaced",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app")
				arn, err := e.svc.PutManagedPolicy(e.ctx, acctA, "Pull", "/", doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`), "")
				e.must(err)
				s.p = e.user(acctA, "dev", nil, arn)
			},
			check: func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) {
				_, err := e.svc.PutManagedPolicy(e.ctx, acctA, "Pull", "/", doc(`{"Effect":"Allow","Action":"ecr:ListImages","Resource":"*"}`), "")
				e.must(err)
			},
			before: true,
		},
		{
			name:  "repository policy set",
			setup: func(e *env, s *state) { e.repo(acctA, "app"); s.p = e.user(acctA, "dev", nil) },
			check: func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) {
				e.repoPolicy(acctA, "app", doc(`{"Effect":"Allow","Principal":{"AWS":"`+s.p.ARN+`"},"Action":"ecr:BatchGetImage"}`))
			},
		},
		{
			name: "repository policy deleted",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app")
				s.p = e.user(acctA, "dev", nil)
				e.repoPolicy(acctA, "app", doc(`{"Effect":"Allow","Principal":{"AWS":"`+s.p.ARN+`"},"Action":"ecr:BatchGetImage"}`))
			},
			check: func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) {
				_, err := e.st.DeletePolicy(e.ctx, metadata.PolicyRepository, acctA, "app")
				e.must(err)
			},
			before: true,
		},
		{
			name: "repository tags changed",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app", tags("env", "prod")...)
				s.p = e.user(acctA, "dev", nil)
				e.inline(s.p.ARN, "dev", doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/env":"dev"}}}`))
			},
			check: func(s *state) Check { return ecr(s.p, "ecr:PutImage", acctA, "app") },
			change: func(e *env, s *state) {
				_, err := e.st.UpdateRepository(e.ctx, acctA, "app", func(r *metadata.Repository) error {
					r.Tags = tags("env", "dev")
					return nil
				})
				e.must(err)
			},
		},
		{
			name: "principal tags changed",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app")
				s.p = e.user(acctA, "dev", tags("team", "web"))
				e.inline(s.p.ARN, "team", doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"platform"}}}`))
			},
			check:  func(s *state) Check { return ecr(s.p, "ecr:PutImage", acctA, "app") },
			change: func(e *env, s *state) { e.must(e.svc.SetPrincipalTags(e.ctx, s.p.ARN, tags("team", "platform"))) },
		},
		{
			name: "registry policy scope set to V1",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app")
				s.p = e.user(acctA, "carol", nil)
				e.registryPolicy(acctA, doc(`{"Effect":"Allow","Principal":{"AWS":"`+s.p.ARN+`"},"Action":"ecr:*","Resource":"*"}`))
			},
			check: func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) {
				e.must(e.st.PutSetting(e.ctx, acctA, ecrmodel.AccountSettingKey("REGISTRY_POLICY_SCOPE"), "V1"))
			},
			before: true,
		},
		{
			name:   "user deleted",
			setup:  func(e *env, s *state) { e.repo(acctA, "app"); s.p = e.user(acctA, "dev", nil, arnAdmin) },
			check:  func(s *state) Check { return ecr(s.p, "ecr:BatchGetImage", acctA, "app") },
			change: func(e *env, s *state) { e.must(e.svc.DeletePrincipal(e.ctx, s.p.ARN)) },
			before: true,
		},
		{
			name: "role deleted under its session",
			setup: func(e *env, s *state) {
				e.repo(acctA, "app")
				s.role = e.role(acctA, "builder", "", nil, arnPowerUser)
			},
			check:  func(s *state) Check { return ecr(session(s.role, "s"), "ecr:PutImage", acctA, "app") },
			change: func(e *env, s *state) { e.must(e.svc.DeletePrincipal(e.ctx, s.role.ARN)) },
			before: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.otherNode()
			s := &state{}
			tc.setup(e, s)
			c := tc.check(s)
			if got := e.allowed(c); got != tc.before {
				t.Fatalf("before the change: allowed %v, want %v", got, tc.before)
			}
			tc.change(e, s)
			// Within the interval the cached snapshot answers.
			for _, d := range []time.Duration{0, refresh / 2, refresh - time.Millisecond} {
				e.clk.Advance(d)
				if got := e.allowed(c); got != tc.before {
					t.Fatalf("%v into the interval: allowed %v, want the cached %v", d, got, tc.before)
				}
				e.clk.Advance(-d)
			}
			e.clk.Advance(refresh)
			if got := e.allowed(c); got == tc.before {
				t.Fatalf("after the refresh interval: allowed %v, want %v", got, !tc.before)
			}
		})
	}
}

// TestAuthorizeLocalChangeImmediate: a node's own writes invalidate its
// cache at once.
func TestAuthorizeLocalChangeImmediate(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	p := e.user(acctA, "dev", nil)
	c := ecr(p, "ecr:BatchGetImage", acctA, "app")
	if e.allowed(c) {
		t.Fatal("allowed before any policy")
	}
	e.inline(p.ARN, "pull", doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`))
	if !e.allowed(c) {
		t.Fatal("this node's own change is not visible at once")
	}
	e.must(e.svc.DeleteInlinePolicy(e.ctx, p.ARN, "pull"))
	if e.allowed(c) {
		t.Fatal("this node's own revocation is not visible at once")
	}
}

// TestAuthorizeCacheVersionChecksPaced: another node's change is seen at
// the next version check, once per interval.
func TestAuthorizeCacheVersionChecksPaced(t *testing.T) {
	e := newEnv(t)
	e.otherNode()
	e.repo(acctA, "app")
	p := e.user(acctA, "dev", nil)
	c := ecr(p, "ecr:BatchGetImage", acctA, "app")
	if e.allowed(c) {
		t.Fatal("allowed before any policy")
	}
	e.clk.Advance(refresh + 100*time.Millisecond) // version checked again here: unchanged
	if e.allowed(c) {
		t.Fatal("allowed before any policy")
	}
	e.inline(p.ARN, "pull", doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`))
	e.clk.Advance(refresh - 200*time.Millisecond)
	if e.allowed(c) {
		t.Fatal("change visible before the interval since the last check")
	}
	e.clk.Advance(200 * time.Millisecond)
	if !e.allowed(c) {
		t.Fatal("change not visible after the interval")
	}
}

// TestAuthorizeUnparsableStoredPolicy: a stored document that no longer
// parses denies everything it covers, administrators included.
func TestAuthorizeUnparsableStoredPolicy(t *testing.T) {
	const bad = `{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"ecr:*"`
	tests := []struct {
		name   string
		setup  func(e *env, admin auth.Principal)
		check  Check // with Principal filled in by the test
		denyIn string
		policy string
		// elsewhere is a check the bad document must not affect ("" action: none)
		elsewhere Check
	}{
		{
			name: "repository policy",
			setup: func(e *env, admin auth.Principal) {
				e.repo(acctA, "broken")
				e.repo(acctA, "fine")
				e.repoPolicy(acctA, "broken", bad)
			},
			check: ecr(auth.Principal{}, "ecr:BatchGetImage", acctA, "broken"), denyIn: policy.ResourceBased,
			policy:    "repository policy (unparsable)",
			elsewhere: ecr(auth.Principal{}, "ecr:BatchGetImage", acctA, "fine"),
		},
		{
			name: "registry policy",
			setup: func(e *env, admin auth.Principal) {
				e.repo(acctA, "app")
				e.registryPolicy(acctA, bad)
			},
			check: ecr(auth.Principal{}, "ecr:PutImage", acctA, "app"), denyIn: policy.ResourceBased,
			policy: "registry policy (unparsable)",
		},
		{
			name: "inline policy",
			setup: func(e *env, admin auth.Principal) {
				e.repo(acctA, "app")
				e.must(e.st.PutInlinePolicy(e.ctx, admin.ARN, "old", bad))
			},
			check: ecr(auth.Principal{}, "ecr:BatchGetImage", acctA, "app"), denyIn: policy.IdentityBased,
			policy: "inline policy old of arn:aws:iam::111111111111:user/admin (unparsable)",
		},
		{
			name: "customer managed policy",
			setup: func(e *env, admin auth.Principal) {
				e.repo(acctA, "app")
				arn := PolicyARN(acctA, "/", "Legacy")
				_, err := e.st.PutManagedPolicy(e.ctx, metadata.ManagedPolicy{ARN: arn, Account: acctA, Name: "Legacy", Path: "/", Document: bad})
				e.must(err)
				e.must(e.svc.AttachPolicy(e.ctx, admin.ARN, arn))
			},
			check: ecr(auth.Principal{}, "ecr:GetAuthorizationToken", acctA, ""), denyIn: policy.IdentityBased,
			policy: "arn:aws:iam::111111111111:policy/Legacy (unparsable)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			admin := e.user(acctA, "admin", nil, arnAdmin)
			tc.setup(e, admin)
			c := tc.check
			c.Principal = admin
			d, req := e.decide(c)
			if d.Allowed() || d.Effect != policy.ExplicitDeny || d.DenyIn != tc.denyIn {
				t.Fatalf("decision %+v, want an explicit deny in %s", d, tc.denyIn)
			}
			if want := msgExplicit(admin.ARN, c.Action, c.Resource, tc.denyIn); d.Message(req) != want {
				t.Errorf("message\n got %q\nwant %q", d.Message(req), want)
			}
			if d.Policy != tc.policy {
				t.Errorf("deciding policy %q, want %q", d.Policy, tc.policy)
			}
			if tc.elsewhere.Action != "" {
				o := tc.elsewhere
				o.Principal = admin
				if !e.allowed(o) {
					t.Errorf("%s on %s denied: the bad document reached beyond its repository", o.Action, o.Resource)
				}
			}
		})
	}
}

// TestAuthorizeNotEnforced: Enforce=false allows the own account (even
// against a deny) and denies others.
func TestAuthorizeNotEnforced(t *testing.T) {
	e := newEnv(t)
	e.authz.Enforce = false
	e.repo(acctA, "app")
	e.repoPolicy(acctA, "app", doc(`{"Effect":"Deny","Principal":"*","Action":"*"}`))
	u := e.user(acctA, "nobody", nil)
	ext := e.user(acctB, "ext", nil, arnAdmin)
	svc := auth.Principal{Type: auth.TypeService, ARN: "codebuild.amazonaws.com", Account: acctA}
	tests := []struct {
		name  string
		c     Check
		allow bool
	}{
		{"own account, no policy, explicit deny stored", ecr(u, "ecr:DeleteRepository", acctA, "app"), true},
		{"own account, registry-level", ecr(u, "ecr:GetAuthorizationToken", "", ""), true},
		{"other account, even an administrator", ecr(ext, "ecr:BatchGetImage", acctA, "app"), false},
		{"service principal", ecr(svc, "ecr:BatchGetImage", acctA, "app"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, req := e.decide(tc.c)
			if d.Allowed() != tc.allow {
				t.Fatalf("Allowed() = %v, want %v", d.Allowed(), tc.allow)
			}
			if !tc.allow {
				want := msgNoPolicy(tc.c.Principal.ARN, tc.c.Action, tc.c.Resource, policy.ResourceBased)
				if got := d.Message(req); got != want {
					t.Errorf("message\n got %q\nwant %q", got, want)
				}
			}
		})
	}
}

// TestAuthorizeAudit: one event per decision, describing it.
func TestAuthorizeAudit(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	e.repo(acctA, "locked")
	e.repoPolicy(acctA, "locked", doc(`{"Sid":"Lock","Effect":"Deny","Principal":"*","Action":"ecr:PutImage"}`))
	dev := e.user(acctA, "dev", nil)
	e.inline(dev.ARN, "push", doc(
		`{"Sid":"Push","Effect":"Allow","Action":["ecr:PutImage","ecr:BatchGetImage"],"Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}`,
		`{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}`))
	r := e.role(acctA, "builder", "", nil)
	sess := session(r, "job-7")
	inlineName := "inline policy push of " + dev.ARN

	tests := []struct {
		name                               string
		c                                  Check
		decision, code, message, pol, stmt string
	}{
		{name: "allow by a statement with a Sid", c: ecr(dev, "ecr:PutImage", acctA, "app"),
			decision: "Allow", pol: inlineName, stmt: "Push"},
		{name: "allow by a statement without a Sid", c: ecr(dev, "ecr:GetAuthorizationToken", acctA, ""),
			decision: "Allow", pol: inlineName, stmt: "#1"},
		{name: "explicit deny", c: ecr(dev, "ecr:PutImage", acctA, "locked"),
			decision: "Deny", code: "AccessDenied", pol: "repository policy", stmt: "Lock",
			message: msgExplicit(dev.ARN, "ecr:PutImage", repoARN(acctA, "locked"), policy.ResourceBased)},
		{name: "implicit deny", c: ecr(dev, "ecr:DeleteRepository", acctA, "app"),
			decision: "Deny", code: "AccessDenied",
			message: msgNoPolicy(dev.ARN, "ecr:DeleteRepository", repoARN(acctA, "app"), policy.IdentityBased)},
		{name: "session", c: ecr(sess, "ecr:BatchGetImage", acctA, "app"),
			decision: "Deny", code: "AccessDenied",
			message: msgNoPolicy(sess.ARN, "ecr:BatchGetImage", repoARN(acctA, "app"), policy.IdentityBased)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.audit.reset()
			c := tc.c
			c.HTTP = httpReq("198.51.100.9:40000", true)
			c.Source, c.Event, c.RequestID = "ecr.amazonaws.com", "PutImage", "req-1"
			e.decide(c)
			evs := e.audit.all()
			if len(evs) != 1 {
				t.Fatalf("%d audit events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Decision != tc.decision || ev.ErrorCode != tc.code || ev.ErrorMessage != tc.message ||
				ev.DecidingPolicy != tc.pol || ev.DecidingStatement != tc.stmt {
				t.Errorf("event decision=%q code=%q message=%q policy=%q statement=%q\nwant decision=%q code=%q message=%q policy=%q statement=%q",
					ev.Decision, ev.ErrorCode, ev.ErrorMessage, ev.DecidingPolicy, ev.DecidingStatement,
					tc.decision, tc.code, tc.message, tc.pol, tc.stmt)
			}
			if ev.EventSource != "ecr.amazonaws.com" || ev.EventName != "PutImage" || ev.RequestID != "req-1" ||
				ev.AWSRegion != region || ev.Action != c.Action || !ev.EventTime.Equal(e.clk.Now()) {
				t.Errorf("event header %+v", ev)
			}
			if ev.SourceIPAddress != "198.51.100.9" || ev.UserAgent != "aws-cli/2.0 test" {
				t.Errorf("source %q, user agent %q", ev.SourceIPAddress, ev.UserAgent)
			}
			id := ev.UserIdentity
			if id.ARN != c.Principal.ARN || id.AccountID != acctA || id.Type != string(c.Principal.Kind()) ||
				id.PrincipalID != c.Principal.UserID || id.UserName != c.Principal.Username || id.SessionIssuer != c.Principal.RoleARN ||
				id.AccessKeyID != c.Principal.AccessKeyID {
				t.Errorf("user identity %+v for %+v", id, c.Principal)
			}
			if c.Resource == "*" {
				if ev.Resources != nil {
					t.Errorf("resources %+v for a registry-level action, want none", ev.Resources)
				}
			} else if len(ev.Resources) != 1 || ev.Resources[0].ARN != c.Resource || ev.Resources[0].AccountID != acctA {
				t.Errorf("resources %+v", ev.Resources)
			}
		})
	}

	t.Run("store failure", func(t *testing.T) {
		e := newEnv(t)
		p := e.user(acctA, "dev", nil, arnAdmin)
		e.st.Close()
		d, _, err := e.authz.Authorize(e.ctx, ecr(p, "ecr:BatchGetImage", acctA, "app"))
		if err == nil || d.Allowed() {
			t.Fatalf("decision %+v, error %v: want a denial with an error", d, err)
		}
		evs := e.audit.all()
		if len(evs) != 1 || evs[0].Decision != "Deny" || evs[0].ErrorCode != "InternalFailure" {
			t.Fatalf("events %+v, want one Deny InternalFailure", evs)
		}
	})
}

// TestAPIAuthorizer: the ECR API's edge.
func TestAPIAuthorizer(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	pu := e.user(acctA, "pu", nil, arnPowerUser)
	a := APIAuthorizer{Authz: e.authz}
	// What the ECR API adds to each of its targets.
	fromReq := func(q ecrmodel.Authz) ecrmodel.Authz {
		q.Principal, q.Event, q.RequestID, q.HTTP = pu, "DeleteRepository", "rid-9", httpReq("10.0.0.1:1", true)
		return q
	}

	tests := []struct {
		name    string
		q       ecrmodel.Authz
		wantErr string // "" : allowed
	}{
		{"allowed", ecrmodel.Authz{Action: "ecr:PutImage", Resource: repoARN(acctA, "app"), Registry: acctA, Repository: "app"}, ""},
		{"denied", ecrmodel.Authz{Action: "ecr:DeleteRepository", Resource: repoARN(acctA, "app"), Registry: acctA, Repository: "app"},
			msgNoPolicy(pu.ARN, "ecr:DeleteRepository", repoARN(acctA, "app"), policy.IdentityBased)},
		{"registry-level allowed", ecrmodel.Authz{Action: "ecr:GetAuthorizationToken", Resource: "*", Registry: acctA}, ""},
		{"cross account", ecrmodel.Authz{Action: "ecr:BatchGetImage", Resource: repoARN(acctB, "x"), Registry: acctB, Repository: "x"},
			msgNoPolicy(pu.ARN, "ecr:BatchGetImage", repoARN(acctB, "x"), policy.ResourceBased)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.audit.reset()
			err := a.Authorize(e.ctx, fromReq(tc.q))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
			} else {
				var de *ecrmodel.DeniedError
				if !errors.As(err, &de) || de.Message != tc.wantErr {
					t.Fatalf("error %#v, want a denial %q", err, tc.wantErr)
				}
			}
			evs := e.audit.all()
			if len(evs) != 1 || evs[0].EventSource != "ecr.amazonaws.com" || evs[0].EventName != "DeleteRepository" || evs[0].RequestID != "rid-9" {
				t.Errorf("audit %+v", evs)
			}
		})
	}

	t.Run("condition keys passed through", func(t *testing.T) {
		u := e.user(acctA, "tagger", nil)
		e.inline(u.ARN, "tag", doc(`{"Effect":"Allow","Action":"ecr:TagResource","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/env":"dev"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`,
			`{"Effect":"Allow","Action":"ecr:GetAccountSetting","Resource":"*","Condition":{"StringEquals":{"ecr:AccountSetting":"BLOB_MOUNTING"}}}`))
		e.clk.Advance(refresh)
		q := ecrmodel.Authz{Principal: u, Event: "TagResource", HTTP: httpReq("10.9.9.9:1", true),
			Action: "ecr:TagResource", Resource: repoARN(acctA, "app"), Registry: acctA, Repository: "app", RequestTags: tags("env", "dev")}
		if err := a.Authorize(e.ctx, q); err != nil {
			t.Errorf("TagResource env=dev: %v", err)
		}
		q.RequestTags = tags("env", "prod")
		if err := a.Authorize(e.ctx, q); err == nil {
			t.Error("TagResource env=prod allowed")
		}
		q = ecrmodel.Authz{Principal: u, Event: "GetAccountSetting", HTTP: q.HTTP,
			Action: "ecr:GetAccountSetting", Resource: "*", Registry: acctA, Keys: map[string]string{"ecr:AccountSetting": "BLOB_MOUNTING"}}
		if err := a.Authorize(e.ctx, q); err != nil {
			t.Errorf("GetAccountSetting BLOB_MOUNTING: %v", err)
		}
	})

	t.Run("store failure is not a denial", func(t *testing.T) {
		e := newEnv(t)
		p := e.user(acctA, "dev", nil, arnAdmin)
		e.st.Close()
		err := APIAuthorizer{Authz: e.authz}.Authorize(e.ctx,
			ecrmodel.Authz{Principal: p, Action: "ecr:ListImages", Resource: repoARN(acctA, "x"), Registry: acctA, Repository: "x"})
		var de *ecrmodel.DeniedError
		if err == nil || errors.As(err, &de) {
			t.Fatalf("error %v, want a failure to decide, not a denial", err)
		}
	})
}

// TestRegistryAuthorizer: the /v2 gate's edge.
func TestRegistryAuthorizer(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	e.repo(acctA, "base")
	e.repo(acctA, "secret")
	pusher := e.user(acctA, "pusher", nil)
	e.inline(pusher.ARN, "push", doc(
		`{"Effect":"Allow","Action":["ecr:InitiateLayerUpload","ecr:PutImage","ecr:BatchGetImage"],"Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}`,
		`{"Effect":"Allow","Action":"ecr:GetDownloadUrlForLayer","Resource":"arn:aws:ecr:us-east-1:111111111111:repository/base"}`))
	ro := e.user(acctA, "ro", nil, arnReadOnly)
	nobody := e.user(acctA, "nobody", nil)
	ra := RegistryAuthorizer{Authz: e.authz, Region: region}

	tests := []struct {
		name    string
		p       auth.Principal
		acc     ecrmodel.Access
		method  string
		wantMsg string // "" : allowed
	}{
		{"version check needs no permission", nobody, ecrmodel.Access{Route: "base"}, http.MethodGet, ""},
		{"pull allowed", ro, ecrmodel.Access{Action: "ecr:BatchGetImage", Repo: "app", Route: "manifest"}, http.MethodGet, ""},
		{"push denied", ro, ecrmodel.Access{Action: "ecr:PutImage", Repo: "app", Route: "manifest", Push: true}, http.MethodPut,
			msgNoPolicy(ro.ARN, "ecr:PutImage", repoARN(acctA, "app"), policy.IdentityBased)},
		{"catalog maps to repository/*", nobody, ecrmodel.Access{Action: "ecr:DescribeRepositories", Route: "catalog"}, http.MethodGet,
			msgNoPolicy(nobody.ARN, "ecr:DescribeRepositories", repoARN(acctA, "*"), policy.IdentityBased)},
		{"catalog allowed", ro, ecrmodel.Access{Action: "ecr:DescribeRepositories", Route: "catalog"}, http.MethodGet, ""},
		{"mount from a readable source", pusher, ecrmodel.Access{Action: "ecr:InitiateLayerUpload", Repo: "app", MountFrom: "base", Route: "blob-upload", Push: true}, http.MethodPost, ""},
		{"mount from an unreadable source", pusher, ecrmodel.Access{Action: "ecr:InitiateLayerUpload", Repo: "app", MountFrom: "secret", Route: "blob-upload", Push: true}, http.MethodPost,
			msgNoPolicy(pusher.ARN, "ecr:GetDownloadUrlForLayer", repoARN(acctA, "secret"), policy.IdentityBased)},
		{"mount target checked first", ro, ecrmodel.Access{Action: "ecr:InitiateLayerUpload", Repo: "app", MountFrom: "base", Route: "blob-upload", Push: true}, http.MethodPost,
			msgNoPolicy(ro.ARN, "ecr:InitiateLayerUpload", repoARN(acctA, "app"), policy.IdentityBased)},
		{"upload without mount", pusher, ecrmodel.Access{Action: "ecr:InitiateLayerUpload", Repo: "secret", Route: "blob-upload", Push: true}, http.MethodPost, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.audit.reset()
			r := httpReq("10.0.0.5:999", true)
			r.Method = tc.method
			err := ra.AuthorizeRegistry(e.ctx, tc.p, acctA, tc.acc, r)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			var de *ecrmodel.DeniedError
			if !errors.As(err, &de) || de.Message != tc.wantMsg {
				t.Fatalf("error %#v, want DeniedError %q", err, tc.wantMsg)
			}
		})
	}

	t.Run("audit names the route", func(t *testing.T) {
		e.audit.reset()
		r := httpReq("10.0.0.5:999", true)
		r.Method = http.MethodPost
		_ = ra.AuthorizeRegistry(e.ctx, pusher, acctA, ecrmodel.Access{Action: "ecr:InitiateLayerUpload", Repo: "app", MountFrom: "base", Route: "blob-upload"}, r)
		evs := e.audit.all()
		if len(evs) != 2 {
			t.Fatalf("%d events for a mount, want 2 (target and source)", len(evs))
		}
		for i, want := range []string{"ecr:InitiateLayerUpload", "ecr:GetDownloadUrlForLayer"} {
			if evs[i].Action != want || evs[i].EventSource != "registry" || evs[i].EventName != "POST blob-upload" {
				t.Errorf("event %d: %+v", i, evs[i])
			}
		}
		if !strings.HasSuffix(evs[1].Resources[0].ARN, ":repository/base") {
			t.Errorf("mount source event resource %+v", evs[1].Resources)
		}
	})

	t.Run("cross account pull needs the repository policy", func(t *testing.T) {
		ext := e.user(acctB, "ext", nil, arnReadOnly)
		r := httpReq("10.0.0.5:999", true)
		acc := ecrmodel.Access{Action: "ecr:BatchGetImage", Repo: "app", Route: "manifest"}
		err := ra.AuthorizeRegistry(e.ctx, ext, acctA, acc, r)
		var de *ecrmodel.DeniedError
		if !errors.As(err, &de) || de.Message != msgNoPolicy(ext.ARN, "ecr:BatchGetImage", repoARN(acctA, "app"), policy.ResourceBased) {
			t.Fatalf("error %v", err)
		}
		e.repoPolicy(acctA, "app", doc(`{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"}`))
		e.clk.Advance(refresh)
		if err := ra.AuthorizeRegistry(e.ctx, ext, acctA, acc, r); err != nil {
			t.Fatalf("after the repository policy: %v", err)
		}
	})
}

// TestAuthorizeConcurrent: decisions from many goroutines while policies
// change and the clock moves (run with -race).
func TestAuthorizeConcurrent(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	users := make([]auth.Principal, 4)
	for i := range users {
		users[i] = e.user(acctA, "u"+string(rune('a'+i)), nil, arnReadOnly)
	}
	done := make(chan struct{})
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		go func(g int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 50; i++ {
				p := users[(g+i)%len(users)]
				d, _, err := e.authz.Authorize(e.ctx, ecr(p, "ecr:BatchGetImage", acctA, "app"))
				if err != nil || !d.Allowed() {
					errs <- errors.New("pull denied: " + d.Message(policy.Request{}))
					return
				}
			}
		}(g)
	}
	for i := 0; i < 20; i++ {
		e.must(e.svc.PutInlinePolicy(e.ctx, users[i%len(users)].ARN, "p", doc(`{"Effect":"Allow","Action":"ecr:ListImages","Resource":"*"}`)))
		e.clk.Advance(refresh)
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(e.audit.all()); n != 8*50 {
		t.Errorf("%d audit events, want %d", n, 8*50)
	}
}
