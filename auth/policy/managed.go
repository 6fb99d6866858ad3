package policy

import (
	"sort"
	"sync"
)

// managedPolicy is an AWS managed policy: its ARN and its document as AWS
// publishes it (default version; sources: the AWS Managed Policy Reference
// and the Amazon ECR User Guide, "AWS managed policies for Amazon ECR").
type managedPolicy struct {
	arn string
	doc string
}

var managedDocs = map[string]managedPolicy{
	// v1: everything; berth's bootstrap admin holds it.
	"AdministratorAccess": {
		arn: "arn:aws:iam::aws:policy/AdministratorAccess",
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}`,
	},
	// v3, edited 2020-12-05.
	"AmazonEC2ContainerRegistryFullAccess": {
		arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess",
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:*",
                "cloudtrail:LookupEvents"
            ],
            "Resource": "*"
        },
        {
            "Effect": "Allow",
            "Action": [
                "iam:CreateServiceLinkedRole"
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:AWSServiceName": [
                        "replication.ecr.amazonaws.com"
                    ]
                }
            }
        }
    ]
}`,
	},
	// v3, edited 2019-12-10.
	"AmazonEC2ContainerRegistryPowerUser": {
		arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser",
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:GetRepositoryPolicy",
                "ecr:DescribeRepositories",
                "ecr:ListImages",
                "ecr:DescribeImages",
                "ecr:BatchGetImage",
                "ecr:GetLifecyclePolicy",
                "ecr:GetLifecyclePolicyPreview",
                "ecr:ListTagsForResource",
                "ecr:DescribeImageScanFindings",
                "ecr:InitiateLayerUpload",
                "ecr:UploadLayerPart",
                "ecr:CompleteLayerUpload",
                "ecr:PutImage"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	// v3, edited 2019-12-10.
	"AmazonEC2ContainerRegistryReadOnly": {
		arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:GetRepositoryPolicy",
                "ecr:DescribeRepositories",
                "ecr:ListImages",
                "ecr:DescribeImages",
                "ecr:BatchGetImage",
                "ecr:GetLifecyclePolicy",
                "ecr:GetLifecyclePolicyPreview",
                "ecr:ListTagsForResource",
                "ecr:DescribeImageScanFindings"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	// v1, 2024-10-04.
	"AmazonEC2ContainerRegistryPullOnly": {
		arn: "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchImportUpstreamImage"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	// v1, 2017-11-16; a service-role policy, hence the path in its ARN.
	"AmazonECSTaskExecutionRolePolicy": {
		arn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
}

// managedParsed parses every managed document once, on first use.
var managedParsed = sync.OnceValue(func() map[string]*Policy {
	out := make(map[string]*Policy, len(managedDocs))
	for name, m := range managedDocs {
		p, err := parse(m.doc, Identity)
		if err != nil {
			continue // unreachable: TestManagedParse parses every document
		}
		out[name] = p
	}
	return out
})

// Managed returns the AWS managed policy called name (e.g.
// "AmazonEC2ContainerRegistryPowerUser"): its ARN and parsed document. The
// *Policy is shared; do not modify it.
func Managed(name string) (arn string, p *Policy, ok bool) {
	m, ok := managedDocs[name]
	if !ok {
		return "", nil, false
	}
	p, ok = managedParsed()[name]
	return m.arn, p, ok
}

// ManagedByARN is Managed keyed by policy ARN.
func ManagedByARN(arn string) (name string, p *Policy, ok bool) {
	for n, m := range managedDocs {
		if m.arn == arn {
			_, p, ok = Managed(n)
			return n, p, ok
		}
	}
	return "", nil, false
}

// ManagedNames lists the managed policies Managed knows, sorted.
func ManagedNames() []string {
	names := make([]string, 0, len(managedDocs))
	for n := range managedDocs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
