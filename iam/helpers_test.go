package iam

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berth-registry/berth/audit"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// Accounts and region every test uses: A owns the registry under test, B
// is "another account".
const (
	acctA  = "111111111111"
	acctB  = "222222222222"
	region = "us-east-1"
)

// The AWS managed policies the tests attach, by ARN.
const (
	arnPowerUser = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	arnReadOnly  = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	arnTaskExec  = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
	arnAdmin     = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// refresh is the Authorizer's version check interval in tests.
const refresh = time.Second

// clock is a controllable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// sink collects audit events.
type sink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (s *sink) Record(e audit.Event) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
}

func (s *sink) all() []audit.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]audit.Event(nil), s.events...)
}

func (s *sink) reset() {
	s.mu.Lock()
	s.events = nil
	s.mu.Unlock()
}

// env is one test's world: a fresh SQLite store with accounts A and B,
// the Service, an enforcing Authorizer with a controllable clock and an
// audit sink, Roles, and a KeyLookup on the same store.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    metadata.Store
	kr    *crypt.Keyring
	clk   *clock
	svc   *Service
	authz *Authorizer
	roles *Roles
	audit *sink
	keys  *auth.KeyLookup
	path  string // the SQLite file
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	st, err := metadata.Open(ctx, "sqlite", path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	clk := newClock()
	kr := crypt.NewMemoryKeyring()
	e := &env{t: t, ctx: ctx, st: st, kr: kr, clk: clk, audit: &sink{}, path: path}
	e.svc = &Service{Store: st, Keyring: kr, Now: clk.Now}
	e.authz = &Authorizer{Store: st, Region: region, Enforce: true, Audit: e.audit, Refresh: refresh, Now: clk.Now}
	e.roles = &Roles{Service: e.svc, Authz: e.authz}
	e.keys = &auth.KeyLookup{Store: st, Keyring: kr, Now: clk.Now}
	for _, a := range []string{acctA, acctB} {
		if _, err := e.svc.EnsureAccount(ctx, a, "account "+a); err != nil {
			t.Fatalf("EnsureAccount %s: %v", a, err)
		}
	}
	return e
}

// otherNode makes e's Authorizer read through a second handle on the same
// database, as another berth node would: e's writes then reach it only
// through the authorization version, checked once per interval.
func (e *env) otherNode() {
	e.t.Helper()
	st, err := metadata.Open(e.ctx, "sqlite", e.path)
	if err != nil {
		e.t.Fatalf("open a second store: %v", err)
	}
	e.t.Cleanup(func() { st.Close() })
	e.authz = &Authorizer{Store: st, Region: region, Enforce: true, Audit: e.audit, Refresh: refresh, Now: e.clk.Now}
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// user creates user name in acct with tags, attaches the policies (AWS
// managed names or ARNs) and returns it as an authenticated principal.
func (e *env) user(acct, name string, tags []metadata.ResourceTag, policies ...string) auth.Principal {
	e.t.Helper()
	u, err := e.svc.CreateUser(e.ctx, acct, name, "/", tags)
	e.must(err)
	for _, p := range policies {
		e.must(e.svc.AttachPolicy(e.ctx, u.ARN, p))
	}
	return userPrincipal(u)
}

func userPrincipal(u metadata.Principal) auth.Principal {
	return auth.Principal{Type: auth.TypeUser, ARN: u.ARN, Account: u.Account, AccessKeyID: "AKIATESTTESTTESTTEST",
		UserID: u.ID, Username: u.Name}
}

// role creates role name in acct (trust "" means one naming the account).
func (e *env) role(acct, name, trust string, tags []metadata.ResourceTag, policies ...string) metadata.Principal {
	e.t.Helper()
	if trust == "" {
		trust = trustDoc(`{"AWS":"arn:aws:iam::`+acct+`:root"}`, `"sts:AssumeRole"`, "")
	}
	r, err := e.svc.CreateRole(e.ctx, acct, name, "/", trust, 0, tags)
	e.must(err)
	for _, p := range policies {
		e.must(e.svc.AttachPolicy(e.ctx, r.ARN, p))
	}
	return r
}

// session is a principal of a session of role without a stored session.
func session(r metadata.Principal, name string) auth.Principal {
	return auth.Principal{Type: auth.TypeAssumedRole, ARN: auth.SessionARN(r.Account, r.Name, name), Account: r.Account,
		AccessKeyID: "ASIATESTTESTTESTTEST", UserID: r.ID + ":" + name, RoleARN: r.ARN, SessionName: name}
}

// assume runs AssumeRole for caller and returns the session as KeyLookup
// resolves it.
func (e *env) assume(caller auth.Principal, in AssumeRoleInput) (AssumeRoleOutput, auth.Principal) {
	e.t.Helper()
	out, err := e.roles.AssumeRole(e.ctx, caller, in, nil)
	if err != nil {
		e.t.Fatalf("AssumeRole %s: %v", in.RoleArn, err)
	}
	cred, err := (&auth.KeyLookup{Store: e.st, Keyring: e.kr, Now: e.clk.Now}).Lookup(e.ctx, out.AccessKeyID)
	if err != nil {
		e.t.Fatalf("Lookup %s: %v", out.AccessKeyID, err)
	}
	return out, cred.Principal
}

func (e *env) inline(arn, name, doc string) {
	e.t.Helper()
	e.must(e.svc.PutInlinePolicy(e.ctx, arn, name, doc))
}

func (e *env) repo(acct, name string, tags ...metadata.ResourceTag) {
	e.t.Helper()
	_, err := e.st.CreateRepository(e.ctx, metadata.Repository{RegistryID: acct, Name: name, Tags: tags})
	e.must(err)
}

func (e *env) repoPolicy(acct, name, doc string) {
	e.t.Helper()
	_, err := e.st.PutPolicy(e.ctx, metadata.PolicyRepository, acct, name, doc)
	e.must(err)
}

func (e *env) registryPolicy(acct, doc string) {
	e.t.Helper()
	_, err := e.st.PutPolicy(e.ctx, metadata.PolicyRegistry, acct, "", doc)
	e.must(err)
}

// decide runs the Authorizer and fails on an error.
func (e *env) decide(c Check) (policy.Decision, policy.Request) {
	e.t.Helper()
	d, req, err := e.authz.Authorize(e.ctx, c)
	if err != nil {
		e.t.Fatalf("Authorize %s on %s: %v", c.Action, c.Resource, err)
	}
	return d, req
}

// allowed reports the decision on c.
func (e *env) allowed(c Check) bool {
	e.t.Helper()
	d, _ := e.decide(c)
	return d.Allowed()
}

func repoARN(acct, name string) string {
	return "arn:aws:ecr:" + region + ":" + acct + ":repository/" + name
}

// ecr is a Check of action on repository repo of registry acct ("" repo:
// a registry-level action on "*").
func ecr(p auth.Principal, action, acct, repo string) Check {
	c := Check{Principal: p, Action: action, Registry: acct, Resource: "*", Source: "ecr.amazonaws.com", Event: "Op"}
	if repo != "" {
		c.Resource, c.Repository = repoARN(acct, repo), repo
	}
	return c
}

// doc wraps statements in an identity/resource policy document.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// trustDoc is a trust policy allowing principal (a JSON Principal value)
// actions (a JSON Action value) with an optional Condition value.
func trustDoc(principal, actions, condition string) string {
	st := `{"Effect":"Allow","Principal":` + principal + `,"Action":` + actions
	if condition != "" {
		st += `,"Condition":` + condition
	}
	return doc(st + "}")
}

// AWS's denial texts.
func msgNoPolicy(arn, action, resource, kind string) string {
	return "User: " + arn + " is not authorized to perform: " + action + " on resource: " + resource +
		" because no " + kind + " policy allows the " + action + " action"
}

// msgBrief is STS's denial: no reason given, as AWS's STS answers.
func msgBrief(arn, action, resource string) string {
	return "User: " + arn + " is not authorized to perform: " + action + " on resource: " + resource
}

func msgExplicit(arn, action, resource, kind string) string {
	article := "a"
	if kind == policy.IdentityBased {
		article = "an"
	}
	return "User: " + arn + " is not authorized to perform: " + action + " on resource: " + resource +
		" with an explicit deny in " + article + " " + kind + " policy"
}

// httpReq is a request from addr, over TLS when tls.
func httpReq(addr string, tls bool) *http.Request {
	target := "http://berth.example/"
	if tls {
		target = "https://berth.example/"
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = addr
	r.Header.Set("User-Agent", "aws-cli/2.0 test")
	return r
}

// kindOf asserts err is this package's *Error of kind k.
func wantKind(t *testing.T, err error, k Kind) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *iam.Error of kind %s", err, err, k.Code())
	}
	if e.Kind != k {
		t.Fatalf("error %v: kind %s, want %s", err, e.Kind.Code(), k.Code())
	}
}

// wantSTS asserts err is an *Error whose kind STS words as code (and
// whose message is msg, if not "").
func wantSTS(t *testing.T, err error, code, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *iam.Error %s", err, err, code)
	}
	if e.Kind.Code() != code {
		t.Fatalf("error code %s (%q), want %s", e.Kind.Code(), e.Message, code)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("error message\n got %q\nwant %q", e.Message, msg)
	}
}

func tags(kv ...string) []metadata.ResourceTag {
	if len(kv)%2 != 0 {
		panic(fmt.Sprintf("tags: odd arguments %v", kv))
	}
	var out []metadata.ResourceTag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, metadata.ResourceTag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

// stsIn is an AssumeRole input for roleARN and session name.
func stsIn(roleARN, name string, t []SessionTag) AssumeRoleInput {
	return AssumeRoleInput{RoleArn: roleARN, RoleSessionName: name, Tags: t}
}

func sessTags(kv ...string) []SessionTag {
	var out []SessionTag
	for _, t := range tags(kv...) {
		out = append(out, SessionTag{Key: t.Key, Value: t.Value})
	}
	return out
}
