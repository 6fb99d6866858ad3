package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/metadata"
)

// repositoriesRoot is where distribution keeps repositories in the driver
// (registry/storage/paths.go). berth's own per-repository records live
// beside distribution's under names starting with "_", which distribution's
// catalog walk skips and which no repository name component can take.
const repositoriesRoot = "/docker/registry/v2/repositories"

// maxReferrers bounds one referrers answer (the spec allows paging with a
// Link header; clients rarely follow it, and no subject needs more).
const maxReferrers = 10000

func isPathNotFound(err error) bool {
	var pnf storagedriver.PathNotFoundError
	return errors.As(err, &pnf)
}

// referrersPath splits /v2/<name>/referrers/<digest>. distribution has no
// route of that shape, so the edge owns it.
func referrersPath(p string) (name, ref string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/referrers/")
	if i <= 0 {
		return "", "", false
	}
	name, ref = rest[:i], rest[i+len("/referrers/"):]
	if ref == "" || strings.Contains(ref, "/") {
		return "", "", false
	}
	return name, ref, true
}

// serveReferrers answers GET /v2/<name>/referrers/<digest>[?artifactType=…]
// with an OCI image index of the referrers' descriptors. An unknown
// repository or subject gets an empty index, never a 404 (distribution-spec
// "Listing Referrers").
func (e *edge) serveReferrers(w http.ResponseWriter, r *http.Request, name, ref string) {
	setAPIVersion(w)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		serveError(w, errcode.ErrorCodeUnsupported.WithMessage("the referrers API only supports GET and HEAD"))
		return
	}
	if _, err := reference.WithName(name); err != nil {
		serveError(w, errcode.ErrorCodeNameInvalid.WithDetail(err.Error()))
		return
	}
	subject, err := digest.Parse(ref)
	if err != nil {
		serveError(w, errcode.ErrorCodeDigestInvalid.WithDetail(err.Error()))
		return
	}
	descs, err := e.listReferrers(r.Context(), name, subject)
	if err != nil {
		e.log.Error("referrers: listing", "repository", name, "subject", subject, "error", err)
		serveError(w, errcode.ErrorCodeUnknown.WithDetail("listing referrers failed"))
		return
	}
	if types := r.URL.Query()["artifactType"]; len(types) > 0 {
		descs = slices.DeleteFunc(descs, func(d v1.Descriptor) bool { return !slices.Contains(types, d.ArtifactType) })
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	if descs == nil {
		descs = []v1.Descriptor{} // "manifests": [], not null
	}
	body, err := json.Marshal(v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: v1.MediaTypeImageIndex,
		Manifests: descs,
	})
	if err != nil {
		serveError(w, errcode.ErrorCodeUnknown.WithDetail(err.Error()))
		return
	}
	w.Header().Set("Content-Type", v1.MediaTypeImageIndex)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

// listReferrers reads the referrers of subject from the store: the
// manifests of the repository whose subject it is, in digest order. An
// unknown repository or subject has none.
func (e *edge) listReferrers(ctx context.Context, repo string, subject digest.Digest) ([]v1.Descriptor, error) {
	ri, ok := infoFrom(ctx)
	if !ok || e.meta == nil {
		return nil, errNoGate
	}
	var descs []v1.Descriptor
	after := ""
	for len(descs) < maxReferrers {
		imgs, next, err := e.meta.store.Referrers(ctx, ri.RegistryID, repo, subject.String(), "", metadata.Page{Limit: 1000, After: after})
		if err != nil {
			return nil, err
		}
		for _, img := range imgs {
			descs = append(descs, v1.Descriptor{MediaType: img.MediaType, ArtifactType: img.ArtifactType,
				Digest: digest.Digest(img.Digest), Size: img.ManifestSize, Annotations: img.Annotations})
		}
		if next == "" {
			break
		}
		after = next
	}
	return descs, nil
}

// manifestFields are the parts of an image manifest or index the edge needs.
type manifestFields struct {
	Subject *v1.Descriptor `json:"subject"`
}
