package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/distribution/distribution/v3/registry/api/errcode"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// ReferrersIndex records, per repository, which manifests name a subject.
// The edge maintains it on manifest PUT (after the App stored the manifest)
// and on manifest DELETE, and answers the referrers API from it, so a
// referrers request never lists the bucket. The metadata store replaces the
// storage-driver implementation below.
type ReferrersIndex interface {
	// Add records referrer (a descriptor of a manifest whose subject is
	// subject). Adding the same referrer again replaces the entry.
	Add(ctx context.Context, repo string, subject digest.Digest, referrer v1.Descriptor) error
	// Remove forgets referrer; removing an unknown entry is not an error.
	Remove(ctx context.Context, repo string, subject, referrer digest.Digest) error
	// List returns the referrers of subject, ordered by digest; an unknown
	// repository or subject has none.
	List(ctx context.Context, repo string, subject digest.Digest) ([]v1.Descriptor, error)
}

// repositoriesRoot is where distribution keeps repositories in the driver
// (registry/storage/paths.go). berth's own per-repository records live
// beside distribution's under names starting with "_", which distribution's
// catalog walk skips and which no repository name component can take.
const repositoriesRoot = "/docker/registry/v2/repositories"

// driverReferrers keeps the index in the storage driver: one small object
// per referrer at
//
//	repositories/<name>/_referrers/<subject-alg>/<subject-hex>/<referrer-alg>/<referrer-hex>
//
// holding the referrer's descriptor as JSON. Listing a subject costs one
// List per digest algorithm in use plus one GetContent per referrer.
type driverReferrers struct {
	driver storagedriver.StorageDriver
}

func newDriverReferrers(d storagedriver.StorageDriver) *driverReferrers {
	return &driverReferrers{driver: d}
}

func (x *driverReferrers) subjectDir(repo string, subject digest.Digest) string {
	return path.Join(repositoriesRoot, repo, "_referrers", subject.Algorithm().String(), subject.Encoded())
}

func (x *driverReferrers) entryPath(repo string, subject, referrer digest.Digest) string {
	return path.Join(x.subjectDir(repo, subject), referrer.Algorithm().String(), referrer.Encoded())
}

func (x *driverReferrers) Add(ctx context.Context, repo string, subject digest.Digest, referrer v1.Descriptor) error {
	if err := subject.Validate(); err != nil {
		return fmt.Errorf("referrers: subject %q: %w", subject, err)
	}
	if err := referrer.Digest.Validate(); err != nil {
		return fmt.Errorf("referrers: referrer %q: %w", referrer.Digest, err)
	}
	b, err := json.Marshal(referrer)
	if err != nil {
		return err
	}
	return x.driver.PutContent(ctx, x.entryPath(repo, subject, referrer.Digest), b)
}

func (x *driverReferrers) Remove(ctx context.Context, repo string, subject, referrer digest.Digest) error {
	if subject.Validate() != nil || referrer.Validate() != nil {
		return nil // never indexed
	}
	err := x.driver.Delete(ctx, x.entryPath(repo, subject, referrer))
	if isPathNotFound(err) {
		return nil
	}
	return err
}

func (x *driverReferrers) List(ctx context.Context, repo string, subject digest.Digest) ([]v1.Descriptor, error) {
	algDirs, err := x.driver.List(ctx, x.subjectDir(repo, subject))
	if isPathNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var entries []string
	for _, dir := range algDirs {
		files, err := x.driver.List(ctx, dir)
		if isPathNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		entries = append(entries, files...)
	}
	descs, err := x.read(ctx, entries)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(descs, func(a, b v1.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return descs, nil
}

// read fetches the entries a few at a time: on S3 each is a round trip.
func (x *driverReferrers) read(ctx context.Context, entries []string) ([]v1.Descriptor, error) {
	const parallel = 8
	var (
		mu    sync.Mutex
		descs = make([]v1.Descriptor, 0, len(entries))
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, parallel)
	)
	for _, p := range entries {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			b, err := x.driver.GetContent(ctx, p)
			if isPathNotFound(err) {
				return // removed meanwhile
			}
			var d v1.Descriptor
			if err == nil {
				if err = json.Unmarshal(b, &d); err != nil {
					err = fmt.Errorf("referrers: entry %s: %w", p, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			descs = append(descs, d)
		}()
	}
	wg.Wait()
	return descs, errors.Join(errs...)
}

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
	descs, err := e.referrers.List(r.Context(), name, subject)
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

// manifestFields are the parts of an image manifest or index the edge needs.
type manifestFields struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType"`
	Config       *v1.Descriptor    `json:"config"`
	Subject      *v1.Descriptor    `json:"subject"`
	Annotations  map[string]string `json:"annotations"`
}

// referrerDescriptor is the referrers-API descriptor of a manifest pushed as
// dgst: its artifactType, or for an image manifest without one the config's
// media type (image-spec "artifactType" guidance), and its annotations.
func (m *manifestFields) referrerDescriptor(contentType string, dgst digest.Digest, size int64) v1.Descriptor {
	mt := m.MediaType
	if mt == "" {
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.TrimSpace(mt)
	}
	at := m.ArtifactType
	if at == "" && m.Config != nil {
		at = m.Config.MediaType
	}
	return v1.Descriptor{MediaType: mt, ArtifactType: at, Digest: dgst, Size: size, Annotations: m.Annotations}
}
