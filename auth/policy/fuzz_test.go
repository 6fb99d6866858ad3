package policy

import "testing"

// FuzzParse: no input makes Parse or Evaluate panic, and an error is always
// an *Error with a message.
func FuzzParse(f *testing.F) {
	seeds := []string{
		doc(allowECR),
		doc(`{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r","arn:aws:sts::111122223333:assumed-role/r/s"],"Service":"codebuild.amazonaws.com"},"Action":"ecr:*"}`),
		doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"NotAction":"ecr:Get*","NotResource":"arn:aws:ecr:*:*:repository/${aws:username, 'x'}/*"}`),
		doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["a*","${*}"]},"DateLessThan":{"aws:CurrentTime":"1700000000"},"IpAddress":{"aws:SourceIp":"::1/128"},"Null":{"k:x":"true"},"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b/${aws:PrincipalTag/t}"},"NumericEquals":{"k:n":1.5},"Bool":{"k:b":true},"BinaryEquals":{"k:c":"YQ=="}}}`),
		doc08(`{"Sid":"x y","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}`),
		`{"Statement":{"Effect":"allow","Action":"a:b","Resource":"arn:aws:s3::x"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::*:root"}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${${${"}]}`,
		``, `null`, `[]`, `{"Statement":[null]}`,
	}
	for _, s := range seeds {
		for k := Identity; k <= Trust; k++ {
			f.Add(s, int(k))
		}
	}
	reqs := []Request{
		with(rq(alice, "ecr:BatchGetImage"), "aws:TagKeys", "a", "b"),
		owned(rq(bob, "sts:AssumeRole"), acctA),
		with(rq(deploy, "ECR:PUTIMAGE"), "aws:PrincipalTag/t", "*"),
		on(rq(codebuild, "ecr:GetAuthorizationToken"), "*"),
		on(rq(anon, ""), ""),
	}
	f.Fuzz(func(t *testing.T, text string, kind int) {
		k := Kind(kind%4 + 1)
		p, err := Parse(text, k)
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Message == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		for _, r := range reqs {
			named := []Named{{Name: "fuzz", Policy: p}}
			d := Evaluate(r, Set{Identity: named, Resource: named, Trust: k == Trust})
			_ = d.Message(r)
		}
	})
}
