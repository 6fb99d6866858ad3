package registry

import (
	"net/http"
	"net/url"

	v2 "github.com/distribution/distribution/v3/registry/api/v2"

	"github.com/berth-registry/berth/ecrmodel"
)

// classify maps a /v2 request to its Access. ok is false for paths no
// route serves (the edge answers them).
func (s *Server) classify(r *http.Request) (ecrmodel.Access, bool) {
	p := r.URL.Path
	if p == "/v2/" || p == "/v2" {
		return ecrmodel.Access{Route: "base"}, true
	}
	if name, _, ok := referrersPath(p); ok {
		return ecrmodel.Access{Action: "ecr:BatchGetImage", Repo: name, Route: "referrers"}, true
	}
	m := routeOf(s.routes, r)
	if m.name == "" {
		return ecrmodel.Access{}, false
	}
	a := ecrmodel.Access{Repo: m.vars["name"], Route: m.name}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch m.name {
	case v2.RouteNameCatalog:
		a.Action = "ecr:DescribeRepositories"
	case v2.RouteNameTags:
		a.Action = "ecr:ListImages"
	case v2.RouteNameManifest:
		switch {
		case read:
			a.Action = "ecr:BatchGetImage"
		case r.Method == http.MethodDelete:
			a.Action = "ecr:BatchDeleteImage"
		default:
			a.Action, a.Push = "ecr:PutImage", true
		}
	case v2.RouteNameBlob:
		switch r.Method {
		case http.MethodGet:
			a.Action = "ecr:GetDownloadUrlForLayer"
		case http.MethodHead:
			a.Action = "ecr:BatchCheckLayerAvailability"
		default:
			a.Action = "ecr:BatchDeleteImage"
		}
	case v2.RouteNameBlobUpload:
		a.Action, a.Push = "ecr:InitiateLayerUpload", true
		if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && q.Get("mount") != "" {
			a.MountFrom = q.Get("from")
		}
	case v2.RouteNameBlobUploadChunk:
		a.Push = true
		switch r.Method {
		case http.MethodPut:
			a.Action = "ecr:CompleteLayerUpload"
		case http.MethodDelete:
			a.Action = "ecr:InitiateLayerUpload" // cancelling what it started
		default: // PATCH, and GET of the upload's status
			a.Action = "ecr:UploadLayerPart"
		}
	}
	return a, true
}
