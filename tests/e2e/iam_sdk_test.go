package e2e_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/berth-registry/berth/internal/testenv"
)

// TestIAMGoSDK drives the IAM Query API with the Go SDK's IAM client (what
// Terraform's AWS provider is built on): the operations TestIAMQueryAPI
// runs with the CLI, the SDK's paginators over berth's markers, and every
// refusal surfaced as the SDK's typed exception (errors.As), with AWS's
// code and message.
func TestIAMGoSDK(t *testing.T) {
	t.Parallel()
	b := startDiskBerth(t, testenv.BerthOptions{})
	ctx := testenv.Ctx(t, 2*time.Minute)
	client := func(id, secret string) *iam.Client {
		return iam.New(iam.Options{
			Region:       "us-east-1", // IAM is global: signed for us-east-1
			BaseEndpoint: aws.String(b.URL),
			Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
			HTTPClient:   clientFor(t, b.CACert),
		})
	}
	c := client(b.AccessKeyID, b.SecretAccessKey)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":{"StringLike":{"aws:userid":"a+b %"}}}]}`

	// wantErr asserts err is the SDK's typed exception E with AWS's code
	// and (when msg is not "") message.
	wantErr := func(what string, err error, target apiErr, code, msg string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error, want %s", what, code)
			return
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("%s: %v, want %s", what, err, code)
			return
		}
		if msg != "" && ae.ErrorMessage() != msg {
			t.Errorf("%s: message %q, want %q", what, ae.ErrorMessage(), msg)
		}
		// The typed exception itself, as callers test for it.
		var ok bool
		switch target.(type) {
		case *types.NoSuchEntityException:
			var e *types.NoSuchEntityException
			ok = errors.As(err, &e)
		case *types.EntityAlreadyExistsException:
			var e *types.EntityAlreadyExistsException
			ok = errors.As(err, &e)
		case *types.DeleteConflictException:
			var e *types.DeleteConflictException
			ok = errors.As(err, &e)
		case *types.MalformedPolicyDocumentException:
			var e *types.MalformedPolicyDocumentException
			ok = errors.As(err, &e)
		case *types.LimitExceededException:
			var e *types.LimitExceededException
			ok = errors.As(err, &e)
		}
		if !ok {
			t.Errorf("%s: %T is not %T: %v", what, errors.Unwrap(err), target, err)
		}
	}
	decoded := func(what string, doc *string) string {
		t.Helper()
		// IAM sends policy documents URL-encoded; Terraform unescapes them.
		s, err := url.QueryUnescape(aws.ToString(doc))
		if err != nil {
			t.Fatalf("%s: document %q: %v", what, aws.ToString(doc), err)
		}
		return s
	}

	// Roles.
	cr, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("builder"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("CI builds"), MaxSessionDuration: aws.Int32(7200),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}}})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	roleARN := "arn:aws:iam::" + account + ":role/ci/builder"
	if r := cr.Role; aws.ToString(r.Arn) != roleARN || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || aws.ToString(r.Path) != "/ci/" ||
		aws.ToInt32(r.MaxSessionDuration) != 7200 || aws.ToString(r.Description) != "CI builds" || len(r.Tags) != 1 || r.CreateDate == nil ||
		decoded("CreateRole", r.AssumeRolePolicyDocument) != trust {
		t.Fatalf("CreateRole: %+v", r)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("builder"), AssumeRolePolicyDocument: aws.String(trust)})
	wantErr("CreateRole again", err, &types.EntityAlreadyExistsException{}, "EntityAlreadyExists", "")
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(`{"Statement":"x"}`)})
	wantErr("CreateRole with a bad trust policy", err, &types.MalformedPolicyDocumentException{}, "MalformedPolicyDocument", "")
	gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("builder")})
	if err != nil || aws.ToString(gr.Role.Arn) != roleARN {
		t.Fatalf("GetRole: %v %+v", err, gr)
	}
	// Never used: an empty RoleLastUsed, as Terraform's role_last_used reads it.
	if u := gr.Role.RoleLastUsed; u == nil || u.LastUsedDate != nil || u.Region != nil {
		t.Errorf("GetRole RoleLastUsed of an unused role: %+v", u)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	wantErr("GetRole nope", err, &types.NoSuchEntityException{}, "NoSuchEntity", "The role with name nope cannot be found.")

	// Inline policies: the document comes back exactly ('+', ' ', '%').
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("pull"), PolicyDocument: aws.String(pol)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("pull")})
	if err != nil || decoded("GetRolePolicy", rp.PolicyDocument) != pol {
		t.Fatalf("GetRolePolicy: %v %+v", err, rp)
	}
	lrp, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("builder")})
	if err != nil || !slices.Equal(lrp.PolicyNames, []string{"pull"}) {
		t.Fatalf("ListRolePolicies: %v %+v", err, lrp)
	}
	power := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("builder"), PolicyArn: aws.String(power)}); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	var attached []string
	for p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("builder")}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAttachedRolePolicies: %v", err)
		}
		for _, a := range page.AttachedPolicies {
			attached = append(attached, aws.ToString(a.PolicyArn))
		}
	}
	if !slices.Equal(attached, []string{power}) {
		t.Errorf("ListAttachedRolePolicies: %v", attached)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("builder")})
	wantErr("DeleteRole with policies", err, &types.DeleteConflictException{}, "DeleteConflict", "")
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("builder"), PolicyArn: aws.String(power)}); err != nil {
		t.Fatalf("DetachRolePolicy: %v", err)
	}
	_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("builder"), PolicyArn: aws.String(power)})
	wantErr("DetachRolePolicy again", err, &types.NoSuchEntityException{}, "NoSuchEntity", "Policy "+power+" was not found.")
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("pull")}); err != nil {
		t.Fatalf("DeleteRolePolicy: %v", err)
	}
	_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("builder"), PolicyName: aws.String("pull")})
	wantErr("DeleteRolePolicy again", err, &types.NoSuchEntityException{}, "NoSuchEntity", "")

	// Paging: the SDK's paginator follows berth's markers, one role a page.
	for _, n := range []string{"r1", "r2", "r3"} {
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
			t.Fatalf("CreateRole %s: %v", n, err)
		}
	}
	var roles []string
	pages := 0
	for p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListRoles page %d: %v", pages+1, err)
		}
		pages++
		for _, r := range page.Roles {
			roles = append(roles, aws.ToString(r.RoleName))
		}
		if pages > 10 {
			t.Fatal("ListRoles: the paginator does not stop")
		}
	}
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"builder", "r1", "r2", "r3"}) || pages != 4 {
		t.Errorf("ListRoles paginated: %d pages, %v", pages, roles)
	}
	pr, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/ci/")})
	if err != nil || len(pr.Roles) != 1 || pr.IsTruncated {
		t.Errorf("ListRoles /ci/: %v %+v", err, pr)
	}

	// Users and access keys.
	cu, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")})
	if err != nil || aws.ToString(cu.User.Arn) != "arn:aws:iam::"+account+":user/reader" || !strings.HasPrefix(aws.ToString(cu.User.UserId), "AIDA") {
		t.Fatalf("CreateUser: %v %+v", err, cu)
	}
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("reader")})
	wantErr("CreateUser again", err, &types.EntityAlreadyExistsException{}, "EntityAlreadyExists", "")
	if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("ro"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	ak, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil || !strings.HasPrefix(aws.ToString(ak.AccessKey.AccessKeyId), "AKIA") || aws.ToString(ak.AccessKey.SecretAccessKey) == "" ||
		ak.AccessKey.Status != types.StatusTypeActive {
		t.Fatalf("CreateAccessKey: %v %+v", err, ak)
	}
	keyID := aws.ToString(ak.AccessKey.AccessKeyId)
	var keys []types.AccessKeyMetadata
	for p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: aws.String("reader")}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccessKeys: %v", err)
		}
		keys = append(keys, page.AccessKeyMetadata...)
	}
	if len(keys) != 1 || aws.ToString(keys[0].AccessKeyId) != keyID {
		t.Errorf("ListAccessKeys: %+v", keys)
	}
	var users []string
	for p := iam.NewListUsersPaginator(c, &iam.ListUsersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		for _, u := range page.Users {
			users = append(users, aws.ToString(u.UserName))
		}
	}
	if !slices.Contains(users, "reader") {
		t.Errorf("ListUsers: %v", users)
	}

	// The reader's own key: reads work, a write is refused in IAM's words.
	rc := client(keyID, aws.ToString(ak.AccessKey.SecretAccessKey))
	scEventually(t, "the reader's key works", 15*time.Second, func() error {
		_, err := rc.GetUser(ctx, &iam.GetUserInput{})
		return err
	})
	if _, err := rc.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles as reader: %v", err)
	}
	_, err = rc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("evil"), AssumeRolePolicyDocument: aws.String(trust)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !strings.HasPrefix(ae.ErrorMessage(),
		"User: arn:aws:iam::"+account+":user/reader is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::"+account+":role/evil") {
		t.Errorf("CreateRole as reader: %v", err)
	}

	// OIDC providers.
	op, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com"),
		ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"}})
	provARN := "arn:aws:iam::" + account + ":oidc-provider/token.actions.githubusercontent.com"
	if err != nil || aws.ToString(op.OpenIDConnectProviderArn) != provARN {
		t.Fatalf("CreateOpenIDConnectProvider: %v %+v", err, op)
	}
	_, err = c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com")})
	wantErr("CreateOpenIDConnectProvider again", err, &types.EntityAlreadyExistsException{}, "EntityAlreadyExists", "")
	if _, err := c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{
		OpenIDConnectProviderArn: aws.String(provARN), ClientID: aws.String("other")}); err != nil {
		t.Fatalf("AddClientIDToOpenIDConnectProvider: %v", err)
	}
	gp, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN)})
	if err != nil || aws.ToString(gp.Url) != "https://token.actions.githubusercontent.com" || !slices.Equal(gp.ClientIDList, []string{"sts.amazonaws.com", "other"}) ||
		len(gp.ThumbprintList) != 1 {
		t.Errorf("GetOpenIDConnectProvider: %v %+v", err, gp)
	}
	lp, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(lp.OpenIDConnectProviderList) != 1 || aws.ToString(lp.OpenIDConnectProviderList[0].Arn) != provARN {
		t.Errorf("ListOpenIDConnectProviders: %v %+v", err, lp)
	}
	if _, err := c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN)}); err != nil {
		t.Fatalf("DeleteOpenIDConnectProvider: %v", err)
	}
	_, err = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(provARN)})
	wantErr("GetOpenIDConnectProvider after delete", err, &types.NoSuchEntityException{}, "NoSuchEntity", "OpenIDConnect Provider not found for arn "+provARN)

	// Customer managed policies, attached to a user and found by the
	// ListPolicies paginator.
	cp, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("pull-team"), PolicyDocument: aws.String(pol), Description: aws.String("team pulls")})
	polARN := "arn:aws:iam::" + account + ":policy/pull-team"
	if err != nil || aws.ToString(cp.Policy.Arn) != polARN || !strings.HasPrefix(aws.ToString(cp.Policy.PolicyId), "ANPA") || aws.ToString(cp.Policy.DefaultVersionId) != "v1" {
		t.Fatalf("CreatePolicy: %v %+v", err, cp)
	}
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("pull-team"), PolicyDocument: aws.String(pol)})
	wantErr("CreatePolicy again", err, &types.EntityAlreadyExistsException{}, "EntityAlreadyExists",
		"A policy called pull-team already exists. Duplicate names are not allowed.")
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v1")})
	if err != nil || decoded("GetPolicyVersion", pv.PolicyVersion.Document) != pol || !pv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion: %v %+v", err, pv)
	}

	// Versions, as Terraform's aws_iam_policy updates them: a new version
	// not yet the default, then SetDefaultPolicyVersion; at most five.
	pol2 := strings.Replace(pol, "BatchGetImage", "GetDownloadUrlForLayer", 1)
	nv, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(polARN), PolicyDocument: aws.String(pol2)})
	if err != nil || aws.ToString(nv.PolicyVersion.VersionId) != "v2" || nv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion: %v %+v", err, nv)
	}
	if gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polARN)}); err != nil || aws.ToString(gp.Policy.DefaultVersionId) != "v1" {
		t.Fatalf("GetPolicy after CreatePolicyVersion: %v %+v", err, gp)
	}
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v2")}); err != nil {
		t.Fatalf("SetDefaultPolicyVersion: %v", err)
	}
	gp2, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polARN)})
	if err != nil || aws.ToString(gp2.Policy.DefaultVersionId) != "v2" {
		t.Fatalf("GetPolicy after SetDefaultPolicyVersion: %v %+v", err, gp2)
	}
	if pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v2")}); err != nil ||
		decoded("GetPolicyVersion v2", pv.PolicyVersion.Document) != pol2 || !pv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("GetPolicyVersion v2: %v %+v", err, pv)
	}
	for i := 3; i <= 5; i++ {
		if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(polARN), PolicyDocument: aws.String(pol),
			SetAsDefault: i == 5}); err != nil {
			t.Fatalf("CreatePolicyVersion v%d: %v", i, err)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(polARN), PolicyDocument: aws.String(pol)})
	wantErr("a sixth version", err, &types.LimitExceededException{}, "LimitExceeded",
		"A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(polARN), PolicyDocument: aws.String(`{"Statement":"x"}`)})
	wantErr("CreatePolicyVersion malformed", err, &types.MalformedPolicyDocumentException{}, "MalformedPolicyDocument", "")
	var versions []string
	for p := iam.NewListPolicyVersionsPaginator(c, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(polARN), MaxItems: aws.Int32(2)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPolicyVersions: %v", err)
		}
		for _, v := range page.Versions {
			versions = append(versions, aws.ToString(v.VersionId))
			if v.IsDefaultVersion != (aws.ToString(v.VersionId) == "v5") || v.Document != nil {
				t.Errorf("ListPolicyVersions: %+v", v)
			}
		}
	}
	if strings.Join(versions, ",") != "v5,v4,v3,v2,v1" {
		t.Errorf("ListPolicyVersions: %v, want newest first", versions)
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v5")})
	wantErr("DeletePolicyVersion of the default", err, &types.DeleteConflictException{}, "DeleteConflict", "Cannot delete the default version of a policy.")
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v9")})
	wantErr("GetPolicyVersion v9", err, &types.NoSuchEntityException{}, "NoSuchEntity", "Policy "+polARN+" version v9 does not exist or is not attachable.")
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(polARN)})
	wantErr("DeletePolicy with versions", err, &types.DeleteConflictException{}, "DeleteConflict",
		"This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String(v)}); err != nil {
			t.Fatalf("DeletePolicyVersion %s: %v", v, err)
		}
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(polARN), VersionId: aws.String("v1")})
	wantErr("DeletePolicyVersion again", err, &types.NoSuchEntityException{}, "NoSuchEntity", "Policy "+polARN+" version v1 does not exist or is not attachable.")

	var local []string
	for p := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPolicies: %v", err)
		}
		for _, p := range page.Policies {
			local = append(local, aws.ToString(p.Arn))
		}
	}
	if !slices.Equal(local, []string{polARN}) {
		t.Errorf("ListPolicies Local: %v", local)
	}
	if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(polARN)}); err != nil {
		t.Fatalf("AttachUserPolicy: %v", err)
	}
	au, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("reader")})
	if err != nil || len(au.AttachedPolicies) != 1 || aws.ToString(au.AttachedPolicies[0].PolicyName) != "pull-team" {
		t.Errorf("ListAttachedUserPolicies: %v %+v", err, au)
	}
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(polARN)})
	wantErr("DeletePolicy while attached", err, &types.DeleteConflictException{}, "DeleteConflict", "")
	if _, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String(polARN)}); err != nil {
		t.Fatalf("DetachUserPolicy: %v", err)
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(polARN)}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(polARN)})
	wantErr("GetPolicy after delete", err, &types.NoSuchEntityException{}, "NoSuchEntity", "")

	terraformLifecycle(ctx, t, c, wantErr)

	// A user goes only once its keys and policies have.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")})
	wantErr("DeleteUser with policies", err, &types.DeleteConflictException{}, "DeleteConflict", "")
	if _, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("ro")}); err != nil {
		t.Fatalf("DeleteUserPolicy: %v", err)
	}
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")})
	wantErr("DeleteUser with an access key", err, &types.DeleteConflictException{}, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
	if _, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: aws.String(keyID), Status: types.StatusTypeInactive}); err != nil {
		t.Fatalf("UpdateAccessKey: %v", err)
	}
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: aws.String(keyID)}); err != nil {
		t.Fatalf("DeleteAccessKey: %v", err)
	}
	_, err = c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("reader"), AccessKeyId: aws.String(keyID)})
	wantErr("DeleteAccessKey again", err, &types.NoSuchEntityException{}, "NoSuchEntity", "The Access Key with id "+keyID+" cannot be found.")
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("reader")})
	wantErr("GetUser after delete", err, &types.NoSuchEntityException{}, "NoSuchEntity", "The user with name reader cannot be found.")
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r3")}); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("r3")})
	wantErr("DeleteRole again", err, &types.NoSuchEntityException{}, "NoSuchEntity", "The role with name r3 cannot be found.")
}

// apiErr is an SDK exception type.
type apiErr interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// terraformLifecycle runs, with the SDK Terraform's AWS provider is built
// on, what its aws_iam_role, aws_iam_user and aws_iam_policy resources
// call on update and destroy: description and permissions boundary
// updates, the tag lists through their paginators (one tag a page, over
// berth's markers), and the destroy sequences, instance profiles and
// groups (none on berth) included.
func terraformLifecycle(ctx context.Context, t *testing.T, c *iam.Client, wantErr func(string, error, apiErr, string, string)) {
	t.Helper()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	readOnly := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	power := "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	role := aws.String("tf-role")

	cr, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trust),
		PermissionsBoundary: aws.String(readOnly), Tags: []types.Tag{tag("c", "3"), tag("a", "1"), tag("b", "2")}})
	if err != nil {
		t.Fatalf("CreateRole with a boundary: %v", err)
	}
	if pb := cr.Role.PermissionsBoundary; pb == nil || pb.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy ||
		aws.ToString(pb.PermissionsBoundaryArn) != readOnly {
		t.Errorf("CreateRole PermissionsBoundary: %+v", pb)
	}
	ud, err := c.UpdateRoleDescription(ctx, &iam.UpdateRoleDescriptionInput{RoleName: role, Description: aws.String("managed by terraform")})
	if err != nil || aws.ToString(ud.Role.Description) != "managed by terraform" {
		t.Errorf("UpdateRoleDescription: %v %+v", err, ud)
	}
	if _, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: role}); err != nil {
		t.Fatalf("DeleteRolePermissionsBoundary: %v", err)
	}
	if gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: role}); err != nil || gr.Role.PermissionsBoundary != nil {
		t.Errorf("GetRole after DeleteRolePermissionsBoundary: %v %+v", err, gr)
	}
	if _, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: role, PermissionsBoundary: aws.String(power)}); err != nil {
		t.Fatalf("PutRolePermissionsBoundary: %v", err)
	}
	if gr, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: role}); err != nil || gr.Role.PermissionsBoundary == nil ||
		aws.ToString(gr.Role.PermissionsBoundary.PermissionsBoundaryArn) != power {
		t.Errorf("GetRole after PutRolePermissionsBoundary: %v %+v", err, gr)
	}
	var keys []string
	pages := 0
	for p := iam.NewListRoleTagsPaginator(c, &iam.ListRoleTagsInput{RoleName: role, MaxItems: aws.Int32(1)}); p.HasMorePages() && pages < 10; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListRoleTags: %v", err)
		}
		for _, tg := range page.Tags {
			keys = append(keys, aws.ToString(tg.Key))
		}
	}
	if strings.Join(keys, ",") != "a,b,c" || pages != 3 {
		t.Errorf("ListRoleTags paginated: %d pages, %v", pages, keys)
	}

	// terraform destroy of the role.
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: role, PolicyName: aws.String("inline"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String(power)}); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	for p := iam.NewListInstanceProfilesForRolePaginator(c, &iam.ListInstanceProfilesForRoleInput{RoleName: role}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil || len(page.InstanceProfiles) != 0 {
			t.Fatalf("ListInstanceProfilesForRole: %v %+v", err, page)
		}
	}
	_, err = c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{RoleName: role, InstanceProfileName: role})
	wantErr("RemoveRoleFromInstanceProfile", err, &types.NoSuchEntityException{}, "NoSuchEntity", "Instance Profile tf-role cannot be found.")
	for p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: role}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAttachedRolePolicies: %v", err)
		}
		for _, a := range page.AttachedPolicies {
			if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: role, PolicyArn: a.PolicyArn}); err != nil {
				t.Fatalf("DetachRolePolicy: %v", err)
			}
		}
	}
	for p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: role}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListRolePolicies: %v", err)
		}
		for _, n := range page.PolicyNames {
			if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String(n)}); err != nil {
				t.Fatalf("DeleteRolePolicy: %v", err)
			}
		}
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: role}); err != nil {
		t.Fatalf("DeleteRole after the Terraform sequence: %v", err)
	}
	_, err = c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: role})
	wantErr("ListInstanceProfilesForRole of a deleted role", err, &types.NoSuchEntityException{}, "NoSuchEntity", "The role with name tf-role cannot be found.")

	// A user with two keys and a boundary; terraform destroy (force_destroy).
	user := aws.String("tf-user")
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: user, PermissionsBoundary: aws.String(readOnly)}); err != nil {
		t.Fatalf("CreateUser with a boundary: %v", err)
	}
	if _, err := c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: user}); err != nil {
		t.Fatalf("DeleteUserPermissionsBoundary: %v", err)
	}
	if _, err := c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: user, PermissionsBoundary: aws.String(readOnly)}); err != nil {
		t.Fatalf("PutUserPermissionsBoundary: %v", err)
	}
	if gu, err := c.GetUser(ctx, &iam.GetUserInput{UserName: user}); err != nil || gu.User.PermissionsBoundary == nil ||
		aws.ToString(gu.User.PermissionsBoundary.PermissionsBoundaryArn) != readOnly {
		t.Errorf("GetUser boundary: %v %+v", err, gu)
	}
	for range 2 {
		if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: user}); err != nil {
			t.Fatalf("CreateAccessKey: %v", err)
		}
	}
	_, err = c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("ghost")})
	wantErr("ListGroupsForUser ghost", err, &types.NoSuchEntityException{}, "NoSuchEntity", "The user with name ghost cannot be found.")
	for p := iam.NewListGroupsForUserPaginator(c, &iam.ListGroupsForUserInput{UserName: user}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil || len(page.Groups) != 0 {
			t.Fatalf("ListGroupsForUser: %v %+v", err, page)
		}
	}
	// force_destroy: MFA devices, SSH keys, the login profile, signing
	// certificates and service-specific credentials, none on berth.
	if out, err := c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned}); err != nil ||
		len(out.VirtualMFADevices) != 0 || out.IsTruncated {
		t.Errorf("ListVirtualMFADevices: %v %+v", err, out)
	}
	if out, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: user}); err != nil || len(out.MFADevices) != 0 {
		t.Errorf("ListMFADevices: %v %+v", err, out)
	}
	if out, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: user}); err != nil || len(out.SSHPublicKeys) != 0 {
		t.Errorf("ListSSHPublicKeys: %v %+v", err, out)
	}
	if out, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: user}); err != nil || len(out.Certificates) != 0 {
		t.Errorf("ListSigningCertificates: %v %+v", err, out)
	}
	if out, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: user}); err != nil ||
		len(out.ServiceSpecificCredentials) != 0 {
		t.Errorf("ListServiceSpecificCredentials: %v %+v", err, out)
	}
	_, err = c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: user})
	wantErr("DeleteLoginProfile", err, &types.NoSuchEntityException{}, "NoSuchEntity", "Login Profile for User tf-user cannot be found.")
	var ids []*string
	pages = 0
	for p := iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: user, MaxItems: aws.Int32(1)}); p.HasMorePages() && pages < 10; pages++ {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccessKeys: %v", err)
		}
		for _, k := range page.AccessKeyMetadata {
			ids = append(ids, k.AccessKeyId)
		}
	}
	if len(ids) != 2 || pages != 2 {
		t.Errorf("ListAccessKeys one a page: %d keys in %d pages", len(ids), pages)
	}
	for _, id := range ids {
		if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: user, AccessKeyId: id}); err != nil {
			t.Fatalf("DeleteAccessKey: %v", err)
		}
	}
	if _, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: user}); err != nil {
		t.Fatalf("DeleteUser after its keys: %v", err)
	}

	// Policy tags, as aws_iam_policy reads and updates them.
	arn := "arn:aws:iam::" + account + ":policy/tf-policy"
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("tf-policy"), Tags: []types.Tag{tag("team", "infra")},
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`)}); err != nil {
		t.Fatalf("CreatePolicy with tags: %v", err)
	}
	if _, err := c.TagPolicy(ctx, &iam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: []types.Tag{tag("env", "prod")}}); err != nil {
		t.Fatalf("TagPolicy: %v", err)
	}
	if _, err := c.UntagPolicy(ctx, &iam.UntagPolicyInput{PolicyArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatalf("UntagPolicy: %v", err)
	}
	var ptags []string
	for p := iam.NewListPolicyTagsPaginator(c, &iam.ListPolicyTagsInput{PolicyArn: aws.String(arn)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPolicyTags: %v", err)
		}
		for _, tg := range page.Tags {
			ptags = append(ptags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
	}
	if !slices.Equal(ptags, []string{"env=prod"}) {
		t.Errorf("ListPolicyTags: %v", ptags)
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
}
