package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/auth/oidc/oidctest"
	"github.com/berth-registry/berth/iamapi"
)

// The matrix's Query API rows: every action the IAM Query API serves and
// the STS operations, asked by the same eight columns. IAM has no
// resource-based policies and acts on the caller's own account, so the
// deny-res and other-account columns only apply where something of
// account A can be named: a managed policy or OIDC provider ARN, or a
// role's trust policy (AssumeRole).

const (
	mxKeep    = "mx-keep"   // what the refused columns name: made in setup, must survive them
	mxTmp     = "mx-tmp"    // what the allowed column makes and deletes, in order
	mxAssume  = "mx-assume" // the role the AssumeRole row assumes
	mxKeepURL = "https://mx-keep.example"
	mxTmpURL  = "https://mx-tmp.example"
	mxTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	mxIAMDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}`
	// mxBoundary is the permissions boundary the boundary rows set.
	mxBoundary = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
)

// mxQuery makes a row a Query API (form body, XML answer) call.
type mxQuery struct {
	service string // "iam" or "sts"
	form    func(e *mxEnv, c mxCol) url.Values
	// resource is what a denial names, for column c.
	resource func(c mxCol) string
	// crossARN: the call names account A's entity by ARN, so another
	// account's caller (who has iam:* at home) must be refused.
	crossARN bool
	// anyone: no permission is needed (GetCallerIdentity, GetSessionToken).
	anyone bool
	// trust: the resource is a role whose trust policy decides (AssumeRole).
	trust bool
	// webIdentity: AssumeRoleWithWebIdentity, unsigned by design; its
	// columns are web identity tokens (mxEnv.web), not signatures.
	webIdentity bool
	// allowedCode is the error the allowed column gets past authorization
	// when the call can never succeed on berth (RemoveRoleFromInstanceProfile:
	// NoSuchEntity, as berth has no instance profiles); "" for success.
	allowedCode string
}

// mxWebCell is what AssumeRoleWithWebIdentity answers one column's token.
type mxWebCell struct {
	token     string
	code, msg string // "" for allowed
	status    int
}

// mxWebIdentity is the AssumeRoleWithWebIdentity row's state: per column a
// token and AWS's answer to it. The columns become token checks: none is
// a token that is no JWT, badsig a tampered signature, expired an expired
// token, revoked one from an issuer with no provider (as after
// DeleteOpenIDConnectProvider), otheracct a good token for a role of
// another account (which trusts no such provider), deny-id a subject the
// trust policy's condition does not match, deny-res one its explicit Deny
// names, allowed a good token.
type mxWebIdentity struct {
	role  string
	cells [mxNumCols]mxWebCell
}

func (e *mxEnv) webIdentityCell(ctx context.Context, r *mxRow, c mxCol, want string) (got, note string, problems []string) {
	w := e.web.cells[c]
	role := e.web.role
	if c == mxColOther {
		role = mxIAMARN(mxOtherAccount, "role/mx-web")
	}
	form := url.Values{"Action": {r.action}, "Version": {"2011-06-15"}, "RoleArn": {role},
		"RoleSessionName": {"mx"}, "WebIdentityToken": {w.token}, "DurationSeconds": {"900"}}
	resp, err := e.query(ctx, mxColNone, "sts", form) // unsigned, as SDKs send it
	if err != nil {
		return mxError, "", []string{err.Error()}
	}
	code, msg := mxQueryError(resp)
	switch {
	case resp.status >= 500:
		return mxError, code, []string{fmt.Sprintf("server error %d %s %q", resp.status, code, msg)}
	case resp.status == http.StatusOK:
		got = mxAllow
	case code == "AccessDenied":
		got = mxDeny
	case code == "InvalidIdentityToken" || code == "ExpiredTokenException" || code == "IDPRejectedClaim":
		got = mxAuth
	default:
		got = mxAllow // past the token and trust checks: validation
	}
	note = code
	if got != want {
		return got, note, []string{fmt.Sprintf("%d %s %q", resp.status, code, msg)}
	}
	if got == mxAllow {
		if c == mxColAllowed && r.check != nil {
			if err := r.check(e, resp); err != nil {
				problems = append(problems, "allowed, but the answer is wrong: "+err.Error())
			}
		}
		return got, note, problems
	}
	if resp.status != w.status || code != w.code || msg != w.msg {
		problems = append(problems, fmt.Sprintf("got %d %s %q, want %d %s %q", resp.status, code, msg, w.status, w.code, w.msg))
	}
	return got, note, problems
}

func mxIAMARN(acct, res string) string { return "arn:aws:iam::" + acct + ":" + res }

// mxName is the entity name column c's call names.
func mxName(c mxCol) string {
	if c == mxColAllowed {
		return mxTmp
	}
	return mxKeep
}

func mxURL(c mxCol) string {
	if c == mxColAllowed {
		return mxTmpURL
	}
	return mxKeepURL
}

// mxQueryExpect is mxExpect for a Query API row.
func mxQueryExpect(q *mxQuery, c mxCol) string {
	if q.webIdentity {
		switch c {
		case mxColAllowed:
			return mxAllow
		case mxColNoID, mxColResDeny:
			return mxDeny
		}
		return mxAuth
	}
	switch c {
	case mxColNone, mxColBadSig, mxColExpired, mxColRevoked:
		return mxAuth
	case mxColAllowed:
		return mxAllow
	case mxColOther:
		switch {
		case q.anyone:
			return mxAllow
		case q.crossARN || q.trust:
			return mxDeny
		}
		return mxNA // acts on its own account
	case mxColNoID:
		if q.anyone {
			return mxAllow
		}
		return mxDeny
	case mxColResDeny:
		if q.trust {
			return mxDeny
		}
	}
	return mxNA
}

// query sends one signed Query API call as column c (unsigned for none).
func (e *mxEnv) query(ctx context.Context, c mxCol, service string, form url.Values) (response, error) {
	body := []byte(form.Encode())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.b.URL+"/", bytes.NewReader(body))
	if err != nil {
		return response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if cr := e.cred[c]; c != mxColNone && cr.keyID != "" {
		at := cr.signAt
		if at.IsZero() {
			at = time.Now()
		}
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: cr.keyID, SecretAccessKey: cr.secret}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
			return response{}, err
		}
	}
	return e.do(req)
}

// mxQueryError is the code and message of a Query API error answer.
func mxQueryError(r response) (code, msg string) {
	var doc struct {
		Error struct{ Code, Message string }
	}
	_ = xml.Unmarshal(r.body, &doc)
	return doc.Error.Code, doc.Error.Message
}

func (e *mxEnv) queryCell(ctx context.Context, r *mxRow, c mxCol, want string) (got, note string, problems []string) {
	q := r.query
	if q.webIdentity {
		return e.webIdentityCell(ctx, r, c, want)
	}
	form := q.form(e, c)
	form.Set("Action", r.action)
	form.Set("Version", map[string]string{"iam": iamapi.APIVersion, "sts": "2011-06-15"}[q.service])
	resp, err := e.query(ctx, c, q.service, form)
	if err != nil {
		return mxError, "", []string{err.Error()}
	}
	code, msg := mxQueryError(resp)
	switch {
	case resp.status >= 500:
		return mxError, code, []string{fmt.Sprintf("server error %d %s %q", resp.status, code, msg)}
	case resp.status == http.StatusOK:
		got = mxAllow
	case code == "AccessDenied":
		got = mxDeny
	case c == mxColOther && q.crossARN && code == "NoSuchEntity":
		// iam:* at home lets the question through; account A's entity is
		// then not there for the caller (berth looks only in the caller's
		// account), which reveals nothing about it.
		got, note = mxDeny, code
	case code == "MissingAuthenticationToken" || code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId" ||
		code == "IncompleteSignature" || code == "ExpiredToken":
		got = mxAuth
	default:
		got, note = mxAllow, code
	}
	full := map[string]string{"iam": "iam:", "sts": "sts:"}[q.service] + r.action
	switch {
	case got == mxDeny && want == mxDeny:
		if resp.status != http.StatusForbidden && code == "AccessDenied" {
			problems = append(problems, fmt.Sprintf("AccessDenied with status %d", resp.status))
		}
		principal := e.cred[c].arn
		switch {
		case note == "NoSuchEntity":
			res := q.resource(c)
			w := "Policy " + res + " does not exist or is not attachable."
			if strings.Contains(res, ":oidc-provider/") {
				w = "OpenIDConnect Provider not found for arn " + res
			}
			if resp.status != http.StatusNotFound || msg != w {
				problems = append(problems, fmt.Sprintf("got %d NoSuchEntity %q, want 404 %q", resp.status, msg, w))
			}
		case q.trust:
			// STS words AssumeRole denials briefly, naming no policy kind.
			if w := "User: " + principal + " is not authorized to perform: " + full + " on resource: " + q.resource(c); msg != w {
				problems = append(problems, fmt.Sprintf("AccessDenied message\n   %q\nwant %q", msg, w))
			}
		default:
			if w := mxDenial(c, principal, full, q.resource(c)); msg != w {
				problems = append(problems, fmt.Sprintf("AccessDenied message\n   %q\nwant %q", msg, w))
			}
		}
	case got == mxAuth && want == mxAuth:
		type authWant struct {
			status      int
			code, match string
			prefix      bool
		}
		w := map[mxCol]authWant{
			mxColNone:    {http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token", false},
			mxColBadSig:  {http.StatusForbidden, "SignatureDoesNotMatch", msgBadSig, true},
			mxColExpired: {http.StatusForbidden, "SignatureDoesNotMatch", "Signature expired: ", true},
			mxColRevoked: {http.StatusForbidden, "InvalidClientTokenId", msgUnknownKey, false},
		}[c]
		okMsg := msg == w.match || (w.prefix && strings.HasPrefix(msg, w.match))
		if resp.status != w.status || code != w.code || !okMsg {
			problems = append(problems, fmt.Sprintf("got %d %s %q, want %d %s %q", resp.status, code, msg, w.status, w.code, w.match))
		}
	case got == mxAllow && want == mxAllow:
		if q.allowedCode != "" && c == mxColAllowed {
			if code != q.allowedCode {
				problems = append(problems, fmt.Sprintf("allowed, answered %d %s %q, want %s", resp.status, code, msg, q.allowedCode))
			}
		} else if resp.status != http.StatusOK {
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

// mxXML checks that an answer is <Action>Response and holds want.
func mxXMLHas(want ...string) func(e *mxEnv, r response) error {
	return func(e *mxEnv, r response) error {
		for _, w := range want {
			if !strings.Contains(string(r.body), w) {
				return fmt.Errorf("no %q in %s", w, tail(string(r.body), 400))
			}
		}
		return nil
	}
}

// mxQueryRows are the IAM Query API actions and STS operations, in the
// order the allowed column runs them: it makes mx-tmp entities, uses and
// deletes them; the other columns name the mx-keep ones.
func mxQueryRows() []*mxRow {
	role := func(c mxCol) string { return mxIAMARN(account, "role/"+mxName(c)) }
	user := func(c mxCol) string { return mxIAMARN(account, "user/"+mxName(c)) }
	pol := func(c mxCol) string { return mxIAMARN(account, "policy/"+mxName(c)) }
	prov := func(c mxCol) string {
		return mxIAMARN(account, "oidc-provider/"+strings.TrimPrefix(mxURL(c), "https://"))
	}
	all := func(mxCol) string { return "*" }
	v := func(kv ...string) func(e *mxEnv, c mxCol) url.Values {
		return func(e *mxEnv, c mxCol) url.Values {
			f := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				val := kv[i+1]
				switch val {
				case "$name":
					val = mxName(c)
				case "$policy":
					val = pol(c)
				case "$provider":
					val = prov(c)
				case "$url":
					val = mxURL(c)
				case "$key":
					val = e.iamKey[c == mxColAllowed]
				}
				f.Set(kv[i], val)
			}
			return f
		}
	}
	iamRow := func(action string, res func(mxCol) string, form func(e *mxEnv, c mxCol) url.Values, check func(e *mxEnv, r response) error) *mxRow {
		return &mxRow{name: "iam " + action, action: action, query: &mxQuery{service: "iam", form: form, resource: res}, check: check}
	}
	cross := func(r *mxRow) *mxRow { r.query.crossARN = true; return r }
	rows := []*mxRow{
		iamRow("CreateRole", role, v("RoleName", "$name", "AssumeRolePolicyDocument", mxTrust), mxXMLHas("<Arn>"+role(mxColAllowed)+"</Arn>")),
		iamRow("GetRole", role, v("RoleName", "$name"), mxXMLHas("<RoleName>"+mxTmp+"</RoleName>")),
		iamRow("ListRoles", all, v(), mxXMLHas("<RoleName>"+mxTmp+"</RoleName>", "<RoleName>"+mxKeep+"</RoleName>")),
		iamRow("UpdateRole", role, v("RoleName", "$name", "Description", "matrix"), nil),
		iamRow("UpdateAssumeRolePolicy", role, v("RoleName", "$name", "PolicyDocument", mxTrust), nil),
		iamRow("PutRolePolicy", role, v("RoleName", "$name", "PolicyName", "mx", "PolicyDocument", mxIAMDoc), nil),
		iamRow("GetRolePolicy", role, v("RoleName", "$name", "PolicyName", "mx"), mxXMLHas("<PolicyName>mx</PolicyName>")),
		iamRow("ListRolePolicies", role, v("RoleName", "$name"), mxXMLHas("<member>mx</member>")),
		iamRow("TagRole", role, v("RoleName", "$name", "Tags.member.1.Key", "mx", "Tags.member.1.Value", "matrix"), nil),
		iamRow("ListRoleTags", role, v("RoleName", "$name"), mxXMLHas("<Key>mx</Key>")),
		iamRow("UntagRole", role, v("RoleName", "$name", "TagKeys.member.1", "mx"), nil),
		iamRow("UpdateRoleDescription", role, v("RoleName", "$name", "Description", "matrix"), mxXMLHas("<Description>matrix</Description>")),
		iamRow("PutRolePermissionsBoundary", role, v("RoleName", "$name", "PermissionsBoundary", mxBoundary), nil),
		iamRow("DeleteRolePermissionsBoundary", role, v("RoleName", "$name"), nil),
		iamRow("ListInstanceProfilesForRole", role, v("RoleName", "$name"), mxXMLHas("<InstanceProfiles></InstanceProfiles>")),
		func() *mxRow {
			r := iamRow("RemoveRoleFromInstanceProfile", func(c mxCol) string { return mxIAMARN(account, "instance-profile/"+mxName(c)) },
				v("RoleName", "$name", "InstanceProfileName", "$name"), nil)
			r.query.allowedCode = "NoSuchEntity"
			return r
		}(),
		iamRow("CreatePolicy", pol, v("PolicyName", "$name", "PolicyDocument", mxIAMDoc), mxXMLHas("<Arn>"+pol(mxColAllowed)+"</Arn>")),
		cross(iamRow("GetPolicy", pol, v("PolicyArn", "$policy"), mxXMLHas("<DefaultVersionId>v1</DefaultVersionId>"))),
		cross(iamRow("GetPolicyVersion", pol, v("PolicyArn", "$policy", "VersionId", "v1"), mxXMLHas("<VersionId>v1</VersionId>"))),
		iamRow("ListPolicies", all, v("Scope", "Local"), mxXMLHas("<PolicyName>"+mxTmp+"</PolicyName>")),
		cross(iamRow("CreatePolicyVersion", pol, v("PolicyArn", "$policy", "PolicyDocument", mxIAMDoc), mxXMLHas("<VersionId>v2</VersionId>"))),
		cross(iamRow("ListPolicyVersions", pol, v("PolicyArn", "$policy"), mxXMLHas("<VersionId>v2</VersionId>", "<VersionId>v1</VersionId>"))),
		cross(iamRow("SetDefaultPolicyVersion", pol, v("PolicyArn", "$policy", "VersionId", "v2"), nil)),
		cross(iamRow("DeletePolicyVersion", pol, v("PolicyArn", "$policy", "VersionId", "v1"), nil)),
		cross(iamRow("TagPolicy", pol, v("PolicyArn", "$policy", "Tags.member.1.Key", "mx", "Tags.member.1.Value", "matrix"), nil)),
		cross(iamRow("ListPolicyTags", pol, v("PolicyArn", "$policy"), mxXMLHas("<Key>mx</Key>"))),
		cross(iamRow("UntagPolicy", pol, v("PolicyArn", "$policy", "TagKeys.member.1", "mx"), nil)),
		iamRow("AttachRolePolicy", role, v("RoleName", "$name", "PolicyArn", "$policy"), nil),
		iamRow("ListAttachedRolePolicies", role, v("RoleName", "$name"), mxXMLHas("<PolicyArn>"+pol(mxColAllowed)+"</PolicyArn>")),
		iamRow("DetachRolePolicy", role, v("RoleName", "$name", "PolicyArn", "$policy"), nil),
		iamRow("DeleteRolePolicy", role, v("RoleName", "$name", "PolicyName", "mx"), nil),
		iamRow("DeleteRole", role, v("RoleName", "$name"), nil),

		iamRow("CreateUser", user, v("UserName", "$name"), mxXMLHas("<Arn>"+user(mxColAllowed)+"</Arn>")),
		iamRow("GetUser", user, v("UserName", "$name"), mxXMLHas("<UserName>"+mxTmp+"</UserName>")),
		iamRow("ListUsers", all, v(), mxXMLHas("<UserName>"+mxTmp+"</UserName>")),
		iamRow("PutUserPolicy", user, v("UserName", "$name", "PolicyName", "mx", "PolicyDocument", mxIAMDoc), nil),
		iamRow("GetUserPolicy", user, v("UserName", "$name", "PolicyName", "mx"), mxXMLHas("<PolicyName>mx</PolicyName>")),
		iamRow("ListUserPolicies", user, v("UserName", "$name"), mxXMLHas("<member>mx</member>")),
		iamRow("AttachUserPolicy", user, v("UserName", "$name", "PolicyArn", "$policy"), nil),
		iamRow("ListAttachedUserPolicies", user, v("UserName", "$name"), mxXMLHas("<PolicyArn>"+pol(mxColAllowed)+"</PolicyArn>")),
		iamRow("DetachUserPolicy", user, v("UserName", "$name", "PolicyArn", "$policy"), nil),
		iamRow("TagUser", user, v("UserName", "$name", "Tags.member.1.Key", "mx", "Tags.member.1.Value", "matrix"), nil),
		iamRow("ListUserTags", user, v("UserName", "$name"), mxXMLHas("<Key>mx</Key>")),
		iamRow("UntagUser", user, v("UserName", "$name", "TagKeys.member.1", "mx"), nil),
		iamRow("PutUserPermissionsBoundary", user, v("UserName", "$name", "PermissionsBoundary", mxBoundary), nil),
		iamRow("DeleteUserPermissionsBoundary", user, v("UserName", "$name"), nil),
		iamRow("ListGroupsForUser", user, v("UserName", "$name"), mxXMLHas("<Groups></Groups>")),
		iamRow("ListMFADevices", user, v("UserName", "$name"), mxXMLHas("<MFADevices></MFADevices>")),
		iamRow("ListVirtualMFADevices", all, v(), mxXMLHas("<VirtualMFADevices></VirtualMFADevices>")),
		iamRow("ListSSHPublicKeys", user, v("UserName", "$name"), mxXMLHas("<SSHPublicKeys></SSHPublicKeys>")),
		iamRow("ListSigningCertificates", user, v("UserName", "$name"), mxXMLHas("<Certificates></Certificates>")),
		iamRow("ListServiceSpecificCredentials", user, v("UserName", "$name"), mxXMLHas("<ServiceSpecificCredentials></ServiceSpecificCredentials>")),
		func() *mxRow {
			r := iamRow("DeleteLoginProfile", user, v("UserName", "$name"), nil)
			r.query.allowedCode = "NoSuchEntity"
			return r
		}(),
		iamRow("CreateAccessKey", user, v("UserName", "$name"), func(e *mxEnv, r response) error {
			var doc struct {
				Result struct {
					AccessKey struct{ AccessKeyId, SecretAccessKey string }
				} `xml:"CreateAccessKeyResult"`
			}
			if err := xml.Unmarshal(r.body, &doc); err != nil || !strings.HasPrefix(doc.Result.AccessKey.AccessKeyId, "AKIA") || doc.Result.AccessKey.SecretAccessKey == "" {
				return fmt.Errorf("%v: %s", err, tail(string(r.body), 300))
			}
			e.iamKey[true] = doc.Result.AccessKey.AccessKeyId // for the rows after
			return nil
		}),
		iamRow("ListAccessKeys", user, v("UserName", "$name"), mxXMLHas("<AccessKeyId>")),
		iamRow("UpdateAccessKey", user, v("UserName", "$name", "AccessKeyId", "$key", "Status", "Inactive"), nil),
		iamRow("DeleteAccessKey", user, v("UserName", "$name", "AccessKeyId", "$key"), nil),
		iamRow("DeleteUserPolicy", user, v("UserName", "$name", "PolicyName", "mx"), nil),
		iamRow("DeleteUser", user, v("UserName", "$name"), nil),
		cross(iamRow("DeletePolicy", pol, v("PolicyArn", "$policy"), nil)),

		iamRow("CreateOpenIDConnectProvider", prov, v("Url", "$url", "ClientIDList.member.1", "sts.amazonaws.com",
			"ThumbprintList.member.1", "6938fd4d98bab03faadb97b34396831e3780aea1"), mxXMLHas(prov(mxColAllowed))),
		cross(iamRow("GetOpenIDConnectProvider", prov, v("OpenIDConnectProviderArn", "$provider"), mxXMLHas("<Url>"+mxTmpURL+"</Url>"))),
		iamRow("ListOpenIDConnectProviders", all, v(), mxXMLHas(prov(mxColAllowed))),
		cross(iamRow("AddClientIDToOpenIDConnectProvider", prov, v("OpenIDConnectProviderArn", "$provider", "ClientID", "mx"), nil)),
		cross(iamRow("RemoveClientIDFromOpenIDConnectProvider", prov, v("OpenIDConnectProviderArn", "$provider", "ClientID", "sts.amazonaws.com"), nil)),
		cross(iamRow("UpdateOpenIDConnectProviderThumbprint", prov, v("OpenIDConnectProviderArn", "$provider",
			"ThumbprintList.member.1", "0000000000000000000000000000000000000000"), nil)),
		cross(iamRow("DeleteOpenIDConnectProvider", prov, v("OpenIDConnectProviderArn", "$provider"), nil)),

		{name: "sts AssumeRoleWithWebIdentity", action: "AssumeRoleWithWebIdentity", query: &mxQuery{service: "sts", webIdentity: true},
			check: mxXMLHas("<Arn>arn:aws:sts::"+account+":assumed-role/mx-web/mx</Arn>", "<SubjectFromWebIdentityToken>repo:org/app:")},
		{name: "sts GetCallerIdentity", action: "GetCallerIdentity", query: &mxQuery{service: "sts", form: v(), anyone: true},
			check: mxXMLHas("<Arn>" + mxIAMARN(account, "user/mx-allowed") + "</Arn>")},
		{name: "sts GetSessionToken", action: "GetSessionToken", query: &mxQuery{service: "sts", form: v("DurationSeconds", "900"), anyone: true},
			check: mxXMLHas("<SessionToken>")},
		{name: "sts AssumeRole", action: "AssumeRole", query: &mxQuery{service: "sts", trust: true,
			form:     v("RoleArn", mxIAMARN(account, "role/"+mxAssume), "RoleSessionName", "mx", "DurationSeconds", "900"),
			resource: func(mxCol) string { return mxIAMARN(account, "role/"+mxAssume) }},
			check: mxXMLHas("<Arn>arn:aws:sts::" + account + ":assumed-role/" + mxAssume + "/mx</Arn>")},
	}
	return rows
}

// mxQuerySetup makes what the Query rows need: the mx-keep entities the
// refused columns name, and the role the AssumeRole row assumes (its trust
// policy allows mx-allowed and denies mx-resdeny by ARN).
func (e *mxEnv) mxQuerySetup(ctx context.Context, t *testing.T, is *oidctest.Issuer) {
	t.Helper()
	e.iamKey = map[bool]string{}
	call := func(form ...string) response {
		t.Helper()
		f := url.Values{"Version": {iamapi.APIVersion}}
		for i := 0; i+1 < len(form); i += 2 {
			f.Set(form[i], form[i+1])
		}
		r, err := e.query(ctx, mxColAllowed, "iam", f)
		if err != nil || r.status != http.StatusOK {
			t.Fatalf("IAM %v as mx-allowed: %v %s", form, err, r)
		}
		return r
	}
	trust := mxPolicyDoc(
		map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": mxIAMARN(account, "user/mx-allowed")}, "Action": "sts:AssumeRole"},
		map[string]any{"Effect": "Deny", "Principal": map[string]any{"AWS": mxIAMARN(account, "user/mx-resdeny")}, "Action": "sts:AssumeRole"},
	)
	call("Action", "CreateRole", "RoleName", mxAssume, "AssumeRolePolicyDocument", trust)
	call("Action", "CreateRole", "RoleName", mxKeep, "AssumeRolePolicyDocument", mxTrust)
	call("Action", "PutRolePolicy", "RoleName", mxKeep, "PolicyName", "mx", "PolicyDocument", mxIAMDoc)
	call("Action", "CreateUser", "UserName", mxKeep)
	call("Action", "PutUserPolicy", "UserName", mxKeep, "PolicyName", "mx", "PolicyDocument", mxIAMDoc)
	r := call("Action", "CreateAccessKey", "UserName", mxKeep)
	var doc struct {
		Result struct {
			AccessKey struct{ AccessKeyId string }
		} `xml:"CreateAccessKeyResult"`
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil || doc.Result.AccessKey.AccessKeyId == "" {
		t.Fatalf("CreateAccessKey %s: %v %s", mxKeep, err, r)
	}
	e.iamKey[false] = doc.Result.AccessKey.AccessKeyId
	call("Action", "CreatePolicy", "PolicyName", mxKeep, "PolicyDocument", mxIAMDoc)
	call("Action", "CreateOpenIDConnectProvider", "Url", mxKeepURL, "ClientIDList.member.1", "sts.amazonaws.com",
		"ThumbprintList.member.1", "6938fd4d98bab03faadb97b34396831e3780aea1")

	// AssumeRoleWithWebIdentity: a provider for is, a role trusting its
	// tokens for repo:org/* except repo:org/denied:*, and one token per
	// column.
	call("Action", "CreateOpenIDConnectProvider", "Url", is.URL, "ClientIDList.member.1", "sts.amazonaws.com")
	provARN := mxIAMARN(account, "oidc-provider/"+is.Host())
	fed := map[string]any{"Federated": provARN}
	webTrust := mxPolicyDoc(
		map[string]any{"Effect": "Allow", "Principal": fed, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": map[string]any{
			"StringEquals": map[string]any{is.Host() + ":aud": "sts.amazonaws.com"}, "StringLike": map[string]any{is.Host() + ":sub": "repo:org/*"}}},
		map[string]any{"Effect": "Deny", "Principal": fed, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": map[string]any{
			"StringLike": map[string]any{is.Host() + ":sub": "repo:org/denied:*"}}},
	)
	call("Action", "CreateRole", "RoleName", "mx-web", "AssumeRolePolicyDocument", webTrust)
	e.web.role = mxIAMARN(account, "role/mx-web")
	good := is.Mint(t, is.GitHubClaims("org/app"))
	expired := is.GitHubClaims("org/app")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	other := oidctest.New(t, "")
	const (
		notValidated = "The web identity token that was passed could not be validated by Amazon Web Services. Get a new identity token from the identity provider and then retry the request."
		notAuthz     = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	)
	e.web.cells = [mxNumCols]mxWebCell{
		mxColNone:   {token: "not-a-jwt", status: 400, code: "InvalidIdentityToken", msg: notValidated},
		mxColBadSig: {token: good[:len(good)-4] + "AAAA", status: 400, code: "InvalidIdentityToken", msg: notValidated},
		mxColExpired: {token: is.Mint(t, expired), status: 400, code: "ExpiredTokenException",
			msg: "The web identity token that was passed is expired or is not valid. Get a new identity token from the identity provider and then retry the request."},
		mxColRevoked: {token: other.Mint(t, other.GitHubClaims("org/app")), status: 400, code: "InvalidIdentityToken",
			msg: "No OpenIDConnect provider found in your account for " + other.URL},
		mxColOther:   {token: good, status: 400, code: "InvalidIdentityToken", msg: "No OpenIDConnect provider found in your account for " + is.URL},
		mxColNoID:    {token: is.Mint(t, is.GitHubClaims("evil/app")), status: 403, code: "AccessDenied", msg: notAuthz},
		mxColResDeny: {token: is.Mint(t, is.GitHubClaims("org/denied")), status: 403, code: "AccessDenied", msg: notAuthz},
		mxColAllowed: {token: good},
	}
}

// mxQueryCheckKept: nothing refused changed the mx-keep entities.
func (e *mxEnv) mxQueryCheckKept(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, q := range [][]string{
		{"Action", "GetRolePolicy", "RoleName", mxKeep, "PolicyName", "mx"},
		{"Action", "GetUserPolicy", "UserName", mxKeep, "PolicyName", "mx"},
		{"Action", "GetPolicy", "PolicyArn", mxIAMARN(account, "policy/"+mxKeep)},
		{"Action", "ListPolicyVersions", "PolicyArn", mxIAMARN(account, "policy/"+mxKeep)},
		{"Action", "ListAccessKeys", "UserName", mxKeep},
		{"Action", "GetOpenIDConnectProvider", "OpenIDConnectProviderArn", mxIAMARN(account, "oidc-provider/mx-keep.example")},
	} {
		f := url.Values{"Version": {iamapi.APIVersion}}
		for i := 0; i+1 < len(q); i += 2 {
			f.Set(q[i], q[i+1])
		}
		r, err := e.query(ctx, mxColAllowed, "iam", f)
		if err != nil || r.status != http.StatusOK {
			t.Errorf("after the matrix, %v: %v %s", q, err, r)
			continue
		}
		body := string(r.body)
		switch q[1] {
		case "GetPolicy", "ListPolicyVersions":
			if !strings.Contains(body, "v1</") || strings.Contains(body, "v2</") {
				t.Errorf("after the matrix, %s's versions: %s", mxKeep, body)
			}
		case "ListAccessKeys":
			if !strings.Contains(body, e.iamKey[false]) || !strings.Contains(body, "<Status>Active</Status>") {
				t.Errorf("after the matrix, %s's key: %s", mxKeep, body)
			}
		case "GetOpenIDConnectProvider":
			if !strings.Contains(body, "<member>sts.amazonaws.com</member>") || strings.Contains(body, "<member>mx</member>") ||
				!strings.Contains(body, "6938fd4d98bab03faadb97b34396831e3780aea1") {
				t.Errorf("after the matrix, %s's provider: %s", mxKeep, body)
			}
		}
	}
}
