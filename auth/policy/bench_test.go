package policy

import "testing"

// benchSet is a typical registry evaluation: a role session carrying
// AmazonEC2ContainerRegistryPowerUser and an inline policy, against a
// repository with a cross-account pull policy and a guard.
func benchSet(b *testing.B) Set {
	b.Helper()
	arn, pu, _ := Managed("AmazonEC2ContainerRegistryPowerUser")
	inline, err := Parse(doc(`{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:111122223333:log-group:/ecs/*"}`,
		`{"Sid":"NoProd","Effect":"Deny","Action":["ecr:PutImage","ecr:DeleteRepository"],"Resource":"arn:aws:ecr:*:*:repository/prod/*"}`), Identity)
	if err != nil {
		b.Fatal(err)
	}
	repo, err := Parse(doc(`{"Sid":"CrossAccountPull","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::777788889999:role/puller"]},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}`,
		`{"Sid":"CodeBuild","Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}`,
		`{"Sid":"TLSOnly","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`), Resource)
	if err != nil {
		b.Fatal(err)
	}
	return Set{
		Identity: []Named{{Name: arn, Policy: pu}, {Name: "inline:deploy/extra", Policy: inline}},
		Resource: []Named{{Name: "repository policy", Policy: repo}},
	}
}

func benchRequest(action string) Request {
	r := rq(deploy, action)
	r.Context = Context{}
	r.Context.Set("aws:SecureTransport", "true")
	r.Context.Set("aws:SourceIp", "203.0.113.9")
	return r
}

func BenchmarkEvaluatePowerUserPush(b *testing.B) {
	s := benchSet(b)
	r := benchRequest("ecr:PutImage")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := Evaluate(r, s); !d.Allowed() {
			b.Fatal(d)
		}
	}
}

func BenchmarkEvaluatePowerUserDenied(b *testing.B) {
	s := benchSet(b)
	r := benchRequest("ecr:DeleteRepository")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := Evaluate(r, s); d.Allowed() {
			b.Fatal(d)
		}
	}
}

func BenchmarkEvaluateCrossAccountPull(b *testing.B) {
	s := benchSet(b)
	s.Identity = s.Identity[:1]
	r := owned(benchRequest("ecr:BatchGetImage"), acctA)
	r.Principal = bob
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := Evaluate(r, s); !d.Allowed() {
			b.Fatal(d)
		}
	}
}

func BenchmarkEvaluateConditionsAndVariables(b *testing.B) {
	p, err := Parse(doc(`{"Effect":"Allow","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.0/24"]},"StringEquals":{"ecr:ResourceTag/team":"${aws:PrincipalTag/team}"},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`), Identity)
	if err != nil {
		b.Fatal(err)
	}
	s := Set{Identity: []Named{{Name: "p", Policy: p}}}
	r := on(benchRequest("ecr:BatchGetImage"), "arn:aws:ecr:us-east-1:111122223333:repository/web/api")
	r.Context.Set("aws:PrincipalTag/team", "web")
	r.Context.Set("ecr:ResourceTag/team", "web")
	r.Context.Set("aws:CurrentTime", "2025-06-01T12:00:00Z")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := Evaluate(r, s); !d.Allowed() {
			b.Fatal(d)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	_, pu, _ := Managed("AmazonEC2ContainerRegistryFullAccess")
	text := pu.Document()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(text, Identity); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateBoundedSessionPush is a push by a role session with a
// session policy and a permissions boundary: the two extra policy sets a
// bounded, scoped session adds to every decision.
func BenchmarkEvaluateBoundedSessionPush(b *testing.B) {
	s := benchSet(b)
	_, power, _ := Managed("AmazonEC2ContainerRegistryPowerUser")
	s.Scoped, s.Session = true, []Named{{Name: "session", Policy: power}}
	s.Bounded, s.Boundary = true, []Named{{Name: "boundary", Policy: power}}
	r := benchRequest("ecr:PutImage")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d := Evaluate(r, s); !d.Allowed() {
			b.Fatal(d)
		}
	}
}
