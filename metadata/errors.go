package metadata

import (
	"errors"
	"fmt"
)

// Kind classifies a metadata error; the API and registry edges map kinds to
// ECR exceptions and registry error codes.
type Kind int

const (
	KindOther     Kind = iota // unexpected: engine failure (ServerException)
	NotFound                  // the named entity does not exist
	AlreadyExists             // create of an existing entity
	NotEmpty                  // repository still holds images
	ImmutableTag              // tag may not move (tag immutability)
	Referenced                // image listed by an index in the repository
	Invalid                   // the request contradicts the schema
	Changed                   // a conditional write found the entity changed
	Limit                     // a per-entity quota is reached (5 policy versions)
)

func (k Kind) String() string {
	switch k {
	case NotFound:
		return "not found"
	case AlreadyExists:
		return "already exists"
	case NotEmpty:
		return "not empty"
	case ImmutableTag:
		return "immutable"
	case Referenced:
		return "referenced"
	case Invalid:
		return "invalid"
	case Changed:
		return "changed"
	case Limit:
		return "limit exceeded"
	}
	return "error"
}

// Error is the metadata layer's error: the operation, its kind, what it
// concerned ("repository", "image", "tag", "policy", "template", ...) and
// the cause.
type Error struct {
	Op     string
	Kind   Kind
	Entity string
	Err    error
}

func (e *Error) Error() string {
	s := "metadata: " + e.Op + ": " + e.Entity + " " + e.Kind.String()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err (KindOther when it is not an *Error).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Is reports whether err is a metadata error of kind k.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }

func newErr(op string, k Kind, entity string, format string, a ...any) error {
	var cause error
	if format != "" {
		cause = fmt.Errorf(format, a...)
	}
	return &Error{Op: op, Kind: k, Entity: entity, Err: cause}
}

// EntityOf returns what a metadata error concerned ("" for other errors).
func EntityOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Entity
	}
	return ""
}

// CauseOf returns the message of a metadata error's cause (the entity's
// name or digest for NotFound), "" when it has none.
func CauseOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Err != nil {
		return e.Err.Error()
	}
	return ""
}
