package testenv

import (
	"bytes"
	"os/exec"
	"strings"
)

// IAM runs `berth iam <args…>` on b's store (as an operator would, beside
// the running server) and returns what it printed on standard output.
func (b *Berth) IAM(args ...string) string {
	b.t.Helper()
	out, errOut, err := b.TryIAM(args...)
	if err != nil {
		b.t.Fatalf("berth iam %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// TryIAM is IAM returning the failure instead of failing the test.
func (b *Berth) TryIAM(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(BerthBinary(b.t), append(append([]string{"iam"}, args...), "--config", b.Config)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// ParseKey reads aws_access_key_id and aws_secret_access_key from
// shared-credentials text: what `berth iam create-access-key` (or
// create-service-key) printed, or the bootstrap credentials file.
func ParseKey(out string) (id, secret string) {
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			id = strings.TrimSpace(v)
		case "aws_secret_access_key":
			secret = strings.TrimSpace(v)
		}
	}
	return id, secret
}

// NewUser creates user name in account (creating the account when it is
// not the registry's), attaches policies (AWS managed names or ARNs) and
// returns a fresh access key of the user.
func (b *Berth) NewUser(account, name string, policies ...string) (id, secret string) {
	b.t.Helper()
	// The account may exist already (the registry's own, or an earlier
	// user's): that failure is fine.
	_, _, _ = b.TryIAM("create-account", "--account", account)
	b.IAM("create-user", "--account", account, "--user", name)
	for _, p := range policies {
		b.IAM("attach-policy", "--account", account, "--user", name, "--policy", p)
	}
	id, secret = ParseKey(b.IAM("create-access-key", "--account", account, "--user", name))
	if id == "" || secret == "" {
		b.t.Fatalf("create-access-key for %s printed no key", name)
	}
	return id, secret
}

// Run runs `berth <args…> --config <b's config>` beside the server (as an
// operator would) and returns what it printed.
func (b *Berth) Run(args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(BerthBinary(b.t), append(args, "--config", b.Config)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
