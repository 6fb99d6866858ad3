package iam

import (
	"context"
	"fmt"
	"net/http"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
)

// APIAuthorizer answers the ECR API's authorization questions: every
// operation's action on its resources; a denial is an
// *ecrmodel.DeniedError with AWS's message.
type APIAuthorizer struct{ Authz *Authorizer }

// Authorize decides one question of an ECR call.
func (a APIAuthorizer) Authorize(ctx context.Context, q ecrmodel.Authz) error {
	d, preq, err := a.Authz.Authorize(ctx, Check{
		Principal: q.Principal, Action: q.Action, Resource: q.Resource, Registry: q.Registry, Repository: q.Repository,
		HTTP: q.HTTP, RequestTags: q.RequestTags, TagKeys: q.TagKeys, Keys: q.Keys,
		Source: "ecr.amazonaws.com", Event: q.Event, RequestID: q.RequestID,
	})
	if err != nil {
		return fmt.Errorf("authorizing %s: %w", q.Action, err)
	}
	if !d.Allowed() {
		return &ecrmodel.DeniedError{Message: d.Message(preq)}
	}
	return nil
}

// RegistryAuthorizer answers the /v2 gate's: each route's ECR action (see
// ecrmodel.Access); a denial is an *ecrmodel.DeniedError.
type RegistryAuthorizer struct {
	Authz  *Authorizer
	Region string
}

// RepositoryExists lets the gate skip its repository lookup (its optional
// existence cache).
func (a RegistryAuthorizer) RepositoryExists(ctx context.Context, registryID, repo string) bool {
	return a.Authz.RepositoryExists(ctx, registryID, repo)
}

// AuthorizeRegistry decides a /v2 request.
func (a RegistryAuthorizer) AuthorizeRegistry(ctx context.Context, p auth.Principal, registryID string, acc ecrmodel.Access, r *http.Request) error {
	if acc.Action == "" {
		return nil // the version check needs a valid token only
	}
	if err := a.check(ctx, p, registryID, acc.Action, acc.Repo, acc.Route, r); err != nil {
		return err
	}
	if acc.MountFrom != "" {
		// Mounting reads the layer from the source repository.
		return a.check(ctx, p, registryID, "ecr:GetDownloadUrlForLayer", acc.MountFrom, acc.Route, r)
	}
	return nil
}

func (a RegistryAuthorizer) check(ctx context.Context, p auth.Principal, registryID, action, repo, route string, r *http.Request) error {
	name := repo
	if name == "" {
		name = "*" // the catalog lists every repository
	}
	d, preq, err := a.Authz.Authorize(ctx, Check{
		Principal: p, Action: action, Resource: ecrmodel.RepositoryARN(a.Region, registryID, name),
		Registry: registryID, Repository: repo, HTTP: r,
		Source: "registry", Event: r.Method + " " + route, RequestID: ecrmodel.RequestIDFrom(r.Context()),
	})
	if err != nil {
		return fmt.Errorf("authorizing %s: %w", action, err)
	}
	if !d.Allowed() {
		return &ecrmodel.DeniedError{Message: d.Message(preq)}
	}
	return nil
}
