package auth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"

	"github.com/berth-registry/berth/storage/crypt"
)

// sessionSecrets is what a session's sealed blob holds.
type sessionSecrets struct {
	Secret string `json:"s"`
	Token  string `json:"t"`
}

// NewSessionToken returns a fresh opaque session token: 96 random bytes,
// base64 (AWS's tokens are opaque too; clients pass them back verbatim).
func NewSessionToken() (string, error) {
	var b [96]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", &Error{Op: "NewSessionToken", Kind: Internal, Err: err}
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// SealSession seals a session's secret key and token for the metadata
// store, like SealSecret.
func SealSession(kr *crypt.Keyring, secret, token string) ([]byte, error) {
	raw, err := json.Marshal(sessionSecrets{Secret: secret, Token: token})
	if err != nil {
		return nil, &Error{Op: "SealSession", Kind: Internal, Err: err}
	}
	return SealSecret(kr, string(raw))
}

// OpenSession reverses SealSession.
func OpenSession(kr *crypt.Keyring, sealed []byte) (secret, token string, err error) {
	raw, err := OpenSecret(kr, sealed)
	if err != nil {
		return "", "", err
	}
	var s sessionSecrets
	if err := json.Unmarshal([]byte(raw), &s); err != nil || s.Secret == "" || s.Token == "" {
		return "", "", &Error{Op: "OpenSession", Kind: Corrupt, Err: err}
	}
	return s.Secret, s.Token, nil
}

// SessionARN is the ARN of a role session as AWS prints it:
// arn:aws:sts::<account>:assumed-role/<role name>/<session>.
func SessionARN(account, roleName, session string) string {
	return "arn:aws:sts::" + account + ":assumed-role/" + roleName + "/" + session
}
