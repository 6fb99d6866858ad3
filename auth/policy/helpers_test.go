package policy

import "strings"

const (
	acctA   = "111122223333"
	acctB   = "444455556666"
	repoARN = "arn:aws:ecr:us-east-1:111122223333:repository/team/app"
	roleARN = "arn:aws:iam::111122223333:role/deploy"
)

var (
	alice     = Principal{Type: User, ARN: "arn:aws:iam::111122223333:user/alice", Account: acctA}
	carol     = Principal{Type: User, ARN: "arn:aws:iam::111122223333:user/dev/carol", Account: acctA}
	bob       = Principal{Type: User, ARN: "arn:aws:iam::444455556666:user/bob", Account: acctB}
	deploy    = Principal{Type: AssumedRole, ARN: "arn:aws:sts::111122223333:assumed-role/deploy/ci-run", Account: acctA, RoleARN: roleARN}
	puller    = Principal{Type: AssumedRole, ARN: "arn:aws:sts::444455556666:assumed-role/puller/s1", Account: acctB, RoleARN: "arn:aws:iam::444455556666:role/puller"}
	root      = Principal{Type: Root, ARN: "arn:aws:iam::111122223333:root", Account: acctA}
	rootB     = Principal{Type: Root, ARN: "arn:aws:iam::444455556666:root", Account: acctB}
	codebuild = Principal{Type: Service, ARN: "codebuild.amazonaws.com"}
	anon      = Principal{Type: Anonymous, ARN: "anonymous"}
)

// rq is p asking for action on the test repository.
func rq(p Principal, action string) Request {
	return Request{Principal: p, Action: action, Resource: repoARN}
}

// on changes the resource.
func on(r Request, resource string) Request { r.Resource = resource; return r }

// owned puts the resource in another account.
func owned(r Request, account string) Request { r.ResourceAccount = account; return r }

// with adds a context key (a fresh Context each time, so cases do not share).
func with(r Request, key string, vals ...string) Request {
	c := Context{}
	for k, v := range r.Context {
		c[k] = v
	}
	c.Set(key, vals...)
	r.Context = c
	return r
}

// doc is a 2012-10-17 document with the given statements.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// doc08 is a 2008-10-17 document.
func doc08(stmts ...string) string {
	return `{"Version":"2008-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// allowIf is an identity policy allowing ecr:BatchGetImage on everything
// when cond holds.
func allowIf(cond string) string {
	return doc(`{"Sid":"Cond","Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*","Condition":` + cond + `}`)
}

// denyIf is an identity policy that allows ecr:* but denies it when cond
// holds.
func denyIf(cond string) string {
	return doc(`{"Sid":"All","Effect":"Allow","Action":"ecr:*","Resource":"*"}`,
		`{"Sid":"Guard","Effect":"Deny","Action":"ecr:*","Resource":"*","Condition":`+cond+`}`)
}

const allowECR = `{"Sid":"All","Effect":"Allow","Action":"ecr:*","Resource":"*"}`
