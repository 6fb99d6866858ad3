package policy

import (
	"reflect"
	"testing"
)

func TestContext(t *testing.T) {
	c := Context{}
	vals := []string{"a", "b"}
	c.Set("AWS:TagKeys", vals...)
	vals[0] = "changed"
	if got, ok := c.Get("aws:tagkeys"); !ok || !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("Get = %v %v", got, ok)
	}
	if _, ok := c["aws:tagkeys"]; !ok {
		t.Fatal("key not stored lower-cased")
	}
	if _, ok := c.Get("aws:username"); ok {
		t.Fatal("absent key found")
	}
}

// TestDerivedKeys: the global keys AWS fills in from the principal.
func TestDerivedKeys(t *testing.T) {
	cases := []struct {
		p        Principal
		resource string
		key      string
		want     string // "" means absent
	}{
		{alice, "", "aws:principalarn", alice.ARN},
		{deploy, "", "aws:principalarn", roleARN},
		{root, "", "aws:principalarn", root.ARN},
		{codebuild, "", "aws:principalarn", ""},
		{alice, "", "aws:principalaccount", acctA},
		{codebuild, "", "aws:principalaccount", ""},
		{alice, "", "aws:principaltype", "User"},
		{deploy, "", "aws:principaltype", "AssumedRole"},
		{root, "", "aws:principaltype", "Account"},
		{anon, "", "aws:principaltype", "Anonymous"},
		{carol, "", "aws:username", "carol"},
		{deploy, "", "aws:username", ""},
		{codebuild, "", "aws:principalservicename", "codebuild.amazonaws.com"},
		{alice, "", "aws:resourceaccount", acctA},
		{bob, acctA, "aws:resourceaccount", acctA},
		{alice, "", "aws:userid", ""},
	}
	for _, c := range cases {
		r := Request{Principal: c.p, ResourceAccount: c.resource}
		ec := evalCtx{r: &r}
		v := ec.lookup(c.key)
		got := ""
		if v.n == 1 {
			got = v.at(0)
		}
		if got != c.want || (c.want == "") != (v.n == 0) {
			t.Errorf("%s for %s = %q (n=%d), want %q", c.key, c.p.ARN, got, v.n, c.want)
		}
	}
}

// TestGlob exercises the matcher directly, including backtracking.
func TestGlob(t *testing.T) {
	cases := []struct {
		pat, s string
		fold   bool
		want   bool
	}{
		{"*", "", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbYcZ", false, false},
		{"*ab", "aab", false, true},
		{"*aab", "aaab", false, true},
		{"a**b", "ab", false, true},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"ecr:*", "ECR:Get", true, true},
		{"ECR:GET*", "ecr:getx", true, true},
		{"ecr:*", "ECR:Get", false, false},
		{"*x*y*z*", "xxyyzz", false, true},
		{"a?c", "abbc", false, false},
	}
	for _, c := range cases {
		p := compile(c.pat, true, false)
		if got, _ := p.match(c.s, c.fold, nil); got != c.want {
			t.Errorf("%q ~ %q (fold %v) = %v", c.pat, c.s, c.fold, got)
		}
	}
}
