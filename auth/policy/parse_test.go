package policy

import (
	"errors"
	"reflect"
	"testing"
)

// TestParseErrors: documents IAM refuses, with IAM's MalformedPolicyDocument
// text. Names say which rule is broken.
func TestParseErrors(t *testing.T) {
	const ok = `{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`
	const princ = `"Principal":{"AWS":"111122223333"}`
	trustStmt := func(extra string) string {
		return doc(`{"Effect":"Allow",` + princ + `,"Action":"sts:AssumeRole"` + extra + `}`)
	}
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		{"syntax/not JSON", Identity, `{"Version":`, msgSyntax},
		{"syntax/empty document", Identity, ``, msgSyntax},
		{"syntax/top level is an array", Identity, `[` + ok + `]`, msgSyntax},
		{"syntax/trailing data", Identity, doc(ok) + ` {}`, msgSyntax},
		{"syntax/unknown top-level field", Identity, `{"Version":"2012-10-17","Statment":[` + ok + `]}`, msgSyntax},
		{"syntax/unknown Version", Identity, `{"Version":"2012-10-18","Statement":[` + ok + `]}`, msgSyntax},
		{"syntax/Version not a string", Identity, `{"Version":20121017,"Statement":[` + ok + `]}`, msgSyntax},
		{"syntax/Id not a string", Identity, `{"Version":"2012-10-17","Id":1,"Statement":[` + ok + `]}`, msgSyntax},
		{"syntax/missing Statement", Identity, `{"Version":"2012-10-17"}`, msgSyntax},
		{"syntax/empty Statement list", Identity, `{"Version":"2012-10-17","Statement":[]}`, msgSyntax},
		{"syntax/Statement is a string", Identity, `{"Version":"2012-10-17","Statement":"allow all"}`, msgSyntax},
		{"syntax/Statement is null", Identity, `{"Version":"2012-10-17","Statement":null}`, msgSyntax},
		{"syntax/unknown statement field", Identity, doc(`{"Effect":"Allow","Actions":"ecr:*","Resource":"*"}`), msgSyntax},
		{"syntax/missing Effect", Identity, doc(`{"Action":"ecr:*","Resource":"*"}`), msgSyntax},
		{"syntax/Effect neither Allow nor Deny", Identity, doc(`{"Effect":"Permit","Action":"ecr:*","Resource":"*"}`), msgSyntax},
		{"syntax/Action and NotAction together", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","NotAction":"s3:*","Resource":"*"}`), msgSyntax},
		{"syntax/Resource and NotResource together", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","NotResource":"*"}`), msgSyntax},
		{"syntax/Principal and NotPrincipal together", Resource, doc(`{"Effect":"Deny",` + princ + `,"NotPrincipal":"*","Action":"ecr:*"}`), msgSyntax},
		{"syntax/Action is a number", Identity, doc(`{"Effect":"Allow","Action":7,"Resource":"*"}`), msgSyntax},
		{"syntax/Action list holds a non-string", Identity, doc(`{"Effect":"Allow","Action":["ecr:*",true],"Resource":"*"}`), msgSyntax},
		{"syntax/Resource is an object", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":{"arn":"*"}}`), msgSyntax},
		{"syntax/Sid is a number", Identity, doc(`{"Sid":1,"Effect":"Allow","Action":"ecr:*","Resource":"*"}`), msgSyntax},
		{"syntax/Condition is a list", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":[]}`), msgSyntax},
		{"syntax/Condition without operator (cfn-lint#3751)", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"servicecatalog:accountLevel":"self"}}`), msgSyntax},
		{"syntax/unknown condition operator", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}`), msgSyntax},
		{"syntax/condition operator names are case-sensitive", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"stringequals":{"aws:username":"a"}}}`), msgSyntax},
		{"syntax/Null takes no IfExists", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}`), msgSyntax},
		{"syntax/unknown set operator", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}}`), msgSyntax},
		{"syntax/condition value is an object", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":"b"}}}}`), msgSyntax},
		{"syntax/condition value is null", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}`), msgSyntax},
		{"syntax/Principal is a non-* string", Resource, doc(`{"Effect":"Allow","Principal":"arn:aws:iam::111122223333:root","Action":"ecr:*"}`), msgSyntax},
		{"syntax/unknown principal type", Resource, doc(`{"Effect":"Allow","Principal":{"IAM":"111122223333"},"Action":"ecr:*"}`), msgSyntax},
		{"syntax/empty Principal object", Resource, doc(`{"Effect":"Allow","Principal":{},"Action":"ecr:*"}`), msgSyntax},
		{"syntax/empty principal list", Trust, doc(`{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}`), msgSyntax},
		{"legacy/Effect in lower case", Identity, doc(`{"Effect":"allow","Action":"ecr:*","Resource":"*"}`), msgLegacy},
		{"legacy/unreadable date", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-13-45T00:00:00Z"}}}`), msgLegacy},
		{"legacy/non-numeric epoch", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"soon"}}}`), msgLegacy},
		{"legacy/ARN with :: but too few fields", Identity, doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::bucket"}`), msgLegacy},
		{"kind/identity policy with Principal", Identity, doc(`{"Effect":"Allow",` + princ + `,"Action":"ecr:*","Resource":"*"}`), msgNoPrincipal},
		{"kind/identity policy with NotPrincipal", Identity, doc(`{"Effect":"Deny","NotPrincipal":"*","Action":"ecr:*","Resource":"*"}`), msgNoPrincipal},
		{"kind/repository policy without Principal", Resource, doc(`{"Effect":"Allow","Action":"ecr:*"}`), msgMissingPrinc},
		{"kind/registry policy without Principal", Registry, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*"}`), msgMissingPrinc},
		{"kind/trust policy without Principal", Trust, doc(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), msgMissingPrinc},
		{"kind/trust policy with Resource", Trust, trustStmt(`,"Resource":"*"`), msgProhibitedRes},
		{"kind/trust policy with NotResource", Trust, trustStmt(`,"NotResource":"*"`), msgProhibitedNotRs},
		{"sid/identity Sid with a hyphen", Identity, doc(`{"Sid":"allow-all","Effect":"Allow","Action":"ecr:*","Resource":"*"}`), msgSidAlnum},
		{"sid/trust Sid with a space", Trust, doc(`{"Sid":"Let them","Effect":"Allow",` + princ + `,"Action":"sts:AssumeRole"}`), msgSidAlnum},
		{"sid/identity duplicate Sids", Identity, doc(`{"Sid":"A","Effect":"Allow","Action":"ecr:*","Resource":"*"}`, `{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}`), msgSidUnique},
		{"sid/trust duplicate Sids", Trust, doc(`{"Sid":"A","Effect":"Allow",`+princ+`,"Action":"sts:AssumeRole"}`, `{"Sid":"A","Effect":"Allow",`+princ+`,"Action":"sts:TagSession"}`), msgSidUnique},
		{"sid/registry duplicate Sids", Registry, doc(`{"Sid":"r","Effect":"Allow",`+princ+`,"Action":"ecr:*","Resource":"*"}`, `{"Sid":"r","Effect":"Allow",`+princ+`,"Action":"ecr:*","Resource":"*"}`), msgSidUnique},
		{"actions/missing Action", Identity, doc(`{"Effect":"Allow","Resource":"*"}`), msgNoActions},
		{"actions/empty Action list", Identity, doc(`{"Effect":"Allow","Action":[],"Resource":"*"}`), msgNoActions},
		{"actions/repository policy without Action", Resource, doc(`{"Effect":"Allow",` + princ + `}`), msgNoActions},
		{"resources/identity policy without Resource", Identity, doc(`{"Effect":"Allow","Action":"ecr:*"}`), msgNoResources},
		{"resources/empty Resource list", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":[]}`), msgNoResources},
		{"resources/registry policy without Resource", Registry, doc(`{"Effect":"Allow",` + princ + `,"Action":"ecr:*"}`), msgNoResources},
		{"resources/not an ARN", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"174313347505.dkr.ecr.us-west-2.amazonaws.com/app"}`), `Resource 174313347505.dkr.ecr.us-west-2.amazonaws.com/app must be in ARN format or "*".`},
		{"resources/empty string (gitlab-runner#1257)", Identity, doc(`{"Effect":"Allow","Action":"kms:Decrypt","Resource":""}`), `Resource  must be in ARN format or "*".`},
		{"resources/repository policy Resource not an ARN", Resource, doc(`{"Effect":"Allow",` + princ + `,"Action":"ecr:*","Resource":"my-repo"}`), `Resource my-repo must be in ARN format or "*".`},
		{"actions/no vendor prefix", Identity, doc(`{"Effect":"Allow","Action":"BatchGetImage","Resource":"*"}`), msgVendor},
		{"actions/two colons (kappa#111)", Identity, doc(`{"Effect":"Allow","Action":"ecr:Batch:GetImage","Resource":"*"}`), msgOneColon},
		{"actions/invalid vendor characters", Identity, doc(`{"Effect":"Allow","Action":"ec_r:GetImage","Resource":"*"}`), "Vendor ec_r is not valid"},
		{"actions/empty vendor", Identity, doc(`{"Effect":"Allow","Action":":GetImage","Resource":"*"}`), "Vendor  is not valid"},
		{"actions/trust policy with a non-sts action", Trust, doc(`{"Effect":"Allow",` + princ + `,"Action":"s3:GetObject"}`), msgTrustActions},
		{"actions/trust policy with action *", Trust, doc(`{"Effect":"Allow",` + princ + `,"Action":"*"}`), msgTrustActions},
		{"principal/not an account or ARN", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":"foo"},"Action":"ecr:*"}`), `Invalid principal in policy: "AWS":"foo"`},
		{"principal/wildcard in a user ARN", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/*"},"Action":"ecr:*"}`), `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/*"`},
		{"principal/wildcard account in a root ARN", Trust, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "AWS":"arn:aws:iam::*:root"`},
		{"principal/wildcard session name", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/deploy/*"},"Action":"ecr:*"}`), `Invalid principal in policy: "AWS":"arn:aws:sts::111122223333:assumed-role/deploy/*"`},
		{"principal/account id of eleven digits", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":["111122223333","11112222333"]},"Action":"ecr:*"}`), `Invalid principal in policy: "AWS":"11112222333"`},
		{"principal/group ARN is not a principal", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:group/devs"},"Action":"ecr:*"}`), `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:group/devs"`},
		{"principal/Service * is not the anonymous wildcard", Trust, doc(`{"Effect":"Allow","Principal":{"Service":"*"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "SERVICE":"*"`},
		{"principal/Service with a space", Trust, doc(`{"Effect":"Allow","Principal":{"Service":"code build.amazonaws.com"},"Action":"sts:AssumeRole"}`), `Invalid principal in policy: "SERVICE":"code build.amazonaws.com"`},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d parse-error cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.doc, c.kind)
			if err == nil {
				t.Fatalf("parsed (%d statements), want %q", len(p.Statements), c.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T is not *Error", err)
			}
			if perr.Message != c.want || err.Error() != c.want {
				t.Fatalf("message = %q, want %q", perr.Message, c.want)
			}
		})
	}
}

// TestParseAccepts: documents IAM (or ECR) accepts, some of them only for a
// given kind.
func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
	}{
		{"repository policy with duplicate Sids (moto set_repository_policy)", Resource, doc(`{"Sid":"a","Effect":"Allow","Principal":"*","Action":"ecr:*"}`, `{"Sid":"a","Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"}`)},
		{"repository policy Sid with spaces", Resource, doc(`{"Sid":"allow pull","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}`)},
		{"registry policy Sid with a hyphen", Registry, doc(`{"Sid":"replicate-to-b","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:111122223333:repository/*"}`)},
		{"repository policy 2008-10-17 without Resource", Resource, doc08(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["ecr:BatchGetImage"]}`)},
		{"identity policy without Version", Identity, `{"Statement":{"Effect":"Allow","Action":"ecr:*","Resource":"*"}}`},
		{"Id element", Identity, `{"Version":"2012-10-17","Id":"Policy1","Statement":[{"Effect":"Allow","Action":"ecr:*","Resource":"*"}]}`},
		{"empty Sid", Identity, doc(`{"Sid":"","Effect":"Allow","Action":"ecr:*","Resource":"*"}`, `{"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"*"}`)},
		{"unknown operator with an empty block (moto)", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"Whatever":{}}}`)},
		{"numbers and booleans as condition values", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"NumericLessThan":{"ecr:n":[1,2.5]},"Bool":{"aws:SecureTransport":true}}}`)},
		{"every operator with qualifiers", Identity, doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"a*"},"ForAllValues:ArnNotLikeIfExists":{"aws:SourceArn":"arn:*:*:*:*:*"},"DateGreaterThanEqualsIfExists":{"aws:CurrentTime":"2020-01-01"},"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"},"BinaryEqualsIfExists":{"k:b":"YQ=="},"Null":{"k:n":"true"}}}`)},
		{"every principal form", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":["*","111122223333","arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/path/alice","arn:aws:iam::111122223333:role/service-role/r","arn:aws:sts::111122223333:assumed-role/r/s","arn:aws:sts::111122223333:federated-user/f","AIDAJQABLZS4A3QDU576Q"],"Service":["codebuild.amazonaws.com"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"ecr:*"}`)},
		{"aws-cn partition principal", Resource, doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws-cn:iam::111122223333:root"},"Action":"ecr:*"}`)},
		{"trust policy with NotAction sts", Trust, doc(`{"Effect":"Deny","Principal":"*","NotAction":"sts:AssumeRole"}`)},
		{"trust policy with NotPrincipal", Trust, doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"sts:*"}`)},
		{"vendor wildcard action", Identity, doc(`{"Effect":"Allow","Action":"*:Describe*","Resource":"*"}`)},
		{"2008 document keeps ${} as text", Identity, doc08(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*"}`)},
		{"unterminated variable is text", Identity, doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username"}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Parse(c.doc, c.kind)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if p.Kind() != c.kind || p.Document() != c.doc {
				t.Fatalf("Kind/Document not kept")
			}
		})
	}
}

func TestParseUnknownKind(t *testing.T) {
	if _, err := Parse(doc(allowECR), Kind(0)); err == nil {
		t.Fatal("Kind(0) accepted")
	}
}

// TestParseStatements: the exported view of a statement is what was
// written.
func TestParseStatements(t *testing.T) {
	p, err := Parse(`{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"S","Effect":"Deny","Principal":"*","NotAction":["ecr:BatchGetImage"],"Resource":"arn:aws:ecr:*:*:repository/*","Condition":{"NumericLessThan":{"ecr:N":5}}}}`, Resource)
	if err != nil {
		t.Fatal(err)
	}
	want := Statement{
		Sid: "S", Effect: "Deny",
		Principal: map[string][]string{"AWS": {"*"}},
		NotAction: []string{"ecr:BatchGetImage"},
		Resource:  []string{"arn:aws:ecr:*:*:repository/*"},
		Condition: map[string]map[string][]string{"NumericLessThan": {"ecr:N": {"5"}}},
	}
	if p.Version != Version2012 || p.ID != "x" || len(p.Statements) != 1 || !reflect.DeepEqual(p.Statements[0], want) {
		t.Fatalf("got %+v", p.Statements)
	}
}

// TestParseErrorOrder: IAM reports the class of error, not the first
// statement with an error: syntax before legacy parsing before the rest.
func TestParseErrorOrder(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		doc  string
		want string
	}{
		{"syntax in statement 2 beats bad date in statement 1", Identity, doc(
			`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"never"}}}`,
			`{"Effect":"Allow","Action":"ecr:*","Resource":"*","Condition":{"Nope":{"k:k":"v"}}}`), msgSyntax},
		{"principal shape in statement 2 beats lower-case Effect in statement 1", Resource, doc(
			`{"Effect":"allow","Principal":"*","Action":"ecr:*"}`,
			`{"Effect":"Allow","Principal":{"Nobody":"x"},"Action":"ecr:*"}`), msgSyntax},
		{"legacy beats a principal in an identity policy", Identity, doc(
			`{"Effect":"Allow","Principal":"*","Action":"ecr:*","Resource":"*"}`,
			`{"Effect":"deny","Action":"ecr:*","Resource":"*"}`), msgLegacy},
		{"duplicate Sid beats missing actions", Identity, doc(
			`{"Sid":"A","Effect":"Allow","Resource":"*"}`,
			`{"Sid":"A","Effect":"Allow","Action":"ecr:*","Resource":"*"}`), msgSidUnique},
		{"missing resources beats a bad ARN elsewhere", Identity, doc(
			`{"Effect":"Allow","Action":"ecr:*","Resource":"repo"}`,
			`{"Effect":"Allow","Action":"ecr:*"}`), msgNoResources},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.doc, c.kind)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
