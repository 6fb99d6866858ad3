package iam

import (
	"context"
	"fmt"
	"net/http"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/registry"
)

// APIAuthorizer is the ECR API's Authorizer: every operation's action on
// its resources, answered with AccessDeniedException in AWS's words.
type APIAuthorizer struct{ Authz *Authorizer }

var _ ecrapi.Authorizer = APIAuthorizer{}

// Authorize implements ecrapi.Authorizer.
func (a APIAuthorizer) Authorize(ctx context.Context, req *ecrapi.Request, q ecrapi.Authz) error {
	d, preq, err := a.Authz.Authorize(ctx, Check{
		Principal: req.Principal, Action: q.Action, Resource: q.Resource, Registry: q.Registry, Repository: q.Repository,
		HTTP: req.HTTP, RequestTags: q.RequestTags, TagKeys: q.TagKeys, Keys: q.Keys,
		Source: "ecr.amazonaws.com", Event: req.Op, RequestID: req.RequestID,
	})
	if err != nil {
		return fmt.Errorf("authorizing %s: %w", q.Action, err)
	}
	if !d.Allowed() {
		return &ecrapi.Error{Type: "AccessDeniedException", Message: d.Message(preq)}
	}
	return nil
}

// RegistryAuthorizer is the /v2 gate's Authorizer: each route's ECR action
// (see registry.Access), answered with 403 DENIED in AWS's words.
type RegistryAuthorizer struct {
	Authz  *Authorizer
	Region string
}

var _ registry.Authorizer = RegistryAuthorizer{}

// RepositoryExists lets the gate skip its repository lookup (the optional
// capability registry.ExistenceCache).
func (a RegistryAuthorizer) RepositoryExists(ctx context.Context, registryID, repo string) bool {
	return a.Authz.RepositoryExists(ctx, registryID, repo)
}

// AuthorizeRegistry implements registry.Authorizer.
func (a RegistryAuthorizer) AuthorizeRegistry(ctx context.Context, p auth.Principal, registryID string, acc registry.Access, r *http.Request) error {
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
		Principal: p, Action: action, Resource: "arn:aws:ecr:" + a.Region + ":" + registryID + ":repository/" + name,
		Registry: registryID, Repository: repo, HTTP: r,
		Source: "registry", Event: r.Method + " " + route, RequestID: registry.RequestID(r.Context()),
	})
	if err != nil {
		return fmt.Errorf("authorizing %s: %w", action, err)
	}
	if !d.Allowed() {
		return &registry.DeniedError{Message: d.Message(preq)}
	}
	return nil
}
