package lifecycle

// Kind classifies a policy validation failure.
type Kind int

const (
	// Schema: the text is not the JSON shape ECR's schema allows (syntax,
	// types, missing or unknown members, enums, minimums).
	Schema Kind = iota + 1
	// Rules: the rules are well-formed but contradict one another or
	// ECR's evaluation rules (duplicate priorities, misplaced "any", ...).
	Rules
)

// ConstraintPrefix is how ECR words every lifecycle policy validation
// failure (InvalidParameterException on PutLifecyclePolicy and
// StartLifecyclePolicyPreview).
const ConstraintPrefix = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: "

// Error is a policy that ECR would refuse. Error() is ECR's full
// InvalidParameterException message; Reason is the part after
// "Lifecycle policy validation failure: ".
type Error struct {
	Op     string
	Kind   Kind
	Reason string
}

func (e *Error) Error() string { return ConstraintPrefix + e.Reason + "'" }

func schemaErr(reason string) error { return &Error{Op: "parse", Kind: Schema, Reason: reason} }
func rulesErr(reason string) error  { return &Error{Op: "parse", Kind: Rules, Reason: reason} }
