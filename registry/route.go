package registry

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"
)

type routeKey struct{}

// routeMatch is a request's distribution route, matched once per request:
// the regular expressions are a visible share of a manifest HEAD's cost.
type routeMatch struct {
	name string            // "" when no route matches
	vars map[string]string // name, reference, digest, uuid
}

// withRoute matches r once and carries the result in its context.
func withRoute(routes *mux.Router, r *http.Request) (*http.Request, routeMatch) {
	var rm routeMatch
	var m mux.RouteMatch
	if routes.Match(r, &m) && m.Route != nil {
		rm = routeMatch{name: m.Route.GetName(), vars: m.Vars}
	}
	return r.WithContext(context.WithValue(r.Context(), routeKey{}, rm)), rm
}

// routeOf returns the match withRoute stored, matching now if none was.
func routeOf(routes *mux.Router, r *http.Request) routeMatch {
	if rm, ok := r.Context().Value(routeKey{}).(routeMatch); ok {
		return rm
	}
	_, rm := withRoute(routes, r)
	return rm
}
