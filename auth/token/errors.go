package token

// Kind classifies a token error.
type Kind int

const (
	// Invalid: malformed, signed by an unknown key or badly, wrong issuer,
	// wrong algorithm, not yet valid.
	Invalid Kind = iota + 1
	// Expired: a genuine token past its exp.
	Expired
	// Internal: the key file could not be read or written, randomness
	// failed.
	Internal
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid token"
	case Expired:
		return "expired token"
	case Internal:
		return "internal error"
	}
	return "error"
}

// ExpiredMessage is ECR's registry message for an expired login token.
const ExpiredMessage = "Your authorization token has expired. Reauthenticate and try again."

// Error is a token error. It never carries the token itself or key
// material.
type Error struct {
	Op   string
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	s := "token: " + e.Op + ": " + e.Kind.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }
