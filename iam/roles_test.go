package iam

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/metadata"
)

const (
	msgMaxSession = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
	msgChained    = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
)

// serviceCaller makes a service key for service in acct and returns the
// principal KeyLookup resolves it to.
func (e *env) serviceCaller(acct, service string) auth.Principal {
	e.t.Helper()
	id, _, err := e.svc.CreateServiceKey(e.ctx, acct, service)
	e.must(err)
	cred, err := e.keys.Lookup(e.ctx, id)
	e.must(err)
	if cred.Principal.Type != auth.TypeService || cred.Principal.ARN != service || cred.Principal.Account != acct {
		e.t.Fatalf("service key resolves to %+v", cred.Principal)
	}
	return cred.Principal
}

func (e *env) roleMax(acct, name, trust string, maxSession int) metadata.Principal {
	e.t.Helper()
	r, err := e.svc.CreateRole(e.ctx, acct, name, "/", trust, maxSession, nil)
	e.must(err)
	return r
}

func aws(arn string) string { return `{"AWS":"` + arn + `"}` }

const assume = `"sts:AssumeRole"`

func TestAssumeRole(t *testing.T) {
	roleA := func(name string) string { return RoleARN(acctA, "/", name) }
	allowAssume := func(resource string) string {
		return doc(`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + resource + `"}`)
	}
	tests := []struct {
		name  string
		setup func(e *env) (auth.Principal, AssumeRoleInput)
		// code is the sts error code ("" : success); msg, when set, the
		// exact message, given the caller and the input.
		code string
		msg  func(caller auth.Principal, in AssumeRoleInput) string
		// dur is the session length a success must have (0: one hour).
		dur time.Duration
		// undecided: refused before any policy is evaluated (no audit)
		undecided bool
	}{
		{name: "trust names the user: no identity policy needed", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "builder", trustDoc(aws(u.ARN), assume, ""), nil)
			return u, stsIn(roleA("builder"), "s1", nil)
		}},
		{name: "trust names the account: identity allow needed", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.role(acctA, "builder", trustDoc(aws("arn:aws:iam::111111111111:root"), assume, ""), nil)
				return u, stsIn(roleA("builder"), "s1", nil)
			}},
		{name: "trust names the account, identity allows", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.inline(u.ARN, "assume", allowAssume(roleA("builder")))
			e.role(acctA, "builder", trustDoc(aws("111111111111"), assume, ""), nil)
			return u, stsIn(roleA("builder"), "s1", nil)
		}},
		{name: "trust names the account, identity allows another role", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.inline(u.ARN, "assume", allowAssume(roleA("other")))
				e.role(acctA, "builder", "", nil)
				return u, stsIn(roleA("builder"), "s1", nil)
			}},
		{name: "trust names another user", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil, arnAdmin)
				e.role(acctA, "builder", trustDoc(aws(UserARN(acctA, "/", "bob")), assume, ""), nil)
				return u, stsIn(roleA("builder"), "s1", nil)
			}},
		{name: "identity deny beats the trust", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.inline(u.ARN, "no", doc(`{"Effect":"Deny","Action":"sts:*","Resource":"*"}`))
				e.role(acctA, "builder", trustDoc(aws(u.ARN), assume, ""), nil)
				return u, stsIn(roleA("builder"), "s1", nil)
			}},
		{name: "trust names the service: service key", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			e.role(acctA, "codebuild-role", trustDoc(`{"Service":"codebuild.amazonaws.com"}`, assume, ""), nil)
			return e.serviceCaller(acctA, "codebuild.amazonaws.com"), stsIn(roleA("codebuild-role"), "AWSCodeBuild-1", nil)
		}},
		{name: "trust names another service", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief("codebuild.amazonaws.com", "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				e.role(acctA, "ecs-role", trustDoc(`{"Service":"ecs-tasks.amazonaws.com"}`, assume, ""), nil)
				return e.serviceCaller(acctA, "codebuild.amazonaws.com"), stsIn(roleA("ecs-role"), "s", nil)
			}},
		{name: "service key of another account", code: "AccessDenied", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			// A service key acts in its account: "the account whose roles it
			// may assume" (auth.Principal.Account).
			e.role(acctA, "codebuild-role", trustDoc(`{"Service":"codebuild.amazonaws.com"}`, assume, ""), nil)
			return e.serviceCaller(acctB, "codebuild.amazonaws.com"), stsIn(roleA("codebuild-role"), "AWSCodeBuild-1", nil)
		}},
		{name: "cross account: trust names the user, no identity allow", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctB, "ext", nil)
				e.role(acctA, "deploy", trustDoc(aws(u.ARN), assume, ""), nil)
				return u, stsIn(roleA("deploy"), "s", nil)
			}},
		{name: "cross account: trust names the user, identity allows", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctB, "ext", nil)
			e.inline(u.ARN, "assume", allowAssume("arn:aws:iam::111111111111:role/*"))
			e.role(acctA, "deploy", trustDoc(aws(u.ARN), assume, ""), nil)
			return u, stsIn(roleA("deploy"), "s", nil)
		}},
		{name: "cross account: trust names the account, identity allows", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctB, "ext", nil, arnAdmin)
			e.role(acctA, "deploy", trustDoc(aws("arn:aws:iam::222222222222:root"), assume, ""), nil)
			return u, stsIn(roleA("deploy"), "s", nil)
		}},
		{name: "cross account: trust names only its own account", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctB, "ext", nil, arnAdmin)
				e.role(acctA, "deploy", "", nil)
				return u, stsIn(roleA("deploy"), "s", nil)
			}},
		{name: "missing role: denied like a forbidden one", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				// What "trust names another user" answers for an existing role.
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil, arnAdmin)
				return u, stsIn(roleA("ghost"), "s1", nil)
			}},
		{name: "role ARN naming a user", code: "ValidationError", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil, arnAdmin)
			return u, stsIn(u.ARN, "s1", nil)
		}},
		{name: "role ARN malformed", code: "ValidationError", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			return e.user(acctA, "alice", nil, arnAdmin), stsIn("arn:aws:iam::12:role/x", "s1", nil)
		}},
		{name: "role stored without a trust policy is not assumable", code: "AccessDenied",
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "admin", nil, arnAdmin)
				_, err := e.st.CreatePrincipal(e.ctx, metadata.Principal{ARN: roleA("legacy"), Account: acctA, Kind: metadata.KindRole,
					Name: "legacy", Path: "/", ID: "AROALEGACYLEGACYLEG", MaxSessionSeconds: 3600})
				e.must(err)
				return u, stsIn(roleA("legacy"), "s1", nil)
			}},
		{name: "role whose stored trust policy no longer parses", code: "AccessDenied",
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "admin", nil, arnAdmin)
				r := e.role(acctA, "legacy", trustDoc(aws(u.ARN), assume, ""), nil)
				_, err := e.st.UpdatePrincipal(e.ctx, r.ARN, func(p *metadata.Principal) error {
					p.TrustPolicy = `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + u.ARN + `"},"Action":"sts:AssumeRole"`
					return nil
				})
				e.must(err)
				return u, stsIn(r.ARN, "s1", nil)
			}},

		// Conditions.
		{name: "sts:ExternalId matches", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "vendor", trustDoc(aws(u.ARN), assume, `{"StringEquals":{"sts:ExternalId":"ext-123"}}`), nil)
			in := stsIn(roleA("vendor"), "s1", nil)
			in.ExternalId = "ext-123"
			return u, in
		}},
		{name: "sts:ExternalId differs", code: "AccessDenied", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "vendor", trustDoc(aws(u.ARN), assume, `{"StringEquals":{"sts:ExternalId":"ext-123"}}`), nil)
			in := stsIn(roleA("vendor"), "s1", nil)
			in.ExternalId = "ext-999"
			return u, in
		}},
		{name: "sts:ExternalId missing", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:AssumeRole", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.role(acctA, "vendor", trustDoc(aws(u.ARN), assume, `{"StringEquals":{"sts:ExternalId":"ext-123"}}`), nil)
				return u, stsIn(roleA("vendor"), "s1", nil)
			}},
		{name: "sts:RoleSessionName matches", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, `{"StringLike":{"sts:RoleSessionName":"ci-*"}}`), nil)
			return u, stsIn(roleA("ci"), "ci-42", nil)
		}},
		{name: "sts:RoleSessionName differs", code: "AccessDenied", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, `{"StringLike":{"sts:RoleSessionName":"ci-*"}}`), nil)
			return u, stsIn(roleA("ci"), "dev-42", nil)
		}},
		{name: "sts:RoleSessionName must be the caller's username", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, `{"StringEquals":{"sts:RoleSessionName":"${aws:username}"}}`), nil)
			return u, stsIn(roleA("ci"), "alice", nil)
		}},

		// Session tags.
		{name: "session tags need sts:TagSession", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:TagSession", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
				return u, stsIn(roleA("ci"), "s1", sessTags("team", "platform"))
			}},
		{name: "session tags with sts:TagSession", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), `["sts:AssumeRole","sts:TagSession"]`, ""), nil)
			return u, stsIn(roleA("ci"), "s1", sessTags("team", "platform"))
		}},
		{name: "sts:TagSession conditioned on the tag value: allowed", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			trust := doc(`{"Effect":"Allow","Principal":`+aws(u.ARN)+`,"Action":"sts:AssumeRole"}`,
				`{"Effect":"Allow","Principal":`+aws(u.ARN)+`,"Action":"sts:TagSession","Condition":{"StringEquals":{"aws:RequestTag/team":"platform"}}}`)
			e.role(acctA, "ci", trust, nil)
			return u, stsIn(roleA("ci"), "s1", sessTags("team", "platform"))
		}},
		{name: "sts:TagSession conditioned on the tag value: refused", code: "AccessDenied",
			msg: func(c auth.Principal, in AssumeRoleInput) string {
				return msgBrief(c.ARN, "sts:TagSession", in.RoleArn)
			},
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				trust := doc(`{"Effect":"Allow","Principal":`+aws(u.ARN)+`,"Action":"sts:AssumeRole"}`,
					`{"Effect":"Allow","Principal":`+aws(u.ARN)+`,"Action":"sts:TagSession","Condition":{"StringEquals":{"aws:RequestTag/team":"platform"}}}`)
				e.role(acctA, "ci", trust, nil)
				return u, stsIn(roleA("ci"), "s1", sessTags("team", "web"))
			}},
		{name: "no tags: sts:TagSession not needed", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
			return u, stsIn(roleA("ci"), "s1", nil)
		}},

		// Durations.
		{name: "duration at the role's maximum", dur: 2 * time.Hour, setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.roleMax(acctA, "long", trustDoc(aws(u.ARN), assume, ""), 7200)
			in := stsIn(roleA("long"), "s1", nil)
			in.DurationSeconds = 7200
			return u, in
		}},
		{name: "duration above the role's maximum", code: "ValidationError", msg: func(auth.Principal, AssumeRoleInput) string { return msgMaxSession },
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.roleMax(acctA, "long", trustDoc(aws(u.ARN), assume, ""), 7200)
				in := stsIn(roleA("long"), "s1", nil)
				in.DurationSeconds = 7201
				return u, in
			}},
		{name: "duration above the default maximum", code: "ValidationError", msg: func(auth.Principal, AssumeRoleInput) string { return msgMaxSession },
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				u := e.user(acctA, "alice", nil)
				e.role(acctA, "short", trustDoc(aws(u.ARN), assume, ""), nil)
				in := stsIn(roleA("short"), "s1", nil)
				in.DurationSeconds = 3601
				return u, in
			}},
		{name: "shorter duration", dur: 15 * time.Minute, setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "short", trustDoc(aws(u.ARN), assume, ""), nil)
			in := stsIn(roleA("short"), "s1", nil)
			in.DurationSeconds = 900
			return u, in
		}},
		{name: "role chaining: explicit duration above one hour", code: "ValidationError",
			msg: func(auth.Principal, AssumeRoleInput) string { return msgChained },
			setup: func(e *env) (auth.Principal, AssumeRoleInput) {
				first := e.role(acctA, "first", "", nil)
				e.roleMax(acctA, "second", trustDoc(aws(first.ARN), assume, ""), 43200)
				in := stsIn(roleA("second"), "s2", nil)
				in.DurationSeconds = 3601
				return session(first, "s1"), in
			}},
		{name: "role chaining: explicit one hour", dur: time.Hour, setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			first := e.role(acctA, "first", "", nil)
			e.roleMax(acctA, "second", trustDoc(aws(first.ARN), assume, ""), 43200)
			in := stsIn(roleA("second"), "s2", nil)
			in.DurationSeconds = 3600
			return session(first, "s1"), in
		}},
		{name: "role chaining: default duration", dur: time.Hour, setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			first := e.role(acctA, "first", "", nil)
			e.roleMax(acctA, "second", trustDoc(aws(first.ARN), assume, ""), 43200)
			return session(first, "s1"), stsIn(roleA("second"), "s2", nil)
		}},
		{name: "user may take the role's maximum", dur: 12 * time.Hour, setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.roleMax(acctA, "second", trustDoc(aws(u.ARN), assume, ""), 43200)
			in := stsIn(roleA("second"), "s2", nil)
			in.DurationSeconds = 43200
			return u, in
		}},

		// Session policies are accepted (TestSessionPolicies: what they do).
		{name: "session policy", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
			in := stsIn(roleA("ci"), "s1", nil)
			in.Policy = doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`)
			return u, in
		}},
		{name: "session policy ARNs", setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
			in := stsIn(roleA("ci"), "s1", nil)
			in.PolicyArns = []string{arnReadOnly}
			return u, in
		}},
		{name: "MFA", code: "AccessDenied", undecided: true, setup: func(e *env) (auth.Principal, AssumeRoleInput) {
			u := e.user(acctA, "alice", nil)
			e.role(acctA, "ci", trustDoc(aws(u.ARN), assume, ""), nil)
			in := stsIn(roleA("ci"), "s1", nil)
			in.SerialNumber, in.TokenCode = "arn:aws:iam::111111111111:mfa/alice", "123456"
			return u, in
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			caller, in := tc.setup(e)
			out, err := e.roles.AssumeRole(e.ctx, caller, in, httpReq("10.0.0.1:1000", true))
			if tc.code != "" {
				msg := ""
				if tc.msg != nil {
					msg = tc.msg(caller, in)
				}
				wantSTS(t, err, tc.code, msg)
				if tc.code == "AccessDenied" && !tc.undecided {
					// The audit record tells what the caller was told.
					evs := e.audit.all()
					if len(evs) == 0 || evs[len(evs)-1].Decision != "Deny" || evs[len(evs)-1].ErrorMessage != err.(*Error).Message {
						t.Errorf("last audit event %+v", evs)
					}
				}
				if out.AccessKeyID != "" || out.SecretAccessKey != "" {
					t.Errorf("credentials returned with an error: %v", out)
				}
				return
			}
			if err != nil {
				t.Fatalf("AssumeRole: %v", err)
			}
			dur := tc.dur
			if dur == 0 {
				dur = time.Hour
			}
			checkSession(t, e, in, out, caller, dur)
		})
	}
}

// checkSession verifies AssumeRole's output and that the session it
// stored is usable through KeyLookup.
func checkSession(t *testing.T, e *env, in AssumeRoleInput, out AssumeRoleOutput, caller auth.Principal, dur time.Duration) {
	t.Helper()
	role, err := e.st.GetPrincipal(e.ctx, in.RoleArn)
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:sts::" + role.Account + ":assumed-role/" + role.Name + "/" + in.RoleSessionName
	if out.AssumedRoleARN != wantARN || out.AssumedRoleID != role.ID+":"+in.RoleSessionName ||
		!strings.HasPrefix(role.ID, "AROA") {
		t.Errorf("assumed role %q id %q, want %q %q", out.AssumedRoleARN, out.AssumedRoleID, wantARN, role.ID+":"+in.RoleSessionName)
	}
	if !strings.HasPrefix(out.AccessKeyID, "ASIA") || len(out.AccessKeyID) != 20 || len(out.SecretAccessKey) != 40 || out.SessionToken == "" {
		t.Errorf("credentials %q / %d-char secret / %d-char token", out.AccessKeyID, len(out.SecretAccessKey), len(out.SessionToken))
	}
	if want := e.clk.Now().Add(dur).Truncate(time.Second); !out.Expiration.Equal(want) {
		t.Errorf("expiration %v, want %v", out.Expiration, want)
	}
	cred, err := (&auth.KeyLookup{Store: e.st, Keyring: e.kr, Now: e.clk.Now}).Lookup(e.ctx, out.AccessKeyID)
	if err != nil {
		t.Fatalf("Lookup of the session key: %v", err)
	}
	if cred.Secret != out.SecretAccessKey || cred.SessionToken != out.SessionToken || !cred.Expires.Equal(out.Expiration) {
		t.Errorf("looked-up credential does not match the output (expires %v vs %v)", cred.Expires, out.Expiration)
	}
	p := cred.Principal
	want := auth.Principal{Type: auth.TypeAssumedRole, ARN: wantARN, Account: role.Account, AccessKeyID: out.AccessKeyID,
		UserID: role.ID + ":" + in.RoleSessionName, RoleARN: role.ARN, SessionName: in.RoleSessionName}
	if p != want {
		t.Errorf("session principal\n got %+v\nwant %+v", p, want)
	}
	ss, err := e.st.GetSession(e.ctx, out.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if ss.SourceARN != caller.ARN || ss.RoleARN != role.ARN || ss.SessionName != in.RoleSessionName {
		t.Errorf("stored session %+v", ss)
	}
	if len(ss.Tags) != len(in.Tags) {
		t.Errorf("stored session tags %v, want %v", ss.Tags, in.Tags)
	}
	for i := range in.Tags {
		if i < len(ss.Tags) && (ss.Tags[i].Key != in.Tags[i].Key || ss.Tags[i].Value != in.Tags[i].Value) {
			t.Errorf("stored session tag %d: %v, want %v", i, ss.Tags[i], in.Tags[i])
		}
	}
}

// TestAssumeRoleMissingIndistinguishable: the answer for a role that does
// not exist is the answer for one that exists but does not trust the
// caller, whatever the caller's policies.
func TestAssumeRoleMissingIndistinguishable(t *testing.T) {
	for _, policies := range [][]string{nil, {arnAdmin}} {
		e := newEnv(t)
		u := e.user(acctA, "alice", nil, policies...)
		e.role(acctA, "exists", trustDoc(aws(UserARN(acctA, "/", "bob")), assume, ""), nil)
		_, err1 := e.roles.AssumeRole(e.ctx, u, stsIn(RoleARN(acctA, "/", "exists"), "s", nil), nil)
		_, err2 := e.roles.AssumeRole(e.ctx, u, stsIn(RoleARN(acctA, "/", "absent"), "s", nil), nil)
		var s1, s2 *Error
		if !errors.As(err1, &s1) || !errors.As(err2, &s2) {
			t.Fatalf("errors %v / %v", err1, err2)
		}
		m1 := strings.ReplaceAll(s1.Message, "role/exists", "role/X")
		m2 := strings.ReplaceAll(s2.Message, "role/absent", "role/X")
		if s1.Kind != s2.Kind || m1 != m2 {
			t.Errorf("policies %v: existing role: %s %q\n                 missing role:  %s %q", policies, s1.Kind.Code(), s1.Message, s2.Kind.Code(), s2.Message)
		}
	}
}

// TestAssumeRoleAudit: one record per decision, the TagSession check
// included.
func TestAssumeRoleAudit(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	r := e.role(acctA, "ci", trustDoc(aws(u.ARN), `["sts:AssumeRole","sts:TagSession"]`, ""), nil)
	e.assume(u, stsIn(r.ARN, "s1", sessTags("team", "x")))
	evs := e.audit.all()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	for i, want := range []string{"sts:AssumeRole", "sts:TagSession"} {
		ev := evs[i]
		if ev.Action != want || ev.Decision != "Allow" || ev.EventSource != "sts.amazonaws.com" ||
			ev.DecidingPolicy != "trust policy of "+r.ARN || len(ev.Resources) != 1 || ev.Resources[0].ARN != r.ARN {
			t.Errorf("event %d: %+v", i, ev)
		}
	}
}

// TestSessionTagsReachAuthorizer: tags passed to AssumeRole are the
// session's aws:PrincipalTag.
func TestSessionTagsReachAuthorizer(t *testing.T) {
	e := newEnv(t)
	e.repo(acctA, "app")
	u := e.user(acctA, "alice", nil)
	r := e.role(acctA, "ci", trustDoc(aws(u.ARN), `["sts:AssumeRole","sts:TagSession"]`, ""), nil)
	e.inline(r.ARN, "tagged", doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"ecr:ResourceTag/project":"${aws:PrincipalTag/project}"}}}`))
	_, err := e.st.UpdateRepository(e.ctx, acctA, "app", func(rp *metadata.Repository) error { rp.Tags = tags("project", "atlas"); return nil })
	e.must(err)
	_, atlas := e.assume(u, stsIn(r.ARN, "atlas", sessTags("project", "atlas")))
	_, zeus := e.assume(u, stsIn(r.ARN, "zeus", sessTags("project", "zeus")))
	if !e.allowed(ecr(atlas, "ecr:PutImage", acctA, "app")) {
		t.Error("session tagged project=atlas denied on the atlas repository")
	}
	if e.allowed(ecr(zeus, "ecr:PutImage", acctA, "app")) {
		t.Error("session tagged project=zeus allowed on the atlas repository")
	}
}

func TestRevokeAndPruneSessions(t *testing.T) {
	e := newEnv(t)
	u := e.user(acctA, "alice", nil)
	trust := trustDoc(aws(u.ARN), assume, "")
	ci := e.role(acctA, "ci", trust, nil)
	other := e.role(acctA, "other", trust, nil)
	lookup := func(id string) error {
		_, err := (&auth.KeyLookup{Store: e.st, Keyring: e.kr, Now: e.clk.Now}).Lookup(e.ctx, id)
		return err
	}

	t.Run("revoke one role", func(t *testing.T) {
		o1, _ := e.assume(u, stsIn(ci.ARN, "a", nil))
		o2, _ := e.assume(u, stsIn(ci.ARN, "b", nil))
		o3, _ := e.assume(u, stsIn(other.ARN, "c", nil))
		n, err := e.svc.RevokeSessions(e.ctx, ci.ARN)
		if err != nil || n != 2 {
			t.Fatalf("RevokeSessions = %d, %v; want 2", n, err)
		}
		for _, id := range []string{o1.AccessKeyID, o2.AccessKeyID} {
			var ae *auth.Error
			if err := lookup(id); !errors.As(err, &ae) || ae.Kind != auth.UnknownKey {
				t.Errorf("revoked session %s: lookup error %v, want UnknownKey", id, err)
			}
		}
		if err := lookup(o3.AccessKeyID); err != nil {
			t.Errorf("session of another role: %v", err)
		}
		n, err = e.svc.RevokeSessions(e.ctx, "")
		if err != nil || n != 1 {
			t.Fatalf("RevokeSessions(all) = %d, %v; want 1", n, err)
		}
		if err := lookup(o3.AccessKeyID); err == nil {
			t.Error("session still usable after revoking all")
		}
	})

	t.Run("prune keeps recently expired", func(t *testing.T) {
		old, _ := e.assume(u, stsIn(ci.ARN, "old", nil)) // expires start+1h
		e.clk.Advance(2 * time.Hour)
		recent, _ := e.assume(u, stsIn(ci.ARN, "recent", nil)) // expires start+3h
		e.clk.Advance(90 * time.Minute)                        // now start+3h30m
		live, _ := e.assume(u, stsIn(ci.ARN, "live", nil))     // expires start+4h30m
		// retention 1h: drops what expired before start+2h30m ("old").
		n, err := e.svc.PruneSessions(e.ctx, time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("PruneSessions = %d, %v; want 1", n, err)
		}
		if _, err := e.st.GetSession(e.ctx, old.AccessKeyID); !metadata.Is(err, metadata.NotFound) {
			t.Errorf("session expired 2h30m ago kept: %v", err)
		}
		for _, id := range []string{recent.AccessKeyID, live.AccessKeyID} {
			if _, err := e.st.GetSession(e.ctx, id); err != nil {
				t.Errorf("session %s: %v", id, err)
			}
		}
		// retention 0: drops what has expired ("recent").
		n, err = e.svc.PruneSessions(e.ctx, 0)
		if err != nil || n != 1 {
			t.Fatalf("PruneSessions(0) = %d, %v; want 1", n, err)
		}
		if _, err := e.st.GetSession(e.ctx, live.AccessKeyID); err != nil {
			t.Errorf("live session pruned: %v", err)
		}
	})
}
