package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/oidc/oidctest"
	"github.com/berth-registry/berth/auth/token"
	"github.com/berth-registry/berth/iamapi"
	"github.com/berth-registry/berth/internal/testenv"
)

// The authorization matrix: every /v2 route and every ECR API operation
// berth registers, asked by eight kinds of caller. Only the last column may
// get past authorization (and must); every other cell must be refused in
// the words ECR uses for that refusal.

const (
	mxOtherAccount = "111111111111"
	mxOpen         = "mx/open"    // no repository policy; the allowed principal's identity policy covers it
	mxGuarded      = "mx/guarded" // its repository policy denies mx-resdeny everything
)

// mxCol is a column: who asks.
type mxCol int

const (
	mxColNone    mxCol = iota // no credentials at all
	mxColBadSig               // a wrong SigV4 secret / a login token with a tampered signature
	mxColExpired              // SigV4 dated 20 minutes ago / an expired login token
	mxColRevoked              // the key (and so its token) deactivated
	mxColOther                // account 111111111111, ecr:* on * at home, not named by account A
	mxColNoID                 // may only call GetAuthorizationToken
	mxColResDeny              // ecr:* on mx/*, but mx/guarded's policy denies it by ARN
	mxColAllowed              // ecr:* on mx/* and the registry-level actions on *
	mxNumCols
)

var mxColNames = [mxNumCols]string{"nocreds", "badsig", "expired", "revoked", "otheracct", "deny-id", "deny-res", "allowed"}

// Outcomes of a cell.
const (
	mxAllow       = "allow"       // past authorization (2xx, or an answer only an authorized caller gets)
	mxDeny        = "deny"        // AccessDeniedException / 403 DENIED naming the policy
	mxAuth        = "auth"        // refused for its credentials (SigV4 exceptions, 401 challenge, expired token)
	mxUnsupported = "unsupported" // 405 UNSUPPORTED after authorization (/v2 DELETE is off, as on ECR)
	mxNA          = "n/a"
	mxError       = "error" // 5xx or no answer
)

// mxLevel is what a row's resource is.
type mxLevel int

const (
	mxRepo     mxLevel = iota // one repository of account A
	mxRegistry                // Resource "*": the caller's own registry
	mxAllRepos                // repository/*: every repository of the registry
	mxBase                    // GET /v2/: a valid login token is all it needs
)

// mxImage is an image pushed in setup.
type mxImage struct {
	manifest []byte
	digest   string
	layer    []byte
	layerDg  string
}

// mxCred is how a column signs API calls and authenticates /v2 requests.
type mxCred struct {
	arn           string
	keyID, secret string
	signAt        time.Time // zero: now
	basic         string    // Authorization header for /v2 ("" none)
}

type mxResult struct {
	want, got string
	ok        bool
	note      string
}

// mxEnv is the matrix's shared state.
type mxEnv struct {
	b      *testenv.Berth
	hc     *http.Client
	suffix string
	realm  string // the Basic realm of the challenge
	images map[string]mxImage
	// Upload ids (API) and locations (/v2) made in setup by allowed
	// principals, for the columns that must be refused on them.
	apiUpload map[string]string
	v2Upload  map[string]string
	part      []byte // what uploads carry
	cred      [mxNumCols]mxCred
	// The allowed column runs in order and chains uploads through these.
	chainUploadID, chainLocation string
	// iamKey is the access key id the IAM key rows name: the allowed
	// column's (made by its CreateAccessKey row) under true, mx-keep's
	// under false.
	iamKey map[bool]string
	web    mxWebIdentity

	mu  sync.Mutex
	res map[string]*[mxNumCols]mxResult
}

// mxReq is a /v2 request.
type mxReq struct {
	method, path string
	body         []byte
	hdr          []string
}

// mxRow is a row: one ECR operation or one /v2 route.
type mxRow struct {
	name   string
	op     string // ECR API operation ("" for /v2 rows)
	action string // the IAM action ECR checks
	level  mxLevel
	// idAllowed: the denied-by-identity principal's one permission covers it.
	idAllowed bool
	// noResource: no existing repository's policy can take part (the
	// repository is created by the call).
	noResource bool
	// unsupported: the allowed column answers 405 UNSUPPORTED (/v2 DELETE).
	unsupported bool
	// ownRegistry: the operation has no registryId member, so another
	// account's call acts on its own registry.
	ownRegistry bool
	// allowedRepo is the repository the allowed column acts on (default
	// mx/open); the denied-by-resource column acts on mx/guarded, the rest
	// on mx/open.
	allowedRepo string
	repo        func(e *mxEnv, c mxCol) string
	body        func(e *mxEnv, c mxCol, repo string) map[string]any // API rows
	req         func(e *mxEnv, c mxCol, repo string) mxReq          // /v2 rows
	// denyAt overrides the action and repository a denial names.
	denyAt func(c mxCol, repo string) (action, denied string)
	// check verifies what the allowed column got.
	check func(e *mxEnv, r response) error
	// query makes the row an IAM or STS Query API call
	// (authz_matrix_iam_test.go).
	query *mxQuery
}

func mxARN(repo string) string { return "arn:aws:ecr:us-east-1:" + account + ":repository/" + repo }

// mxDenial is AWS's message for a denial in column c.
func mxDenial(c mxCol, principal, action, resource string) string {
	head := "User: " + principal + " is not authorized to perform: " + action + " on resource: " + resource
	switch c {
	case mxColResDeny:
		return head + " with an explicit deny in a resource-based policy"
	case mxColOther:
		return head + " because no resource-based policy allows the " + action + " action"
	}
	return head + " because no identity-based policy allows the " + action + " action"
}

const (
	mxLifecyclePolicy = `{"rules":[{"rulePriority":1,"description":"authorization matrix: expire untagged images after 1000 days","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":1000},"action":{"type":"expire"}}]}`
	// mxHarmlessPolicy denies an account nobody here belongs to.
	mxHarmlessPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"MxNobody","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"ecr:*"}]}`
	mxGuardedPolicy  = `{"Version":"2012-10-17","Statement":[{"Sid":"MxDenyResdeny","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:user/mx-resdeny"},"Action":"ecr:*"}]}`
	mxRegistryPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"MxReplicate","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":["ecr:ReplicateImage"],"Resource":["arn:aws:ecr:us-east-1:000000000000:repository/*"]}]}`
)

// mxRegistryActions are the actions the allowed principal has on "*".
var mxRegistryActions = []string{
	"ecr:GetAuthorizationToken", "ecr:DescribeRegistry", "ecr:PutReplicationConfiguration",
	"ecr:GetRegistryScanningConfiguration", "ecr:PutRegistryScanningConfiguration",
	"ecr:GetAccountSetting", "ecr:PutAccountSetting",
	"ecr:PutRegistryPolicy", "ecr:GetRegistryPolicy", "ecr:DeleteRegistryPolicy",
	"ecr:CreateRepositoryCreationTemplate", "ecr:DescribeRepositoryCreationTemplates",
	"ecr:UpdateRepositoryCreationTemplate", "ecr:DeleteRepositoryCreationTemplate",
	"ecr:CreatePullThroughCacheRule", "ecr:DescribePullThroughCacheRules", "ecr:UpdatePullThroughCacheRule",
	"ecr:ValidatePullThroughCacheRule", "ecr:DeletePullThroughCacheRule",
	// Listing every repository (DescribeRepositories without names, the
	// catalog) is on repository/*, which repository/mx/* does not cover.
	"ecr:DescribeRepositories",
}

func mxPolicyDoc(stmts ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return string(b)
}

// mxIdentityFile is the `berth iam apply` file of the principals.
func mxIdentityFile() []byte {
	full := mxPolicyDoc(
		map[string]any{"Sid": "Repositories", "Effect": "Allow", "Action": "ecr:*", "Resource": mxARN("mx/*")},
		map[string]any{"Sid": "Registry", "Effect": "Allow", "Action": mxRegistryActions, "Resource": "*"},
	)
	login := mxPolicyDoc(map[string]any{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
	// mx-allowed may also manage IAM; mx-other may manage IAM at home, so
	// its refusals on account A's IAM entities are not for want of iam:*.
	allowed := mxPolicyDoc(
		map[string]any{"Sid": "Repositories", "Effect": "Allow", "Action": "ecr:*", "Resource": mxARN("mx/*")},
		map[string]any{"Sid": "Registry", "Effect": "Allow", "Action": mxRegistryActions, "Resource": "*"},
		map[string]any{"Sid": "IAM", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
	)
	everything := mxPolicyDoc(map[string]any{"Effect": "Allow", "Action": []string{"ecr:*", "iam:*"}, "Resource": "*"})
	user := func(name, doc string) map[string]any {
		return map[string]any{"name": name, "inline": map[string]string{"mx": doc}}
	}
	f := map[string]any{"accounts": []any{
		map[string]any{"id": account, "users": []any{
			user("mx-allowed", allowed), user("mx-resdeny", full), user("mx-revoked", full), user("mx-noid", login),
		}},
		map[string]any{"id": mxOtherAccount, "name": "matrix-other", "users": []any{user("mx-other", everything)}},
	}}
	b, _ := json.Marshal(f) // JSON is YAML
	return b
}

// ---- requests -------------------------------------------------------------

// api sends one ECR API call as column c.
func (e *mxEnv) api(ctx context.Context, c mxCol, op string, body []byte) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.b.URL+"/", bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921."+op)
	if cr := e.cred[c]; cr.keyID != "" {
		at := cr.signAt
		if at.IsZero() {
			at = time.Now()
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: cr.keyID, SecretAccessKey: cr.secret}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ecr", "us-east-1", at); err != nil {
			return response{}, err
		}
	}
	return e.do(req)
}

// v2 sends one registry request as column c.
func (e *mxEnv) v2(ctx context.Context, c mxCol, q mxReq) (response, error) {
	u, err := url.Parse(e.b.URL)
	if err != nil {
		return response{}, err
	}
	ref, err := url.Parse(q.path)
	if err != nil {
		return response{}, err
	}
	req, err := http.NewRequestWithContext(ctx, q.method, u.ResolveReference(ref).String(), bytes.NewReader(q.body))
	if err != nil {
		return response{}, err
	}
	if q.body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for i := 0; i+1 < len(q.hdr); i += 2 {
		req.Header.Set(q.hdr[i], q.hdr[i+1])
	}
	if a := e.cred[c].basic; a != "" {
		req.Header.Set("Authorization", a)
	}
	return e.do(req)
}

func (e *mxEnv) do(req *http.Request) (response, error) {
	resp, err := e.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// mxAPIError is the exception name and message of an API answer.
func mxAPIError(r response) (code, msg string) {
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(r.body, &e)
	code = e.Type
	if h := r.header.Get("X-Amzn-ErrorType"); h != "" {
		code = h
	}
	if i := strings.LastIndex(code, "#"); i >= 0 {
		code = code[i+1:]
	}
	code, _, _ = strings.Cut(code, ":")
	return code, e.Message
}

// mxRegistryError is the first error of a registry error body.
func mxRegistryError(r response) (code, msg string) {
	var e struct {
		Errors []struct{ Code, Message string }
	}
	if json.Unmarshal(r.body, &e) != nil || len(e.Errors) == 0 {
		return "", ""
	}
	return e.Errors[0].Code, e.Errors[0].Message
}

// mxTamper changes one character inside a login token's signature.
func mxTamper(token string) string {
	i := strings.LastIndex(token, ".") + 10
	c := "A"
	if token[i] == 'A' {
		c = "B"
	}
	return token[:i] + c + token[i+1:]
}

// mxLogin calls GetAuthorizationToken with a key and returns the login
// token and its expiry.
func mxLogin(ctx context.Context, b *testenv.Berth, id, secret string) (string, time.Time, error) {
	out, err := b.ECRWith(id, secret, "").GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return "", time.Time{}, err
	}
	if len(out.AuthorizationData) != 1 {
		return "", time.Time{}, fmt.Errorf("%d authorizationData entries", len(out.AuthorizationData))
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		return "", time.Time{}, err
	}
	_, pw, _ := strings.Cut(string(raw), ":")
	return pw, aws.ToTime(out.AuthorizationData[0].ExpiresAt), nil
}

// ---- expectations and one cell ----------------------------------------------

func (e *mxEnv) colRepo(r *mxRow, c mxCol) string {
	if r.repo != nil {
		return r.repo(e, c)
	}
	switch c {
	case mxColAllowed:
		if r.allowedRepo != "" {
			return r.allowedRepo
		}
	case mxColResDeny:
		return mxGuarded
	}
	return mxOpen
}

func mxExpect(r *mxRow, c mxCol) string {
	if r.query != nil {
		return mxQueryExpect(r.query, c)
	}
	switch c {
	case mxColNone, mxColBadSig, mxColExpired, mxColRevoked:
		return mxAuth
	case mxColAllowed:
		if r.unsupported {
			return mxUnsupported
		}
		return mxAllow
	case mxColOther:
		switch {
		case r.level == mxRegistry || r.ownRegistry:
			return mxNA // acts on its own account's registry
		case r.level == mxBase:
			return mxAllow
		}
		return mxDeny
	case mxColNoID:
		if r.idAllowed || r.level == mxBase {
			return mxAllow
		}
		return mxDeny
	case mxColResDeny:
		if r.level != mxRepo || r.noResource {
			return mxNA
		}
		return mxDeny
	}
	return mxNA
}

// denial is the message a denial of row r in column c must carry.
func (e *mxEnv) denial(r *mxRow, c mxCol, repo string) string {
	action := r.action
	if r.denyAt != nil {
		action, repo = r.denyAt(c, repo)
	}
	resource := mxARN(repo)
	switch r.level {
	case mxRegistry:
		resource = "*"
	case mxAllRepos:
		resource = mxARN("*")
	}
	return mxDenial(c, e.cred[c].arn, action, resource)
}

// cell asks row r as column c and records the outcome.
func (e *mxEnv) cell(ctx context.Context, t *testing.T, r *mxRow, c mxCol) {
	t.Helper()
	want := mxExpect(r, c)
	res := mxResult{want: want, got: mxNA, ok: true}
	if want != mxNA {
		repo := e.colRepo(r, c)
		var problems []string
		switch {
		case r.query != nil:
			res.got, res.note, problems = e.queryCell(ctx, r, c, want)
		case r.op != "":
			res.got, res.note, problems = e.apiCell(ctx, r, c, repo, want)
		default:
			res.got, res.note, problems = e.v2Cell(ctx, r, c, repo, want)
		}
		if res.got != want {
			problems = append([]string{fmt.Sprintf("want %s, got %s", want, res.got)}, problems...)
		}
		if len(problems) > 0 {
			res.ok = false
			t.Errorf("%s as %s (repository %s): %s", r.name, mxColNames[c], repo, strings.Join(problems, "; "))
		}
	}
	e.mu.Lock()
	if e.res[r.name] == nil {
		e.res[r.name] = &[mxNumCols]mxResult{}
	}
	e.res[r.name][c] = res
	e.mu.Unlock()
}

func (e *mxEnv) apiCell(ctx context.Context, r *mxRow, c mxCol, repo, want string) (got, note string, problems []string) {
	body := r.body(e, c, repo)
	if c == mxColOther {
		body["registryId"] = account // A's registry, not its own
	}
	raw, _ := json.Marshal(body)
	resp, err := e.api(ctx, c, r.op, raw)
	if err != nil {
		return mxError, "", []string{err.Error()}
	}
	code, msg := mxAPIError(resp)
	switch {
	case resp.status >= 500:
		return mxError, code, []string{fmt.Sprintf("server error %d %s %q", resp.status, code, msg)}
	case resp.status == http.StatusOK:
		got = mxAllow
	case code == "AccessDeniedException":
		got = mxDeny
	case slices.Contains([]string{"MissingAuthenticationTokenException", "InvalidSignatureException", "UnrecognizedClientException",
		"IncompleteSignatureException", "ExpiredTokenException"}, code):
		got = mxAuth
	default:
		// An answer past authorization: validation or state.
		got, note = mxAllow, code
	}
	switch {
	case got == mxDeny && want == mxDeny:
		if w := e.denial(r, c, repo); msg != w {
			problems = append(problems, fmt.Sprintf("AccessDeniedException message\n   %q\nwant %q", msg, w))
		}
		if resp.status != http.StatusBadRequest && resp.status != http.StatusForbidden {
			problems = append(problems, fmt.Sprintf("AccessDeniedException with status %d", resp.status))
		}
	case got == mxAuth && want == mxAuth:
		type authWant struct {
			status      int
			code, match string
			prefix      bool
		}
		w := map[mxCol]authWant{
			mxColNone:    {http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token", false},
			mxColBadSig:  {http.StatusBadRequest, "InvalidSignatureException", msgBadSig, true},
			mxColExpired: {http.StatusBadRequest, "InvalidSignatureException", "Signature expired: ", true},
			mxColRevoked: {http.StatusBadRequest, "UnrecognizedClientException", msgUnknownKey, false},
		}[c]
		okMsg := msg == w.match || (w.prefix && strings.HasPrefix(msg, w.match))
		if resp.status != w.status || code != w.code || !okMsg {
			problems = append(problems, fmt.Sprintf("got %d %s %q, want %d %s %q", resp.status, code, msg, w.status, w.code, w.match))
		}
	case got == mxAllow && want == mxAllow:
		if resp.status != http.StatusOK {
			problems = append(problems, fmt.Sprintf("allowed, but answered %d %s %q (the matrix builds valid requests)", resp.status, code, msg))
		} else if c == mxColAllowed && r.check != nil {
			if err := r.check(e, resp); err != nil {
				problems = append(problems, "allowed, but the answer is wrong: "+err.Error())
			}
		}
	default:
		problems = append(problems, fmt.Sprintf("answer %d %s %q", resp.status, code, tail(msg, 300)))
	}
	return got, note, problems
}

func (e *mxEnv) v2Cell(ctx context.Context, r *mxRow, c mxCol, repo, want string) (got, note string, problems []string) {
	q := r.req(e, c, repo)
	resp, err := e.v2(ctx, c, q)
	if err != nil {
		return mxError, "", []string{err.Error()}
	}
	head := q.method == http.MethodHead
	code, msg := mxRegistryError(resp)
	switch {
	case resp.status >= 500:
		return mxError, code, []string{fmt.Sprintf("server error: %s", resp)}
	case resp.status == http.StatusUnauthorized:
		got = mxAuth
	case resp.status == http.StatusForbidden && (msg == msgExpired || (head && c == mxColExpired)):
		// A HEAD answer has no body: its 403 cannot say why.
		got = mxAuth
	case resp.status == http.StatusForbidden:
		got = mxDeny
	case resp.status == http.StatusMethodNotAllowed && (code == "UNSUPPORTED" || head):
		got = mxUnsupported
	default:
		got = mxAllow
	}
	if got != want {
		return got, note, []string{fmt.Sprintf("%s %s: %s", q.method, q.path, resp)}
	}
	if resp.header.Get("Docker-Distribution-Api-Version") != "registry/2.0" && got != mxAllow {
		problems = append(problems, "no Docker-Distribution-Api-Version: registry/2.0")
	}
	switch got {
	case mxDeny:
		if !head {
			if w := e.denial(r, c, repo); code != "DENIED" || msg != w {
				problems = append(problems, fmt.Sprintf("got %s %q\n   want DENIED %q", code, msg, w))
			}
			if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				problems = append(problems, "denial with Content-Type "+ct)
			}
		}
	case mxAuth:
		if c == mxColExpired {
			if resp.status != http.StatusForbidden || (!head && (code != "DENIED" || msg != msgExpired)) {
				problems = append(problems, fmt.Sprintf("want 403 DENIED %q, got %s", msgExpired, resp))
			}
			if h := resp.header.Get("Www-Authenticate"); h != "" {
				problems = append(problems, "an expired token gets a challenge: "+h)
			}
			break
		}
		if w := `Basic realm="` + e.realm + `/",service="ecr.amazonaws.com"`; resp.header.Get("Www-Authenticate") != w {
			problems = append(problems, fmt.Sprintf("Www-Authenticate %q, want %q", resp.header.Get("Www-Authenticate"), w))
		}
		if !head && string(resp.body) != "Not Authorized\n" {
			problems = append(problems, fmt.Sprintf("challenge body %q", resp.body))
		}
	case mxUnsupported:
		note = "405 UNSUPPORTED"
	case mxAllow:
		if c == mxColAllowed && r.check != nil {
			if err := r.check(e, resp); err != nil {
				problems = append(problems, "allowed, but the answer is wrong: "+err.Error())
			}
		} else if resp.status >= 300 {
			problems = append(problems, fmt.Sprintf("allowed, but answered %s", resp))
		}
	}
	return got, note, problems
}

// ---- rows -------------------------------------------------------------------

func mxWant(cond bool, format string, a ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, a...)
}

// mxJSON decodes an answer.
func mxJSON(r response, v any) error {
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("body is not JSON: %v: %s", err, tail(string(r.body), 300))
	}
	return nil
}

func mxStatus(r response, status int) error {
	return mxWant(r.status == status, "status %d, want %d: %s", r.status, status, r)
}

// mxAPIRows are the ECR API operations, in the order the allowed column
// runs them (later rows use what earlier ones made).
func mxAPIRows() []*mxRow {
	repoBody := func(e *mxEnv, c mxCol, repo string) map[string]any { return map[string]any{"repositoryName": repo} }
	none := func(e *mxEnv, c mxCol, repo string) map[string]any { return map[string]any{} }
	arnBody := func(extra map[string]any) func(e *mxEnv, c mxCol, repo string) map[string]any {
		return func(e *mxEnv, c mxCol, repo string) map[string]any {
			m := map[string]any{"resourceArn": mxARN(repo)}
			for k, v := range extra {
				m[k] = v
			}
			return m
		}
	}
	with := func(extra func(e *mxEnv, c mxCol, repo string) map[string]any) func(e *mxEnv, c mxCol, repo string) map[string]any {
		return func(e *mxEnv, c mxCol, repo string) map[string]any {
			m := extra(e, c, repo)
			m["repositoryName"] = repo
			return m
		}
	}
	ok200 := func(e *mxEnv, r response) error { return mxStatus(r, http.StatusOK) }
	template := func(e *mxEnv) string { return "mx/tpl-" + e.suffix }
	// uploadID is the allowed column's chained upload, else the one made
	// in setup for the column's repository.
	uploadID := func(e *mxEnv, c mxCol, repo string) string {
		if c == mxColAllowed {
			return e.chainUploadID
		}
		return e.apiUpload[repo]
	}
	rows := []*mxRow{
		{name: "CreateRepository", noResource: true,
			repo: func(e *mxEnv, c mxCol) string { return "mx/new-" + mxColNames[c] + "-" + e.suffix },
			body: repoBody,
			check: func(e *mxEnv, r response) error {
				var out struct {
					Repository struct{ RepositoryName, RepositoryArn string }
				}
				if err := mxJSON(r, &out); err != nil {
					return err
				}
				n := "mx/new-allowed-" + e.suffix
				return mxWant(out.Repository.RepositoryName == n && out.Repository.RepositoryArn == mxARN(n), "created %+v", out.Repository)
			}},
		{name: "DescribeRepositories", body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"repositoryNames": []string{repo}}
		}, check: func(e *mxEnv, r response) error {
			var out struct {
				Repositories []struct{ RepositoryName string }
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.Repositories) == 1 && out.Repositories[0].RepositoryName == mxOpen, "repositories %+v", out.Repositories)
		}},
		{name: "DescribeRepositories (all)", op: "DescribeRepositories", level: mxAllRepos, body: none,
			check: func(e *mxEnv, r response) error {
				var out struct {
					Repositories []struct{ RepositoryName string }
				}
				if err := mxJSON(r, &out); err != nil {
					return err
				}
				for _, rp := range out.Repositories {
					if rp.RepositoryName == mxOpen {
						return nil
					}
				}
				return fmt.Errorf("%s not listed: %+v", mxOpen, out.Repositories)
			}},
		{name: "PutImageTagMutability", allowedRepo: "mx/w-settings", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"imageTagMutability": "MUTABLE"}
		}), check: ok200},
		{name: "PutImageScanningConfiguration", allowedRepo: "mx/w-settings", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"imageScanningConfiguration": map[string]any{"scanOnPush": false}}
		}), check: ok200},
		{name: "BatchGetRepositoryScanningConfiguration", ownRegistry: true, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"repositoryNames": []string{repo}}
		}, check: func(e *mxEnv, r response) error {
			var out struct {
				ScanningConfigurations []struct{ RepositoryName string }
				Failures               []any
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.ScanningConfigurations) == 1 && len(out.Failures) == 0, "answer %s", r.body)
		}},
		{name: "TagResource", allowedRepo: "mx/w-tags", body: arnBody(map[string]any{
			"tags": []map[string]string{{"Key": "mx", "Value": "matrix"}}}), check: ok200},
		{name: "ListTagsForResource", allowedRepo: "mx/w-tags", body: arnBody(nil), check: func(e *mxEnv, r response) error {
			var out struct{ Tags []struct{ Key, Value string } }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.Tags) == 1 && out.Tags[0].Key == "mx" && out.Tags[0].Value == "matrix", "tags %+v", out.Tags)
		}},
		{name: "UntagResource", allowedRepo: "mx/w-tags", body: arnBody(map[string]any{"tagKeys": []string{"mx"}}), check: ok200},
		{name: "SetRepositoryPolicy", allowedRepo: "mx/w-policy", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			// mx/guarded keeps its own policy should the call get through.
			text := mxHarmlessPolicy
			if repo == mxGuarded {
				text = mxGuardedPolicy
			}
			return map[string]any{"policyText": text}
		}), check: ok200},
		{name: "GetRepositoryPolicy", allowedRepo: "mx/w-policy", body: repoBody, check: func(e *mxEnv, r response) error {
			var out struct{ PolicyText string }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.PolicyText == mxHarmlessPolicy, "policyText %q", out.PolicyText)
		}},
		{name: "DeleteRepositoryPolicy", allowedRepo: "mx/w-policy", body: repoBody, check: ok200},
		{name: "PutLifecyclePolicy", allowedRepo: "mx/w-lifecycle", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"lifecyclePolicyText": mxLifecyclePolicy}
		}), check: ok200},
		{name: "GetLifecyclePolicy", allowedRepo: "mx/w-lifecycle", body: repoBody, check: func(e *mxEnv, r response) error {
			var out struct{ LifecyclePolicyText string }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.LifecyclePolicyText == mxLifecyclePolicy, "lifecyclePolicyText %q", out.LifecyclePolicyText)
		}},
		{name: "StartLifecyclePolicyPreview", allowedRepo: "mx/w-lifecycle", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"lifecyclePolicyText": mxLifecyclePolicy}
		}), check: ok200},
		{name: "GetLifecyclePolicyPreview", allowedRepo: "mx/w-lifecycle", body: repoBody, check: ok200},
		{name: "DeleteLifecyclePolicy", allowedRepo: "mx/w-lifecycle", body: repoBody, check: ok200},
		{name: "PutImage", allowedRepo: "mx/w-putimage", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			tag := "v2"
			if c != mxColAllowed {
				tag = "mx-" + mxColNames[c]
			}
			return map[string]any{"imageManifest": string(e.images[repo].manifest), "imageManifestMediaType": mtOCIManifest, "imageTag": tag}
		}), check: func(e *mxEnv, r response) error {
			var out struct {
				Image struct {
					ImageID struct{ ImageDigest, ImageTag string }
				}
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			id := out.Image.ImageID
			return mxWant(id.ImageDigest == e.images["mx/w-putimage"].digest && id.ImageTag == "v2", "imageId %+v", id)
		}},
		{name: "BatchGetImage", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"imageIds": []map[string]string{{"imageTag": "v1"}}}
		}), check: func(e *mxEnv, r response) error {
			var out struct {
				Images []struct {
					ImageID       struct{ ImageDigest string }
					ImageManifest string
				}
				Failures []any
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			im := e.images[mxOpen]
			if len(out.Images) != 1 || len(out.Failures) != 0 {
				return fmt.Errorf("answer %s", tail(string(r.body), 400))
			}
			return mxWant(out.Images[0].ImageManifest == string(im.manifest) && out.Images[0].ImageID.ImageDigest == im.digest,
				"manifest %s (digest %s), want the pushed %s", digestOf([]byte(out.Images[0].ImageManifest)), out.Images[0].ImageID.ImageDigest, im.digest)
		}},
		{name: "ListImages", body: repoBody, check: func(e *mxEnv, r response) error {
			var out struct {
				ImageIDs []struct{ ImageDigest, ImageTag string }
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			for _, id := range out.ImageIDs {
				if id.ImageTag == "v1" && id.ImageDigest == e.images[mxOpen].digest {
					return nil
				}
			}
			return fmt.Errorf("v1 (%s) not listed: %+v", e.images[mxOpen].digest, out.ImageIDs)
		}},
		{name: "DescribeImages", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"imageIds": []map[string]string{{"imageTag": "v1"}}}
		}), check: func(e *mxEnv, r response) error {
			var out struct {
				ImageDetails []struct{ ImageDigest string }
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.ImageDetails) == 1 && out.ImageDetails[0].ImageDigest == e.images[mxOpen].digest, "imageDetails %+v", out.ImageDetails)
		}},
		{name: "ListImageReferrers", action: "ecr:BatchGetImage", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"subjectId": map[string]string{"imageDigest": e.images[repo].digest}}
		}), check: ok200},
		{name: "BatchDeleteImage", allowedRepo: "mx/w-batchdelete", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			tag := "doomed" // a tag the shared repositories can lose
			if c == mxColAllowed {
				tag = "v1"
			}
			return map[string]any{"imageIds": []map[string]string{{"imageTag": tag}}}
		}), check: func(e *mxEnv, r response) error {
			var out struct {
				ImageIDs []struct{ ImageDigest, ImageTag string }
				Failures []any
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.ImageIDs) == 1 && len(out.Failures) == 0 && out.ImageIDs[0].ImageDigest == e.images["mx/w-batchdelete"].digest,
				"answer %s", tail(string(r.body), 400))
		}},
		{name: "BatchCheckLayerAvailability", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"layerDigests": []string{e.images[repo].layerDg}}
		}), check: func(e *mxEnv, r response) error {
			var out struct {
				Layers []struct {
					LayerDigest, LayerAvailability string
					LayerSize                      int64
				}
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			im := e.images[mxOpen]
			return mxWant(len(out.Layers) == 1 && out.Layers[0].LayerAvailability == "AVAILABLE" && out.Layers[0].LayerSize == int64(len(im.layer)),
				"layers %+v", out.Layers)
		}},
		{name: "InitiateLayerUpload", allowedRepo: "mx/w-layers", body: repoBody, check: func(e *mxEnv, r response) error {
			var out struct{ UploadID string }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			e.chainUploadID = out.UploadID
			return mxWant(out.UploadID != "", "no uploadId: %s", r.body)
		}},
		{name: "UploadLayerPart", allowedRepo: "mx/w-layers", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"uploadId": uploadID(e, c, repo), "partFirstByte": 0, "partLastByte": len(e.part) - 1, "layerPartBlob": e.part}
		}), check: func(e *mxEnv, r response) error {
			var out struct{ LastByteReceived int64 }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.LastByteReceived == int64(len(e.part)-1), "lastByteReceived %d", out.LastByteReceived)
		}},
		{name: "CompleteLayerUpload", allowedRepo: "mx/w-layers", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"uploadId": uploadID(e, c, repo), "layerDigests": []string{digestOf(e.part)}}
		}), check: func(e *mxEnv, r response) error {
			var out struct{ LayerDigest string }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.LayerDigest == digestOf(e.part), "layerDigest %q", out.LayerDigest)
		}},
		{name: "GetDownloadUrlForLayer", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"layerDigest": e.images[repo].layerDg}
		}), check: func(e *mxEnv, r response) error {
			var out struct{ DownloadURL, LayerDigest string }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			im := e.images[mxOpen]
			if out.LayerDigest != im.layerDg || out.DownloadURL == "" {
				return fmt.Errorf("answer %s", r.body)
			}
			// The URL must serve the layer's bytes without credentials.
			u, err := url.Parse(out.DownloadURL)
			if err != nil {
				return err
			}
			blob, err := e.v2(context.Background(), mxColNone, mxReq{method: http.MethodGet, path: u.RequestURI()})
			if err != nil {
				return err
			}
			return mxWant(blob.status == http.StatusOK && bytes.Equal(blob.body, im.layer), "downloadUrl answered %d with %d bytes (%s), want the layer %s",
				blob.status, len(blob.body), digestOf(blob.body), im.layerDg)
		}},
		{name: "DeleteRepository", allowedRepo: "mx/w-delete", body: with(func(e *mxEnv, c mxCol, repo string) map[string]any {
			// Never force: a wrong allow on a shared repository then
			// answers RepositoryNotEmptyException instead of deleting it.
			return map[string]any{"force": false}
		}), check: ok200},
		{name: "GetAuthorizationToken", level: mxRegistry, idAllowed: true, body: none, check: func(e *mxEnv, r response) error {
			var out struct {
				AuthorizationData []struct{ AuthorizationToken string }
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.AuthorizationData) == 1, "authorizationData %+v", out.AuthorizationData)
		}},
		{name: "DescribeRegistry", level: mxRegistry, body: none, check: ok200},
		{name: "PutReplicationConfiguration", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"replicationConfiguration": map[string]any{"rules": []any{}}}
		}, check: ok200},
		{name: "GetRegistryScanningConfiguration", level: mxRegistry, body: none, check: ok200},
		{name: "PutRegistryScanningConfiguration", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"scanType": "BASIC", "rules": []any{}}
		}, check: ok200},
		{name: "GetAccountSetting", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"name": "BLOB_MOUNTING"}
		}, check: ok200},
		{name: "PutAccountSetting", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"name": "BASIC_SCAN_TYPE_VERSION", "value": "AWS_NATIVE"} // the default
		}, check: ok200},
		{name: "PutRegistryPolicy", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"policyText": mxRegistryPolicy}
		}, check: ok200},
		{name: "GetRegistryPolicy", level: mxRegistry, body: none, check: func(e *mxEnv, r response) error {
			var out struct{ PolicyText string }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.PolicyText == mxRegistryPolicy, "policyText %q", out.PolicyText)
		}},
		{name: "DeleteRegistryPolicy", level: mxRegistry, body: none, check: ok200},
		{name: "CreateRepositoryCreationTemplate", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"prefix": template(e), "appliedFor": []string{"REPLICATION"}}
		}, check: ok200},
		{name: "DescribeRepositoryCreationTemplates", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"prefixes": []string{template(e)}}
		}, check: func(e *mxEnv, r response) error {
			var out struct{ RepositoryCreationTemplates []struct{ Prefix string } }
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(len(out.RepositoryCreationTemplates) == 1 && out.RepositoryCreationTemplates[0].Prefix == template(e),
				"templates %+v", out.RepositoryCreationTemplates)
		}},
		{name: "UpdateRepositoryCreationTemplate", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"prefix": template(e), "description": "authorization matrix"}
		}, check: ok200},
		{name: "DeleteRepositoryCreationTemplate", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"prefix": template(e)}
		}, check: ok200},
		// Pull-through cache rules (an upstream that refuses connections:
		// the matrix checks who may ask, not the upstream).
		{name: "CreatePullThroughCacheRule", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"ecrRepositoryPrefix": "mx-ptc", "upstreamRegistryUrl": "127.0.0.1:1"}
		}, check: ok200},
		{name: "DescribePullThroughCacheRules", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"ecrRepositoryPrefixes": []string{"mx-ptc"}}
		}, check: ok200},
		{name: "UpdatePullThroughCacheRule", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			// "" takes the rule's role off: valid for any rule (a role
			// needs an ECR upstream and an existing role of the account).
			return map[string]any{"ecrRepositoryPrefix": "mx-ptc", "customRoleArn": ""}
		}, check: ok200},
		{name: "ValidatePullThroughCacheRule", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"ecrRepositoryPrefix": "mx-ptc"}
		}, check: ok200},
		{name: "DeletePullThroughCacheRule", level: mxRegistry, body: func(e *mxEnv, c mxCol, repo string) map[string]any {
			return map[string]any{"ecrRepositoryPrefix": "mx-ptc"}
		}, check: ok200},
	}
	for _, r := range rows {
		if r.op == "" {
			r.op = r.name
		}
		if r.action == "" {
			r.action = "ecr:" + r.op
		}
		r.name = "API " + r.name
	}
	return rows
}

// mxV2Rows are the registry routes (registry/access.go), in the order the
// allowed column runs them.
func mxV2Rows() []*mxRow {
	get := func(path string, hdr ...string) mxReq { return mxReq{method: http.MethodGet, path: path, hdr: hdr} }
	accept := strings.Join([]string{mtOCIManifest, mtOCIIndex}, ", ")
	manifest := func(method string, byDigest bool) func(e *mxEnv, c mxCol, repo string) mxReq {
		return func(e *mxEnv, c mxCol, repo string) mxReq {
			ref := "v1"
			if byDigest {
				ref = e.images[repo].digest
			}
			return mxReq{method: method, path: "/v2/" + repo + "/manifests/" + ref, hdr: []string{"Accept", accept}}
		}
	}
	checkManifest := func(head bool) func(e *mxEnv, r response) error {
		return func(e *mxEnv, r response) error {
			im := e.images[mxOpen]
			if err := mxStatus(r, http.StatusOK); err != nil {
				return err
			}
			if d := r.header.Get("Docker-Content-Digest"); d != im.digest {
				return fmt.Errorf("Docker-Content-Digest %q, want the pushed %s", d, im.digest)
			}
			if head {
				return mxWant(r.header.Get("Content-Length") == fmt.Sprint(len(im.manifest)), "Content-Length %q, want %d", r.header.Get("Content-Length"), len(im.manifest))
			}
			return mxWant(bytes.Equal(r.body, im.manifest), "body %s, want the pushed manifest %s", digestOf(r.body), im.digest)
		}
	}
	// location is the allowed column's chained upload, else the one made
	// in setup for the column's repository.
	location := func(e *mxEnv, c mxCol, repo string) string {
		if c == mxColAllowed {
			return e.chainLocation
		}
		return e.v2Upload[repo]
	}
	unsupported := func(e *mxEnv, r response) error {
		code, _ := mxRegistryError(r)
		return mxWant(r.status == http.StatusMethodNotAllowed && code == "UNSUPPORTED", "want 405 UNSUPPORTED, got %s", r)
	}
	rows := []*mxRow{
		{name: "GET /v2/", level: mxBase, req: func(e *mxEnv, c mxCol, repo string) mxReq { return get("/v2/") },
			check: func(e *mxEnv, r response) error { return mxStatus(r, http.StatusOK) }},
		{name: "GET manifest by tag", action: "ecr:BatchGetImage", req: manifest(http.MethodGet, false), check: checkManifest(false)},
		{name: "HEAD manifest by tag", action: "ecr:BatchGetImage", req: manifest(http.MethodHead, false), check: checkManifest(true)},
		{name: "GET manifest by digest", action: "ecr:BatchGetImage", req: manifest(http.MethodGet, true), check: checkManifest(false)},
		{name: "HEAD manifest by digest", action: "ecr:BatchGetImage", req: manifest(http.MethodHead, true), check: checkManifest(true)},
		{name: "PUT manifest", action: "ecr:PutImage", allowedRepo: "mx/w-v2push", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			tag := "v2"
			if c != mxColAllowed {
				tag = "mx-v2-" + mxColNames[c]
			}
			return mxReq{method: http.MethodPut, path: "/v2/" + repo + "/manifests/" + tag, body: e.images[repo].manifest, hdr: []string{"Content-Type", mtOCIManifest}}
		}, check: func(e *mxEnv, r response) error {
			if err := mxStatus(r, http.StatusCreated); err != nil {
				return err
			}
			return mxWant(r.header.Get("Docker-Content-Digest") == e.images["mx/w-v2push"].digest, "Docker-Content-Digest %q", r.header.Get("Docker-Content-Digest"))
		}},
		{name: "GET blob", action: "ecr:GetDownloadUrlForLayer", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return get("/v2/" + repo + "/blobs/" + e.images[repo].layerDg)
		}, check: func(e *mxEnv, r response) error {
			if err := mxStatus(r, http.StatusOK); err != nil {
				return err
			}
			im := e.images[mxOpen]
			return mxWant(bytes.Equal(r.body, im.layer), "blob %s (%d bytes), want the pushed layer %s", digestOf(r.body), len(r.body), im.layerDg)
		}},
		{name: "HEAD blob", action: "ecr:BatchCheckLayerAvailability", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodHead, path: "/v2/" + repo + "/blobs/" + e.images[repo].layerDg}
		}, check: func(e *mxEnv, r response) error {
			im := e.images[mxOpen]
			if err := mxStatus(r, http.StatusOK); err != nil {
				return err
			}
			return mxWant(r.header.Get("Docker-Content-Digest") == im.layerDg && r.header.Get("Content-Length") == fmt.Sprint(len(im.layer)),
				"Docker-Content-Digest %q Content-Length %q, want %s %d", r.header.Get("Docker-Content-Digest"), r.header.Get("Content-Length"), im.layerDg, len(im.layer))
		}},
		{name: "POST upload", action: "ecr:InitiateLayerUpload", allowedRepo: "mx/w-v2upload", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodPost, path: "/v2/" + repo + "/blobs/uploads/"}
		}, check: func(e *mxEnv, r response) error {
			if err := mxStatus(r, http.StatusAccepted); err != nil {
				return err
			}
			e.chainLocation = r.header.Get("Location")
			return mxWant(e.chainLocation != "", "no Location")
		}},
		{name: "POST mount into R", action: "ecr:InitiateLayerUpload", allowedRepo: "mx/w-mount", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodPost, path: "/v2/" + repo + "/blobs/uploads/?mount=" + e.images[mxOpen].layerDg + "&from=" + mxOpen}
		}, check: func(e *mxEnv, r response) error {
			switch r.status {
			case http.StatusCreated:
				return mxWant(r.header.Get("Docker-Content-Digest") == e.images[mxOpen].layerDg, "mounted %q", r.header.Get("Docker-Content-Digest"))
			case http.StatusAccepted: // BLOB_MOUNTING off: an upload starts instead
				return mxWant(r.header.Get("Location") != "", "202 without Location")
			}
			return fmt.Errorf("want 201 or 202, got %s", r)
		}},
		{name: "POST mount from R",
			// The column's repository is the source; the target is mx/open
			// (the allowed column: mx/w-mount2).
			repo: func(e *mxEnv, c mxCol) string {
				if c == mxColResDeny {
					return mxGuarded
				}
				return mxOpen
			},
			req: func(e *mxEnv, c mxCol, repo string) mxReq {
				target := mxOpen
				if c == mxColAllowed {
					target = "mx/w-mount2"
				}
				return mxReq{method: http.MethodPost, path: "/v2/" + target + "/blobs/uploads/?mount=" + e.images[repo].layerDg + "&from=" + repo}
			},
			denyAt: func(c mxCol, repo string) (string, string) {
				if c == mxColResDeny { // may push to mx/open, may not read mx/guarded
					return "ecr:GetDownloadUrlForLayer", repo
				}
				return "ecr:InitiateLayerUpload", mxOpen
			},
			check: func(e *mxEnv, r response) error {
				return mxWant(r.status == http.StatusCreated || r.status == http.StatusAccepted, "want 201 or 202, got %s", r)
			}},
		{name: "PATCH upload", action: "ecr:UploadLayerPart", allowedRepo: "mx/w-v2upload", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodPatch, path: location(e, c, repo), body: e.part,
				hdr: []string{"Content-Type", "application/octet-stream", "Content-Range", fmt.Sprintf("0-%d", len(e.part)-1)}}
		}, check: func(e *mxEnv, r response) error {
			if err := mxStatus(r, http.StatusAccepted); err != nil {
				return err
			}
			if loc := r.header.Get("Location"); loc != "" {
				e.chainLocation = loc
			}
			return mxWant(r.header.Get("Range") == fmt.Sprintf("0-%d", len(e.part)-1), "Range %q", r.header.Get("Range"))
		}},
		{name: "GET upload", action: "ecr:UploadLayerPart", allowedRepo: "mx/w-v2upload", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return get(location(e, c, repo))
		}, check: func(e *mxEnv, r response) error {
			if err := mxStatus(r, http.StatusNoContent); err != nil {
				return err
			}
			return mxWant(r.header.Get("Range") == fmt.Sprintf("0-%d", len(e.part)-1), "Range %q", r.header.Get("Range"))
		}},
		{name: "PUT upload", action: "ecr:CompleteLayerUpload", allowedRepo: "mx/w-v2upload", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodPut, path: withQuery(location(e, c, repo), "digest", digestOf(e.part))}
		}, check: func(e *mxEnv, r response) error {
			if err := mxStatus(r, http.StatusCreated); err != nil {
				return err
			}
			return mxWant(r.header.Get("Docker-Content-Digest") == digestOf(e.part), "Docker-Content-Digest %q", r.header.Get("Docker-Content-Digest"))
		}},
		// Cancelling an upload is allowed with deletes off, as in
		// distribution (regclient backs off on a 405).
		{name: "DELETE upload", action: "ecr:InitiateLayerUpload", allowedRepo: "mx/w-v2cancel", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodDelete, path: e.v2Upload[repo]}
		}, check: func(e *mxEnv, r response) error { return mxStatus(r, http.StatusNoContent) }},
		{name: "DELETE manifest", action: "ecr:BatchDeleteImage", unsupported: true, allowedRepo: "mx/w-v2delete", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodDelete, path: "/v2/" + repo + "/manifests/" + e.images[repo].digest}
		}, check: unsupported},
		{name: "DELETE blob", action: "ecr:BatchDeleteImage", unsupported: true, allowedRepo: "mx/w-v2delete", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return mxReq{method: http.MethodDelete, path: "/v2/" + repo + "/blobs/" + e.images[repo].layerDg}
		}, check: unsupported},
		{name: "GET tags/list", action: "ecr:ListImages", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return get("/v2/" + repo + "/tags/list")
		}, check: func(e *mxEnv, r response) error {
			var out struct {
				Name string
				Tags []string
			}
			if err := mxStatus(r, http.StatusOK); err != nil {
				return err
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.Name == mxOpen && slices.Contains(out.Tags, "v1"), "tags %+v", out)
		}},
		{name: "GET _catalog", action: "ecr:DescribeRepositories", level: mxAllRepos, req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return get("/v2/_catalog?n=1000")
		}, check: func(e *mxEnv, r response) error {
			var out struct{ Repositories []string }
			if err := mxStatus(r, http.StatusOK); err != nil {
				return err
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(slices.Contains(out.Repositories, mxOpen) && slices.Contains(out.Repositories, mxGuarded), "catalog %v", out.Repositories)
		}},
		{name: "GET referrers", action: "ecr:BatchGetImage", req: func(e *mxEnv, c mxCol, repo string) mxReq {
			return get("/v2/" + repo + "/referrers/" + e.images[repo].digest)
		}, check: func(e *mxEnv, r response) error {
			var out struct {
				SchemaVersion int
				MediaType     string
				Manifests     []any
			}
			if err := mxStatus(r, http.StatusOK); err != nil {
				return err
			}
			if err := mxJSON(r, &out); err != nil {
				return err
			}
			return mxWant(out.SchemaVersion == 2 && out.MediaType == mtOCIIndex && out.Manifests != nil, "referrers %s", r.body)
		}},
	}
	for _, r := range rows {
		r.name = "v2 " + r.name
	}
	return rows
}

// mxRegisteredOps reads the operations ecrapi registers (and the actions
// named where they differ from ecr:<name>) from its source.
func mxRegisteredOps(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "ecrapi", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("ecrapi sources: %v (%d files)", err, len(files))
	}
	// One registration a line: a.add(op("Name", on, handler)), or
	// opTargets, with .withAction("ecr:…") when the action is not
	// ecr:<Name>.
	re := regexp.MustCompile(`(?m)a\.add\(op(?:Targets)?\("(\w+)",[^\n]*?(?:\.withAction\("([^"]+)"\))?\)\s*$`)
	ops := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			action := m[2]
			if action == "" {
				action = "ecr:" + m[1]
			}
			ops[m[1]] = action
		}
	}
	return ops
}

// ---- the test ---------------------------------------------------------------

// TestAuthorizationMatrix asks every /v2 route and every ECR API operation
// as eight callers: no credentials, a bad signature, an expired token or
// signature, a revoked key, another account, a principal its identity
// policy does not allow, one a repository policy denies, and one allowed.
// No refused cell may get past authorization, every refusal must say why
// in ECR's words, and every allowed cell must get the real thing.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	began := time.Now()
	// An OIDC issuer berth trusts, for AssumeRoleWithWebIdentity.
	is := oidctest.New(t, "")
	b := startDiskBerth(t, testenv.BerthOptions{StrictECR: true, Extra: "iam: {oidc_ca_file: " + is.CAFile(t, t.TempDir()) + "}"})
	ctx := testenv.Ctx(t, 3*time.Minute)
	hc := clientFor(t, b.CACert)
	hc.Timeout = time.Minute
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	e := &mxEnv{b: b, hc: hc, suffix: randHex(t, 4), realm: defaultProxyEndpoint(b), images: map[string]mxImage{},
		apiUpload: map[string]string{}, v2Upload: map[string]string{}, part: randBytes(t, 1536),
		res: map[string]*[mxNumCols]mxResult{}}

	// The principals, in one `berth iam apply`.
	idFile := filepath.Join(t.TempDir(), "identities.yaml")
	if err := os.WriteFile(idFile, mxIdentityFile(), 0o600); err != nil {
		t.Fatal(err)
	}
	b.IAM("apply", "--file", idFile)
	key := func(acct, user string) (string, string) {
		t.Helper()
		id, secret := testenv.ParseKey(b.IAM("create-access-key", "--account", acct, "--user", user))
		if id == "" || secret == "" {
			t.Fatalf("create-access-key %s printed no key", user)
		}
		return id, secret
	}
	userARN := func(acct, user string) string { return "arn:aws:iam::" + acct + ":user/" + user }
	basicTok := func(tok string) string { return basic("AWS", tok) }
	login := func(what, id, secret string) (string, time.Time) {
		t.Helper()
		tok, exp, err := mxLogin(ctx, b, id, secret)
		if err != nil {
			t.Fatalf("GetAuthorizationToken as %s: %v", what, err)
		}
		return tok, exp
	}
	check := func(what string, wantStatus int, r response, err error) {
		t.Helper()
		if err != nil || r.status != wantStatus {
			t.Fatalf("%s: %v %s, want %d", what, err, r, wantStatus)
		}
	}

	// The expired column's login token: one berth signed (with its own
	// signing keys) two hours ago, for an hour.
	allowedID, allowedSecret := key(account, "mx-allowed")
	expiredTok := mxExpiredToken(t, b, auth.Principal{Type: auth.TypeUser, ARN: userARN(account, "mx-allowed"),
		Account: account, AccessKeyID: allowedID, Username: "mx-allowed"})
	e.cred[mxColExpired] = mxCred{arn: userARN(account, "mx-allowed"), keyID: allowedID, secret: allowedSecret,
		signAt: time.Now().Add(-20 * time.Minute), basic: basicTok(expiredTok)}

	// The revoked column: a key that worked, and its token, deactivated now
	// (the caches then forget it within about 5 s, while setup runs).
	revokedID, revokedSecret := key(account, "mx-revoked")
	revokedTok, _ := login("mx-revoked", revokedID, revokedSecret)
	e.cred[mxColRevoked] = mxCred{arn: userARN(account, "mx-revoked"), keyID: revokedID, secret: revokedSecret, basic: basicTok(revokedTok)}
	r, err := e.v2(ctx, mxColRevoked, mxReq{method: http.MethodGet, path: "/v2/"})
	check("GET /v2/ with mx-revoked's token before revocation", http.StatusOK, r, err)
	r, err = e.api(ctx, mxColRevoked, "DescribeRegistry", []byte(`{}`))
	check("DescribeRegistry as mx-revoked before revocation", http.StatusOK, r, err)
	b.IAM("update-access-key", "--id", revokedID, "--status", "Inactive")
	revokedAt := time.Now()

	noidID, noidSecret := key(account, "mx-noid")
	resID, resSecret := key(account, "mx-resdeny")
	othID, othSecret := key(mxOtherAccount, "mx-other")
	e.cred[mxColNoID] = mxCred{arn: userARN(account, "mx-noid"), keyID: noidID, secret: noidSecret}
	e.cred[mxColResDeny] = mxCred{arn: userARN(account, "mx-resdeny"), keyID: resID, secret: resSecret}
	e.cred[mxColOther] = mxCred{arn: userARN(mxOtherAccount, "mx-other"), keyID: othID, secret: othSecret}
	e.cred[mxColAllowed] = mxCred{arn: userARN(account, "mx-allowed"), keyID: allowedID, secret: allowedSecret}
	e.cred[mxColBadSig] = mxCred{arn: userARN(account, "mx-allowed"), keyID: allowedID, secret: otherSecret(allowedSecret)}
	refresh := func(cols ...mxCol) {
		t.Helper()
		for _, c := range cols {
			cr := &e.cred[c]
			tok, _ := login(mxColNames[c], cr.keyID, cr.secret)
			cr.basic = basicTok(tok)
		}
		// A current token of mx-allowed's with one signature character changed.
		tok, _ := login("mx-allowed", allowedID, allowedSecret)
		e.cred[mxColBadSig].basic = basicTok(mxTamper(tok))
	}

	// Repositories and images, as the admin; mounting on (ECR's default is
	// off, which turns a mount into a plain upload that reads no source).
	b.User, b.Password = b.Login(ctx, b.ECR())
	admin := b.ECR()
	if _, err := admin.PutAccountSetting(ctx, &ecr.PutAccountSettingInput{Name: aws.String("BLOB_MOUNTING"), Value: aws.String("ENABLED")}); err != nil {
		t.Fatalf("PutAccountSetting BLOB_MOUNTING: %v", err)
	}
	repos := []string{mxOpen, mxGuarded, "mx/w-settings", "mx/w-tags", "mx/w-policy", "mx/w-lifecycle", "mx/w-putimage",
		"mx/w-batchdelete", "mx/w-layers", "mx/w-delete", "mx/w-v2push", "mx/w-v2upload", "mx/w-v2cancel", "mx/w-mount",
		"mx/w-mount2", "mx/w-v2delete"}
	for _, name := range repos {
		if _, err := admin.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}); err != nil {
			t.Fatalf("CreateRepository %s: %v", name, err)
		}
	}
	a := newAPI(t, b)
	for _, name := range []string{mxOpen, mxGuarded, "mx/w-putimage", "mx/w-batchdelete", "mx/w-v2push", "mx/w-v2delete"} {
		layer := makeTar(t, tarFile{name: "mx.bin", data: randBytes(t, 2048)})
		dg, m := a.pushImage(name, "v1", layer, mtLayerTar, 1)
		e.images[name] = mxImage{manifest: m, digest: dg, layer: layer, layerDg: digestOf(layer)}
	}
	for _, name := range []string{mxOpen, mxGuarded} {
		a.putManifest(name, "doomed", mtOCIManifest, e.images[name].manifest)
		out, err := admin.InitiateLayerUpload(ctx, &ecr.InitiateLayerUploadInput{RepositoryName: aws.String(name)})
		if err != nil {
			t.Fatalf("InitiateLayerUpload %s: %v", name, err)
		}
		e.apiUpload[name] = aws.ToString(out.UploadId)
	}
	if _, err := admin.SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{RepositoryName: aws.String(mxGuarded), PolicyText: aws.String(mxGuardedPolicy)}); err != nil {
		t.Fatalf("SetRepositoryPolicy %s: %v", mxGuarded, err)
	}
	// Upload locations started by the allowed principal, for the columns
	// that must be refused on them (the location's state is signed, not a
	// credential).
	refresh(mxColAllowed)
	for _, name := range []string{mxOpen, mxGuarded, "mx/w-v2cancel"} {
		r, err := e.v2(ctx, mxColAllowed, mxReq{method: http.MethodPost, path: "/v2/" + name + "/blobs/uploads/"})
		check("POST upload to "+name+" as mx-allowed", http.StatusAccepted, r, err)
		e.v2Upload[name] = r.header.Get("Location")
	}

	// Wait (bounded) until the revoked key and its token are refused.
	for {
		r, err1 := e.v2(ctx, mxColRevoked, mxReq{method: http.MethodGet, path: "/v2/" + mxOpen + "/manifests/v1", hdr: []string{"Accept", mtOCIManifest}})
		ar, err2 := e.api(ctx, mxColRevoked, "DescribeRegistry", []byte(`{}`))
		code, _ := mxAPIError(ar)
		if err1 == nil && err2 == nil && r.status == http.StatusUnauthorized && code == "UnrecognizedClientException" {
			t.Logf("the revoked key and its token are refused %v after deactivation", time.Since(revokedAt).Round(time.Millisecond))
			break
		}
		if time.Since(revokedAt) > 8*time.Second {
			t.Fatalf("8 s after deactivating mx-revoked's key: /v2 %v %s, API %v %s", err1, r, err2, ar)
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.mxQuerySetup(ctx, t, is)
	setup := time.Since(began)

	// Every operation ecrapi registers has a row, and each row's action is
	// the one berth registers for it.
	rows := append(append(mxAPIRows(), mxV2Rows()...), mxQueryRows()...)
	registered := mxRegisteredOps(t)
	covered := map[string]bool{}
	for _, r := range rows {
		if r.op == "" {
			continue
		}
		covered[r.op] = true
		if act, ok := registered[r.op]; !ok {
			t.Errorf("row %s: ecrapi registers no operation %s", r.name, r.op)
		} else if act != r.action {
			t.Errorf("row %s: ecrapi checks %s, the matrix expects %s", r.name, act, r.action)
		}
	}
	for op := range registered {
		if !covered[op] {
			t.Errorf("ecrapi registers %s, which the matrix has no row for", op)
		}
	}
	// Likewise every action the IAM Query API serves.
	iamRows := map[string]bool{}
	for _, r := range rows {
		if r.query != nil && r.query.service == "iam" {
			iamRows[r.action] = true
		}
	}
	for _, a := range iamapi.Actions() {
		if !iamRows[a] {
			t.Errorf("iamapi serves %s, which the matrix has no row for", a)
		}
		delete(iamRows, a)
	}
	for a := range iamRows {
		t.Errorf("row iam %s: iamapi serves no such action", a)
	}

	refresh(mxColAllowed)
	// The allowed column, in order: its calls change state (and chain
	// uploads), so they run one at a time.
	t.Run("allowed", func(t *testing.T) {
		for _, r := range rows {
			e.cell(ctx, t, r, mxColAllowed)
		}
	})

	// The refused columns (all but expired), each row's cells at once:
	// none of them may change anything. Goroutines rather than parallel
	// subtests, which would wait for the package's other parallel tests
	// while ctx runs out.
	refresh(mxColNoID, mxColResDeny, mxColOther)
	t.Run("refused", func(t *testing.T) {
		for _, r := range rows {
			t.Run(r.name, func(t *testing.T) {
				var wg sync.WaitGroup
				for _, c := range []mxCol{mxColNone, mxColBadSig, mxColRevoked, mxColOther, mxColNoID, mxColResDeny} {
					wg.Add(1)
					go func() { defer wg.Done(); e.cell(ctx, t, r, c) }()
				}
				wg.Wait()
			})
		}
	})

	// The expired column, eight rows at a time.
	var wait time.Duration
	t.Run("expired", func(t *testing.T) {
		var wg sync.WaitGroup
		slots := make(chan struct{}, 8)
		for _, r := range rows {
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer func() { <-slots; wg.Done() }()
				e.cell(ctx, t, r, mxColExpired)
			}()
		}
		wg.Wait()
	})

	// Nothing refused changed the repository policy the deny-res column
	// depends on.
	if out, err := admin.GetRepositoryPolicy(ctx, &ecr.GetRepositoryPolicyInput{RepositoryName: aws.String(mxGuarded)}); err != nil ||
		aws.ToString(out.PolicyText) != mxGuardedPolicy {
		t.Errorf("%s's repository policy after the matrix: %v %v", mxGuarded, err, out)
	}

	e.mxQueryCheckKept(ctx, t)
	e.report(t, rows, setup, wait, time.Since(began))
}

// report logs the outcome counts per column and the matrix itself, and
// fails on any unexpected allow or denial.
func (e *mxEnv) report(t *testing.T, rows []*mxRow, setup, wait, total time.Duration) {
	t.Helper()
	type counts struct{ allow, deny, auth, unsup, na, badAllow, badDeny, other int }
	var per [mxNumCols]counts
	var sum counts
	var unexpected []string
	var grid strings.Builder
	symbol := map[string]string{mxAllow: "A", mxDeny: "D", mxAuth: "x", mxUnsupported: "U", mxNA: "-", mxError: "E", "": "?"}
	width := 0
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	fmt.Fprintf(&grid, "%-*s", width+1, "")
	for c := range mxNumCols {
		fmt.Fprintf(&grid, " %-9s", mxColNames[c])
	}
	grid.WriteString("\n")
	for _, r := range rows {
		res := e.res[r.name]
		if res == nil {
			res = &[mxNumCols]mxResult{}
		}
		fmt.Fprintf(&grid, "%-*s", width+1, r.name)
		for c := range mxNumCols {
			x := res[c]
			p := &per[c]
			switch x.got {
			case mxAllow:
				p.allow++
			case mxDeny:
				p.deny++
			case mxAuth:
				p.auth++
			case mxUnsupported:
				p.unsup++
			case mxNA:
				p.na++
			}
			wantsIn := x.want == mxAllow || x.want == mxUnsupported
			gotIn := x.got == mxAllow || x.got == mxUnsupported
			switch {
			case x.want == "":
				p.other++
				unexpected = append(unexpected, fmt.Sprintf("NOT RUN: %s as %s", r.name, mxColNames[c]))
			case x.want == mxNA:
			case !wantsIn && gotIn:
				p.badAllow++
				unexpected = append(unexpected, fmt.Sprintf("UNEXPECTED ALLOW: %s as %s (%s %s)", r.name, mxColNames[c], x.got, x.note))
			case wantsIn && (x.got == mxDeny || x.got == mxAuth):
				p.badDeny++
				unexpected = append(unexpected, fmt.Sprintf("UNEXPECTED DENIAL: %s as %s (%s)", r.name, mxColNames[c], x.got))
			case !x.ok:
				p.other++ // the right side of authorization, the wrong answer
			}
			mark := symbol[x.got]
			if !x.ok {
				mark += "!"
			}
			fmt.Fprintf(&grid, " %-9s", mark)
		}
		grid.WriteString("\n")
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "authorization matrix: %d rows x %d columns = %d cells; setup %v, waiting for token expiry %v, total %v\n",
		len(rows), mxNumCols, len(rows)*int(mxNumCols), setup.Round(time.Millisecond), wait.Round(time.Millisecond), total.Round(time.Millisecond))
	fmt.Fprintf(&tab, "%-10s %6s %6s %6s %6s %6s %10s %10s %8s\n", "column", "allow", "deny", "auth", "405", "n/a", "UNEXP-ALW", "UNEXP-DNY", "wrong")
	for c := range mxNumCols {
		p := per[c]
		fmt.Fprintf(&tab, "%-10s %6d %6d %6d %6d %6d %10d %10d %8d\n", mxColNames[c], p.allow, p.deny, p.auth, p.unsup, p.na, p.badAllow, p.badDeny, p.other)
		sum.allow += p.allow
		sum.deny += p.deny
		sum.auth += p.auth
		sum.unsup += p.unsup
		sum.na += p.na
		sum.badAllow += p.badAllow
		sum.badDeny += p.badDeny
		sum.other += p.other
	}
	fmt.Fprintf(&tab, "%-10s %6d %6d %6d %6d %6d %10d %10d %8d\n", "total", sum.allow, sum.deny, sum.auth, sum.unsup, sum.na, sum.badAllow, sum.badDeny, sum.other)
	tab.WriteString("(A allowed, D denied by policy, x refused for credentials, U 405 UNSUPPORTED after authorization, - n/a, ! mismatch)\n")
	t.Log("\n" + tab.String() + grid.String())
	sort.Strings(unexpected)
	for _, u := range unexpected {
		t.Error(u)
	}
}

// mxExpiredToken is a login token for p that b's signing keys made two
// hours ago, valid for one: well past its expiry and berth's leeway.
func mxExpiredToken(t *testing.T, b *testenv.Berth, p auth.Principal) string {
	t.Helper()
	keys, err := token.LoadOrCreate(filepath.Join(b.DataDir, "keys", "token-signing.json"))
	if err != nil {
		t.Fatal(err)
	}
	iss := &token.Issuer{Keys: keys, TTL: time.Hour, Issuer: "berth", Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}
	tok, exp, err := iss.Issue(context.Background(), p)
	if err != nil || time.Until(exp) > -time.Hour+time.Minute {
		t.Fatalf("minting an expired token: %v (expires %v)", err, exp)
	}
	return tok
}
