package registry

import "context"

// internalKey marks a request made in process by the ECR API (PutImage,
// BatchGetImage, layer uploads...): the API authenticated and authorized
// the caller already, so the /v2 gate lets it through. A context value
// cannot be set from the network.
type internalKey struct{}

// internalCall is what the gate learns from an in-process request.
type internalCall struct {
	// RegistryID is the registry the API call addressed.
	RegistryID string
}

// withInternal marks ctx as an in-process call for registryID.
func withInternal(ctx context.Context, registryID string) context.Context {
	return context.WithValue(ctx, internalKey{}, internalCall{RegistryID: registryID})
}

// internalFrom reports whether ctx is an in-process call.
func internalFrom(ctx context.Context) (internalCall, bool) {
	c, ok := ctx.Value(internalKey{}).(internalCall)
	return c, ok
}
