package ecrapi

import (
	"context"
	"encoding/json"

	"github.com/berth-registry/berth/ecrmodel"
)

// An operation is registered once, with op or opTargets: its name, what
// it acts on, and a handler typed on its input. The body is decoded once,
// into that input, before anything else looks at it; the authorization
// targets and the handler read the same value.

// on says which registry a call addresses and, unless the operation names
// its own targets, the resource IAM decides on.
type on int

const (
	// onRepository: the repository repositoryName names (a required
	// member), in the registry registryId names (default: the caller's).
	onRepository on = iota
	// onRegistry: the registry registryId names; resource "*".
	onRegistry
	// onOwnRegistry: the caller's registry. The operation has no
	// registryId member: one sent anyway is ignored, as on ECR. Resource
	// "*".
	onOwnRegistry
)

// scopeIn holds the members that say where a call goes. Every input
// struct embeds it, so every body is checked for them the same way (a
// registryId that is not a string is a SerializationException even where
// it is ignored).
type scopeIn struct {
	RegistryID     *string `json:"registryId"`
	RepositoryName *string `json:"repositoryName"`
}

func (s *scopeIn) scope() *scopeIn { return s }

// emptyIn is the input of an operation with no members of its own.
type emptyIn struct{ scopeIn }

// input is a decoded request body.
type input interface{ scope() *scopeIn }

// inputOf is *In, for an input struct In (one that embeds scopeIn).
type inputOf[In any] interface {
	*In
	input
}

// operation is one registered ECR operation.
type operation struct {
	name string
	// action is the IAM action every target is decided for.
	action string
	on     on
	// decode reads a body into a new input of the operation.
	decode func(body []byte) (input, error)
	// targets, when set, lists the resources the call acts on, from the
	// input (else the resource follows from on).
	targets func(req *Request, in input) ([]ecrmodel.Authz, error)
	handle  func(ctx context.Context, req *Request, in input) (any, error)
}

// handler answers one call of an operation whose input is P.
type handler[P any] func(ctx context.Context, req *Request, in P) (any, error)

// op is operation name, acting on what on says, answered by handle. Its
// IAM action is ecr:<name> (see withAction).
func op[In any, P inputOf[In]](name string, on on, handle handler[P]) operation {
	return opTargets(name, on, nil, handle)
}

// opTargets is op for an operation that acts on resources its input names
// in other members (an ARN, a list of repositories, a new repository with
// its tags): targets lists them, with their condition keys. The action
// of a target left empty is the operation's.
func opTargets[In any, P inputOf[In]](name string, on on,
	targets func(req *Request, in P) ([]ecrmodel.Authz, error), handle handler[P]) operation {
	o := operation{
		name:   name,
		action: "ecr:" + name,
		on:     on,
		decode: func(body []byte) (input, error) {
			in := P(new(In))
			if err := json.Unmarshal(body, in); err != nil {
				return nil, &Error{Type: "SerializationException", Message: "Invalid JSON: " + jsonProblem(err)}
			}
			return in, nil
		},
		handle: func(ctx context.Context, req *Request, in input) (any, error) {
			return handle(ctx, req, in.(P))
		},
	}
	if targets != nil {
		o.targets = func(req *Request, in input) ([]ecrmodel.Authz, error) {
			return targets(req, in.(P))
		}
	}
	return o
}

// withAction makes the operation's IAM action action instead of
// ecr:<name>.
func (o operation) withAction(action string) operation {
	o.action = action
	return o
}
