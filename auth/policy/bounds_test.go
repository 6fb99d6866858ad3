package policy

import "testing"

// Permissions boundaries and session policies cap whatever the identity
// and resource sides allow, sts:AssumeRole included; AWS's messages name a
// boundary as "permissions boundary" (no "policy").
func TestBoundsCapEveryDecision(t *testing.T) {
	parse := func(d string, k Kind) *Policy {
		t.Helper()
		p, err := Parse(d, k)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ecrAll := []Named{{Name: "id", Policy: parse(doc(allowECR, `{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}`), Identity)}}
	pullOnly := []Named{{Name: "cap", Policy: parse(doc(`{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}`), Identity)}}
	denyPull := []Named{{Name: "cap", Policy: parse(doc(allowECR, `{"Effect":"Deny","Action":"ecr:BatchGetImage","Resource":"*"}`), Identity)}}
	trust := []Named{{Name: "trust", Policy: parse(doc(`{"Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"sts:AssumeRole"}`), Trust)}}
	target := "arn:aws:iam::111122223333:role/other"
	cases := []struct {
		name    string
		req     Request
		set     Set
		want    Effect
		message string
	}{
		{"boundary allows what identity allows", rq(alice, "ecr:BatchGetImage"), Set{Identity: ecrAll, Bounded: true, Boundary: pullOnly}, Allow, ""},
		{"boundary caps identity", rq(alice, "ecr:PutImage"), Set{Identity: ecrAll, Bounded: true, Boundary: pullOnly}, ImplicitDeny,
			"User: " + alice.ARN + " is not authorized to perform: ecr:PutImage on resource: " + repoARN + " because no permissions boundary allows the ecr:PutImage action"},
		{"boundary grants nothing by itself", rq(alice, "ecr:BatchGetImage"), Set{Bounded: true, Boundary: pullOnly}, ImplicitDeny,
			"User: " + alice.ARN + " is not authorized to perform: ecr:BatchGetImage on resource: " + repoARN + " because no identity-based policy allows the ecr:BatchGetImage action"},
		{"deny in boundary", rq(alice, "ecr:BatchGetImage"), Set{Identity: ecrAll, Bounded: true, Boundary: denyPull}, ExplicitDeny,
			"User: " + alice.ARN + " is not authorized to perform: ecr:BatchGetImage on resource: " + repoARN + " with an explicit deny in a permissions boundary"},
		{"deleted boundary allows nothing", rq(alice, "ecr:BatchGetImage"), Set{Identity: ecrAll, Bounded: true}, ImplicitDeny, ""},
		{"boundary and session policy both cap", rq(deploy, "ecr:BatchGetImage"), Set{Identity: ecrAll, Bounded: true, Boundary: pullOnly, Scoped: true, Session: pullOnly}, Allow, ""},
		{"session policy caps AssumeRole", on(rq(deploy, "sts:AssumeRole"), target), Set{Identity: ecrAll, Resource: trust, Trust: true, Scoped: true, Session: pullOnly}, ImplicitDeny,
			"User: " + deploy.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + target + " because no session policy allows the sts:AssumeRole action"},
		{"session policy allowing AssumeRole", on(rq(deploy, "sts:AssumeRole"), target), Set{Identity: ecrAll, Resource: trust, Trust: true, Scoped: true, Session: ecrAll}, Allow, ""},
		{"boundary caps AssumeRole", on(rq(deploy, "sts:AssumeRole"), target), Set{Identity: ecrAll, Resource: trust, Trust: true, Bounded: true, Boundary: pullOnly}, ImplicitDeny, ""},
		{"unscoped session assumes", on(rq(deploy, "sts:AssumeRole"), target), Set{Identity: ecrAll, Resource: trust, Trust: true}, Allow, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Evaluate(c.req, c.set)
			if d.Effect != c.want {
				t.Fatalf("effect %v, want %v (%+v)", d.Effect, c.want, d)
			}
			if c.message != "" && d.Message(c.req) != c.message {
				t.Fatalf("message\n  %q\nwant %q", d.Message(c.req), c.message)
			}
		})
	}
}
