package policy

import (
	"reflect"
	"strings"
	"testing"
)

func TestManagedNames(t *testing.T) {
	want := []string{
		"AdministratorAccess",
		"AmazonEC2ContainerRegistryFullAccess",
		"AmazonEC2ContainerRegistryPowerUser",
		"AmazonEC2ContainerRegistryPullOnly",
		"AmazonEC2ContainerRegistryReadOnly",
		"AmazonECSTaskExecutionRolePolicy",
	}
	if got := ManagedNames(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ManagedNames = %v", got)
	}
}

// TestManagedParse: every managed document parses as an identity policy,
// under its published ARN, and is shared rather than re-parsed.
func TestManagedParse(t *testing.T) {
	for _, name := range ManagedNames() {
		arn, p, ok := Managed(name)
		if !ok || p == nil {
			t.Fatalf("%s: not available", name)
		}
		if _, err := Parse(p.Document(), Identity); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		wantARN := "arn:aws:iam::aws:policy/" + name
		if name == "AmazonECSTaskExecutionRolePolicy" {
			wantARN = "arn:aws:iam::aws:policy/service-role/" + name
		}
		if arn != wantARN || p.Version != Version2012 || p.Kind() != Identity {
			t.Fatalf("%s: arn %s version %s", name, arn, p.Version)
		}
		if _, p2, _ := Managed(name); p2 != p {
			t.Fatalf("%s: parsed twice", name)
		}
		if n, p3, ok := ManagedByARN(arn); !ok || n != name || p3 != p {
			t.Fatalf("%s: ManagedByARN", name)
		}
	}
	if _, _, ok := Managed("PowerUserAccess"); ok {
		t.Fatal("unknown managed policy found")
	}
	if _, _, ok := ManagedByARN("arn:aws:iam::aws:policy/Nope"); ok {
		t.Fatal("unknown managed ARN found")
	}
}

// TestManagedActions pins the published action lists (AWS Managed Policy
// Reference; ecr.md 4.4).
func TestManagedActions(t *testing.T) {
	readOnly := []string{"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages", "ecr:DescribeImages", "ecr:BatchGetImage", "ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource", "ecr:DescribeImageScanFindings"}
	want := map[string][][]string{
		"AmazonEC2ContainerRegistryReadOnly":   {readOnly},
		"AmazonEC2ContainerRegistryPowerUser":  {append(append([]string{}, readOnly...), "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage")},
		"AmazonEC2ContainerRegistryPullOnly":   {{"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchImportUpstreamImage"}},
		"AmazonECSTaskExecutionRolePolicy":     {{"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"}},
		"AmazonEC2ContainerRegistryFullAccess": {{"ecr:*", "cloudtrail:LookupEvents"}, {"iam:CreateServiceLinkedRole"}},
	}
	for name, stmts := range want {
		_, p, _ := Managed(name)
		if len(p.Statements) != len(stmts) {
			t.Fatalf("%s: %d statements", name, len(p.Statements))
		}
		for i, actions := range stmts {
			st := p.Statements[i]
			if !reflect.DeepEqual(st.Action, actions) || st.Effect != "Allow" || !reflect.DeepEqual(st.Resource, []string{"*"}) {
				t.Fatalf("%s statement %d: %+v", name, i, st)
			}
		}
	}
	_, full, _ := Managed("AmazonEC2ContainerRegistryFullAccess")
	cond := full.Statements[1].Condition
	if !reflect.DeepEqual(cond, map[string]map[string][]string{"StringEquals": {"iam:AWSServiceName": {"replication.ecr.amazonaws.com"}}}) {
		t.Fatalf("FullAccess condition: %v", cond)
	}
	if !strings.HasPrefix(full.Document(), "{\n    \"Version\": \"2012-10-17\",") {
		t.Fatal("FullAccess document text not kept as published")
	}
}
