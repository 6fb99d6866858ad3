package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/distribution/distribution/v3"
	"github.com/distribution/distribution/v3/manifest/manifestlist"
	"github.com/distribution/distribution/v3/manifest/ocischema"
	"github.com/distribution/distribution/v3/manifest/schema2"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/reference"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// ECRBackend is the embedded registry as the ECR JSON API uses it: typed
// calls into the same store-backed services /v2 uses (registry.Meta's
// manifest and tag services, distribution's blob store, the same blob
// accounting and upload leases), answering with ecrmodel's typed errors.
// The API authorized its caller already.
//
// It keeps no state: an ECR upload id is distribution's upload UUID, and
// the upload lives in storage, so a layer upload may continue on any node.
type ECRBackend struct {
	meta       *Meta
	urls       *BlobURLSigner
	publicBase string
	driver     storagedriver.StorageDriver
}

// ECRBackend returns the backend over the server's metadata middleware and
// storage driver. urls signs download URLs, which start with publicBase
// (the registry's public origin, e.g. https://123456789012.dkr.ecr.us-east-1.amazonaws.com).
func (s *Server) ECRBackend(urls *BlobURLSigner, publicBase string) *ECRBackend {
	return &ECRBackend{meta: s.opts.App.Meta, urls: urls, publicBase: strings.TrimSuffix(publicBase, "/"), driver: s.opts.App.Driver}
}

// repository is repo of registryID as an in-process call of method sees
// it (a GET records a pull, as /v2 does).
func (b *ECRBackend) repository(ctx context.Context, registryID, repo, method string) (context.Context, *storeRepo, error) {
	named, err := reference.WithName(repo)
	if err != nil || !validName(repo) {
		return ctx, nil, fmt.Errorf("%w: invalid name %q", ecrmodel.ErrRepositoryUnknown, repo)
	}
	r, err := b.meta.ns.Repository(ctx, named)
	if err != nil {
		return ctx, nil, err
	}
	ctx = context.WithValue(ctx, requestInfoKey{}, requestInfo{RegistryID: registryID, Method: method})
	return ctx, b.meta.wrap(r), nil
}

// GetManifest returns ref (tag or digest) of repo, if its media type is
// one of accept (empty: any); the pull is recorded.
func (b *ECRBackend) GetManifest(ctx context.Context, registryID, repo, ref string, accept []string) (ecrmodel.Manifest, error) {
	ctx, r, err := b.repository(ctx, registryID, repo, http.MethodGet)
	if err != nil {
		return ecrmodel.Manifest{}, err
	}
	d, err := digest.Parse(ref)
	if err != nil {
		desc, err := r.Tags(ctx).Get(ctx, ref)
		if errors.As(err, new(distribution.ErrTagUnknown)) {
			return ecrmodel.Manifest{}, fmt.Errorf("%w: tag %s", ecrmodel.ErrManifestUnknown, ref)
		}
		if err != nil {
			return ecrmodel.Manifest{}, err
		}
		d = desc.Digest
	}
	ms, err := r.Manifests(ctx)
	if err != nil {
		return ecrmodel.Manifest{}, err
	}
	mf, err := ms.Get(ctx, d)
	if isManifestUnknown(err) {
		return ecrmodel.Manifest{}, fmt.Errorf("%w: %s", ecrmodel.ErrManifestUnknown, d)
	}
	if err != nil {
		return ecrmodel.Manifest{}, err
	}
	mt, body, err := mf.Payload()
	if err != nil {
		return ecrmodel.Manifest{}, err
	}
	if !acceptable(accept, mt) {
		return ecrmodel.Manifest{}, fmt.Errorf("%w: %s", ecrmodel.ErrMediaTypeNotAccepted, mt)
	}
	return ecrmodel.Manifest{Digest: d.String(), MediaType: mt, Body: body}, nil
}

// acceptable matches mt against accept (empty: anything; type/* and */*
// wildcards allowed; parameters ignored).
func acceptable(accept []string, mt string) bool {
	if len(accept) == 0 {
		return true
	}
	for _, a := range accept {
		a = bareMediaType(a)
		if a == mt || a == "*/*" || (strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

func bareMediaType(s string) string {
	if mt, _, err := mime.ParseMediaType(s); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(s, ";")
	return strings.TrimSpace(mt)
}

// PutManifest stores body under tag, or by its sha256 digest without one,
// with the checks, the store transaction and the blob accounting of a
// /v2 push, and returns its digest.
func (b *ECRBackend) PutManifest(ctx context.Context, registryID, repo, tag, mediaType string, body []byte) (string, error) {
	if mediaType == "" {
		mediaType = manifestMediaType(body)
	}
	// PutImage takes the type of a manifest without a mediaType field from
	// imageManifestMediaType. distribution refuses such a Docker manifest
	// or list under its Docker type, but its bytes are a valid OCI
	// manifest or index: it is stored as that, and recorded with the type
	// the caller gave, as ECR records it.
	if oci, ok := ociTwin[mediaType]; ok && manifestMediaType(body) != mediaType {
		ctx = context.WithValue(ctx, recordAsKey{}, mediaType)
		mediaType = oci
	}
	mf, desc, err := distribution.UnmarshalManifest(mediaType, body)
	if err != nil {
		return "", &ecrmodel.ManifestInvalidError{Reason: err.Error()}
	}
	ctx, r, err := b.repository(ctx, registryID, repo, http.MethodPut)
	if err != nil {
		return "", err
	}
	ms, err := r.Manifests(ctx)
	if err != nil {
		return "", err
	}
	var opts []distribution.ManifestServiceOption
	if tag != "" {
		opts = append(opts, distribution.WithTag(tag))
	}
	if _, err := ms.Put(ctx, mf, opts...); err != nil {
		return "", putError(err, mf)
	}
	return desc.Digest.String(), nil
}

// putError turns what a manifest put failed with into ecrmodel's errors.
func putError(err error, mf distribution.Manifest) error {
	index := false
	switch mf.(type) {
	case *manifestlist.DeserializedManifestList, *ocischema.DeserializedImageIndex:
		index = true
	}
	var ec errcode.Error
	if errors.As(err, &ec) {
		switch ec.Code {
		case errcode.ErrorCodeTagInvalid:
			return ecrmodel.ErrTagImmutable
		case errcode.ErrorCodeNameUnknown:
			return ecrmodel.ErrRepositoryUnknown
		case errcode.ErrorCodeManifestBlobUnknown:
			return &ecrmodel.ManifestRefsUnknownError{Digests: detailDigests(ec.Detail), Children: index}
		case errcode.ErrorCodeManifestInvalid:
			return &ecrmodel.ManifestInvalidError{Reason: detailText(ec)}
		case errcode.ErrorCodeUnavailable:
			return ecrmodel.ErrRetry
		}
		return err
	}
	var ve distribution.ErrManifestVerification
	if errors.As(err, &ve) {
		unknown := &ecrmodel.ManifestRefsUnknownError{Children: index}
		var reasons []string
		for _, e := range ve {
			var bu distribution.ErrManifestBlobUnknown
			if errors.As(e, &bu) {
				unknown.Digests = append(unknown.Digests, bu.Digest.String())
				continue
			}
			if errors.Is(e, distribution.ErrBlobUnknown) {
				continue // distribution pairs it with ErrManifestBlobUnknown
			}
			reasons = append(reasons, e.Error())
		}
		if len(unknown.Digests) > 0 {
			return unknown
		}
		return &ecrmodel.ManifestInvalidError{Reason: strings.Join(reasons, "; ")}
	}
	if errors.Is(err, distribution.ErrUnsupported) {
		return &ecrmodel.ManifestInvalidError{Reason: "unsupported manifest"}
	}
	return err
}

func detailText(e errcode.Error) string {
	if s, ok := e.Detail.(string); ok && s != "" {
		return s
	}
	if e.Detail != nil {
		return fmt.Sprint(e.Detail)
	}
	return e.Message
}

func detailDigests(d any) []string {
	switch v := d.(type) {
	case string:
		return []string{v}
	case digest.Digest:
		return []string{v.String()}
	}
	return nil
}

// recordAsKey marks a manifest put whose image is recorded with another
// media type than distribution parsed it as.
type recordAsKey struct{}

// ociTwin maps the Docker manifest types to the OCI types of the same shape.
var ociTwin = map[string]string{
	schema2.MediaTypeManifest:          v1.MediaTypeImageManifest,
	manifestlist.MediaTypeManifestList: v1.MediaTypeImageIndex,
}

// manifestMediaType is the mediaType a manifest declares, or what its
// shape says for an OCI manifest or index without one.
func manifestMediaType(body []byte) string {
	var m struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	switch {
	case json.Unmarshal(body, &m) != nil:
		return ""
	case m.MediaType != "":
		return m.MediaType
	case m.Manifests != nil:
		return v1.MediaTypeImageIndex
	case m.Config != nil:
		return v1.MediaTypeImageManifest
	}
	return ""
}

// StatBlob reports the size of blob dgst in repo (a layer availability
// check: a near garbage-collection review of it is pushed out, as for a
// /v2 HEAD).
func (b *ECRBackend) StatBlob(ctx context.Context, registryID, repo, dgst string) (int64, error) {
	d, err := digest.Parse(dgst)
	if err != nil {
		return 0, fmt.Errorf("%w: %s", ecrmodel.ErrBlobUnknown, dgst)
	}
	ctx, r, err := b.repository(ctx, registryID, repo, http.MethodHead)
	if err != nil {
		return 0, err
	}
	_, err = b.meta.store.TouchBlob(ctx, registryID, repo, d.String())
	adopt := metadata.Is(err, metadata.NotFound)
	switch {
	case metadata.Is(err, metadata.Changed):
		return 0, fmt.Errorf("%w: %s is being garbage collected", ecrmodel.ErrBlobUnknown, d)
	case err != nil && !adopt:
		return 0, err
	}
	desc, err := r.Blobs(ctx).Stat(ctx, d)
	if errors.Is(err, distribution.ErrBlobUnknown) {
		return 0, fmt.Errorf("%w: %s", ecrmodel.ErrBlobUnknown, d)
	}
	if err != nil {
		return 0, err
	}
	if adopt {
		if err := b.meta.recordLink(ctx, registryID, repo, desc.Digest, nil, metadata.EventAdopted); err != nil {
			b.meta.log.Warn("adopting a blob stored before accounting", "repository", repo, "digest", d, "error", err)
		}
	}
	return desc.Size, nil
}

// DownloadURL signs a URL for blob dgst of repo on the public origin.
func (b *ECRBackend) DownloadURL(_ context.Context, registryID, repo, dgst string) (string, error) {
	if _, err := digest.Parse(dgst); err != nil {
		return "", fmt.Errorf("%w: %s", ecrmodel.ErrBlobUnknown, dgst)
	}
	if b.urls == nil {
		return "", errors.New("registry: no blob URL signer configured")
	}
	return b.publicBase + "/v2/" + repo + "/blobs/" + dgst + "?" + b.urls.Sign(registryID, repo, dgst).Encode(), nil
}
