package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/storage/crypt"
)

// Access key id prefixes, as AWS uses them.
const (
	PrefixLongLived = "AKIA"
	PrefixTemporary = "ASIA"
)

// BootstrapUser is the user whose key `berth` creates on first start.
const BootstrapUser = "berth-admin"

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// NewAccessKey returns a fresh key pair shaped like AWS's: the id is the
// prefix and 16 characters of [A-Z2-7] (80 random bits), the secret 40
// characters of [A-Za-z0-9/+] (240 random bits).
func NewAccessKey(prefix string) (id, secret string, err error) {
	if prefix != PrefixLongLived && prefix != PrefixTemporary {
		return "", "", &Error{Op: "NewAccessKey", Kind: Invalid, Err: fmt.Errorf("prefix %q is neither %s nor %s", prefix, PrefixLongLived, PrefixTemporary)}
	}
	var b [10 + 30]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", &Error{Op: "NewAccessKey", Kind: Internal, Err: err}
	}
	id = prefix + base32.StdEncoding.EncodeToString(b[:10])
	secret = base64.StdEncoding.EncodeToString(b[10:])
	return id, secret, nil
}

// UserARN is the ARN of IAM user name in account.
func UserARN(account, name string) string {
	return "arn:aws:iam::" + account + ":user/" + name
}

// EnsureBootstrapAdmin gives berth's admin user an access key on first
// start. When the user has none, it creates an active long-lived key (its
// secret sealed with kr) and returns the secret for the caller to show
// once; otherwise created is false and nothing is returned. Two nodes
// starting at once on an empty store may each create a key.
func EnsureBootstrapAdmin(ctx context.Context, st metadata.Store, kr *crypt.Keyring, account string) (id, secret string, created bool, err error) {
	const op = "EnsureBootstrapAdmin"
	if !accountRE.MatchString(account) {
		return "", "", false, &Error{Op: op, Kind: Invalid, Err: fmt.Errorf("account %q is not 12 digits", account)}
	}
	arn := UserARN(account, BootstrapUser)
	keys, err := st.ListAccessKeys(ctx, arn)
	if err != nil {
		return "", "", false, &Error{Op: op, Kind: Store, Err: err}
	}
	if len(keys) > 0 {
		return "", "", false, nil
	}
	if id, secret, err = NewAccessKey(PrefixLongLived); err != nil {
		return "", "", false, err
	}
	sealed, err := SealSecret(kr, secret)
	if err != nil {
		return "", "", false, err
	}
	k := metadata.AccessKey{
		ID: id, Secret: sealed, Principal: arn, Account: account,
		Status: metadata.KeyActive, CreatedAt: time.Now().UTC(),
	}
	if err := st.CreateAccessKey(ctx, k); err != nil {
		return "", "", false, &Error{Op: op, Kind: Store, Err: err}
	}
	return id, secret, true, nil
}

// PrincipalFor describes the owner of an access key from the key row
// alone: a user (ARN) or a service principal (a name such as
// codebuild.amazonaws.com, acting in the key's account).
func PrincipalFor(k metadata.AccessKey) Principal {
	if !strings.HasPrefix(k.Principal, "arn:") {
		return Principal{Type: TypeService, ARN: k.Principal, Account: k.Account, AccessKeyID: k.ID}
	}
	p := Principal{Type: TypeUser, ARN: k.Principal, Account: k.Account, AccessKeyID: k.ID, UserID: UserID(k.Principal)}
	if p.Account == "" {
		p.Account = arnAccount(k.Principal)
	}
	if _, res, ok := strings.Cut(k.Principal, ":user/"); ok {
		// aws:username is the friendly name, without the IAM path.
		p.Username = res[strings.LastIndex(res, "/")+1:]
	}
	return p
}

// UserID is a stable aws:userid for a user ARN: "AIDA" and 17 characters
// of [A-Z2-7] derived from the ARN (AWS assigns them at random; berth
// derives them so every node agrees without storing them).
func UserID(arn string) string {
	h := sha256.Sum256([]byte(arn))
	return "AIDA" + base32.StdEncoding.EncodeToString(h[:])[:17]
}

func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 {
		return parts[4]
	}
	return ""
}
