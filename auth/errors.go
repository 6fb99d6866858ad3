package auth

// Kind classifies an error of this package.
type Kind int

const (
	// Invalid: a bad argument (unknown key prefix, malformed account).
	Invalid Kind = iota + 1
	// Corrupt: a sealed secret cannot be opened (tampered, truncated, or
	// sealed under a key the keyring does not hold).
	Corrupt
	// Store: the metadata store failed.
	Store
	// Internal: randomness or sealing failed.
	Internal
	// UnknownKey: the access key id is unknown or inactive (SigV4
	// verification answers UnrecognizedClientException).
	UnknownKey
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case Corrupt:
		return "corrupt secret"
	case Store:
		return "store"
	case Internal:
		return "internal"
	case UnknownKey:
		return "unknown access key"
	}
	return "error"
}

// Error is this package's error. It never carries secrets.
type Error struct {
	Op   string
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	s := "auth: " + e.Op + ": " + e.Kind.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }
