package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/distribution/distribution/v3/manifest/manifestlist"
	"github.com/distribution/distribution/v3/manifest/schema2"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/ecrapi"
)

// ECRBackend is the embedded registry as the ECR JSON API uses it
// (ecrapi.Registry). Every call is an in-process request to the /v2
// handler, marked with withInternal so the gate lets it through, so a
// manifest PUT by PutImage runs the same validation, tag-immutability
// check, metadata recording and referrers indexing as a docker push.
//
// It keeps no state: an ECR upload id is distribution's upload UUID, and
// each UploadLayerPart or CompleteLayerUpload first asks /v2 for the
// upload's status, which returns a fresh signed _state for the next
// request. The upload itself lives in the storage, so a layer upload may
// continue on any node of the registry.
//
// Deletions go to the metadata store directly (Meta.DeleteManifest): it
// decides, and storage links go after.
type ECRBackend struct {
	v2         http.Handler
	urls       *BlobURLSigner
	publicBase string

	driver storagedriver.StorageDriver
	meta   *Meta
}

var _ ecrapi.Registry = (*ECRBackend)(nil)

// NewECRBackend builds the backend over v2 (the handler serving /v2/, gate
// included). urls signs download URLs, which start with publicBase (the
// registry's public origin, e.g. https://123456789012.dkr.ecr.us-east-1.amazonaws.com).
// Without WithStorage, deletions fail.
func NewECRBackend(v2 http.Handler, urls *BlobURLSigner, publicBase string, opts ...ECRBackendOption) *ECRBackend {
	b := &ECRBackend{v2: v2, urls: urls, publicBase: strings.TrimSuffix(publicBase, "/")}
	for _, o := range opts {
		o(b)
	}
	return b
}

// ECRBackend returns the backend over the server's own /v2 handler,
// metadata middleware and storage driver.
func (s *Server) ECRBackend(urls *BlobURLSigner, publicBase string) *ECRBackend {
	return NewECRBackend(s.V2(), urls, publicBase, WithStorage(s.opts.App.Driver, s.opts.App.Meta))
}

// ECRBackendOption configures an ECRBackend.
type ECRBackendOption func(*ECRBackend)

// WithStorage gives the backend the App's storage driver (for
// DeleteRepository) and metadata middleware (for deletions).
func WithStorage(drv storagedriver.StorageDriver, meta *Meta) ECRBackendOption {
	return func(b *ECRBackend) { b.driver, b.meta = drv, meta }
}

// BackendError is a registry call that failed. Kind is the ecrapi sentinel
// the answer maps to (nil: unexpected, a ServerException); Status, Code and
// Detail are what /v2 answered, Err a storage error of a fallback path.
type BackendError struct {
	Op     string
	Kind   error
	Status int
	Code   string
	Detail string
	Err    error
}

func (e *BackendError) Error() string {
	s := "registry: " + e.Op
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" (%d %s)", e.Status, e.Code)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *BackendError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// manifestAccept asks the App for every manifest type it stores, so it
// returns the manifest as pushed (never a platform manifest picked from a
// list); acceptance is then decided against the caller's list.
var manifestAccept = strings.Join([]string{
	v1.MediaTypeImageManifest, v1.MediaTypeImageIndex, schema2.MediaTypeManifest, manifestlist.MediaTypeManifestList,
}, ", ")

// GetManifest fetches ref (tag or digest) of repo; the /v2 path records
// the pull.
func (b *ECRBackend) GetManifest(ctx context.Context, registryID, repo, ref string, accept []string) (ecrapi.Manifest, error) {
	const op = "GetManifest"
	rec := b.call(ctx, registryID, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, http.Header{"Accept": {manifestAccept}}, nil)
	if rec.code != http.StatusOK {
		return ecrapi.Manifest{}, b.fail(op, rec, "")
	}
	mt := bareMediaType(rec.header.Get("Content-Type"))
	if !acceptable(accept, mt) {
		return ecrapi.Manifest{}, &BackendError{Op: op, Kind: ecrapi.ErrMediaTypeNotAccepted, Detail: mt}
	}
	return ecrapi.Manifest{Digest: rec.header.Get("Docker-Content-Digest"), MediaType: mt, Body: rec.body.Bytes()}, nil
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

// PutManifest stores body under tag, or by its sha256 digest without one.
func (b *ECRBackend) PutManifest(ctx context.Context, registryID, repo, tag, mediaType string, body []byte) (string, error) {
	const op = "PutManifest"
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
	computed := digest.Canonical.FromBytes(body)
	ref := tag
	if ref == "" {
		ref = computed.String()
	}
	h := http.Header{}
	if mediaType != "" {
		h.Set("Content-Type", mediaType)
	}
	rec := b.call(ctx, registryID, http.MethodPut, "/v2/"+repo+"/manifests/"+ref, h, body)
	if rec.code != http.StatusCreated {
		return "", b.fail(op, rec, mediaType)
	}
	if d := rec.header.Get("Docker-Content-Digest"); d != "" {
		return d, nil
	}
	return computed.String(), nil
}

// recordAsKey marks a manifest PUT whose image is recorded with another
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

func isIndexType(mt string) bool {
	return mt == v1.MediaTypeImageIndex || mt == manifestlist.MediaTypeManifestList
}

// StatBlob reports the size of blob dgst in repo.
func (b *ECRBackend) StatBlob(ctx context.Context, registryID, repo, dgst string) (int64, error) {
	const op = "StatBlob"
	if err := checkDigest(op, dgst); err != nil {
		return 0, err
	}
	rec := b.call(ctx, registryID, http.MethodHead, "/v2/"+repo+"/blobs/"+dgst, nil, nil)
	switch rec.code {
	case http.StatusOK:
		n, err := strconv.ParseInt(rec.header.Get("Content-Length"), 10, 64)
		if err != nil {
			return 0, &BackendError{Op: op, Status: rec.code, Detail: "no Content-Length", Err: err}
		}
		return n, nil
	case http.StatusNotFound:
		if e := b.fail(op, rec, ""); errors.Is(e, ecrapi.ErrRepositoryUnknown) {
			return 0, e
		}
		// A HEAD may come without a body to say which.
		return 0, &BackendError{Op: op, Kind: ecrapi.ErrBlobUnknown, Status: rec.code, Detail: dgst}
	}
	return 0, b.fail(op, rec, "")
}

// DownloadURL signs a URL for blob dgst of repo on the public origin.
func (b *ECRBackend) DownloadURL(_ context.Context, registryID, repo, dgst string) (string, error) {
	const op = "DownloadURL"
	if err := checkDigest(op, dgst); err != nil {
		return "", err
	}
	if b.urls == nil {
		return "", &BackendError{Op: op, Detail: "no blob URL signer configured"}
	}
	return b.publicBase + "/v2/" + repo + "/blobs/" + dgst + "?" + b.urls.Sign(registryID, repo, dgst).Encode(), nil
}

func checkDigest(op, dgst string) error {
	if _, err := digest.Parse(dgst); err != nil {
		return &BackendError{Op: op, Detail: "invalid digest " + strconv.Quote(dgst), Err: err}
	}
	return nil
}

// internalHost names the origin of in-process requests; distribution
// builds Location headers from it, of which only the path is used.
const internalHost = "berth.internal"

// call serves one in-process request. Responses are buffered: none is
// large (no blob bodies are read; a manifest is at most 4 MiB), and request
// bodies (parts of at most 20 MiB) are read straight from the caller's
// slice.
func (b *ECRBackend) call(ctx context.Context, registryID, method, target string, h http.Header, body []byte) *bufferedResponse {
	rec := newBufferedResponse()
	r, err := http.NewRequestWithContext(withInternal(ctx, registryID), method, "http://"+internalHost+target, bytes.NewReader(body))
	if err != nil {
		rec.code = http.StatusBadRequest
		fmt.Fprintf(&rec.body, `{"errors":[{"code":"UNKNOWN","message":%q}]}`, err.Error())
		return rec
	}
	if body == nil {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0"
	for k, v := range h {
		r.Header[k] = v
	}
	b.v2.ServeHTTP(rec, r)
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	return rec
}

// regError is one entry of a registry error body.
type regError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

func regErrors(rec *bufferedResponse) []regError {
	var body struct {
		Errors []regError `json:"errors"`
	}
	_ = json.Unmarshal(rec.body.Bytes(), &body)
	return body.Errors
}

// fail maps a /v2 error answer to a BackendError. sentType is the media
// type of a manifest the request carried: an index naming an unknown
// manifest gets the same MANIFEST_BLOB_UNKNOWN as an image naming an
// unknown layer.
func (b *ECRBackend) fail(op string, rec *bufferedResponse, sentType string) *BackendError {
	e := &BackendError{Op: op, Status: rec.code}
	errs := regErrors(rec)
	var details []string
	for _, re := range errs {
		d := re.Message
		if len(re.Detail) > 0 && string(re.Detail) != "null" {
			var s string
			if json.Unmarshal(re.Detail, &s) != nil {
				s = string(re.Detail)
			}
			d += " " + s
		}
		details = append(details, d)
	}
	if len(errs) > 0 {
		e.Code = errs[0].Code
	} else if rec.body.Len() > 0 {
		details = append(details, strings.TrimSpace(rec.body.String()[:min(rec.body.Len(), 512)]))
	}
	e.Detail = strings.Join(slices.Compact(details), "; ")
	e.Kind = errorKind(e.Code, sentType)
	return e
}

// errorKind maps a registry error code to the ecrapi sentinel.
func errorKind(code, sentType string) error {
	switch code {
	case "NAME_UNKNOWN":
		return ecrapi.ErrRepositoryUnknown
	case "MANIFEST_UNKNOWN":
		return ecrapi.ErrManifestUnknown
	case "BLOB_UNKNOWN":
		return ecrapi.ErrBlobUnknown
	case "BLOB_UPLOAD_UNKNOWN":
		return ecrapi.ErrUploadUnknown
	case "DIGEST_INVALID":
		return ecrapi.ErrDigestMismatch
	case "MANIFEST_INVALID", "UNSUPPORTED":
		return ecrapi.ErrManifestInvalid
	case "MANIFEST_BLOB_UNKNOWN":
		if isIndexType(sentType) {
			return ecrapi.ErrManifestChildUnknown
		}
		return ecrapi.ErrManifestBlobUnknown
	case "TAG_INVALID":
		return ecrapi.ErrTagImmutable
	}
	return nil
}
