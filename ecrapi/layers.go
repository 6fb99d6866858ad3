package ecrapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berth-registry/berth/ecrmodel"
)

// The layer operations: checking, uploading (initiate, parts, complete)
// and downloading blobs, all through the Registry's /v2 path.

func (a *API) registerLayerOps() {
	a.add(op("BatchCheckLayerAvailability", onRepository, a.batchCheckLayerAvailability))
	a.add(op("InitiateLayerUpload", onRepository, a.initiateLayerUpload))
	a.add(op("UploadLayerPart", onRepository, a.uploadLayerPart))
	a.add(op("CompleteLayerUpload", onRepository, a.completeLayerUpload))
	a.add(op("GetDownloadUrlForLayer", onRepository, a.getDownloadURLForLayer))
}

const (
	maxLayerDigests = 100
	maxLayerPart    = 20971520
	// minLayerPart is ECR's smallest part but the last (its S3 multipart
	// heritage).
	minLayerPart = 5 << 20
	// layerPartSize is what InitiateLayerUpload tells clients to send:
	// ECR's documented maximum part size.
	layerPartSize = 10 << 20
	// statParallel bounds the concurrent blob lookups of one
	// BatchCheckLayerAvailability.
	statParallel = 8

	uploadIDPattern = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)

var uploadIDRE = regexp.MustCompile(`^` + uploadIDPattern + `$`)

// checkLayerDigest validates a LayerDigest member.
func checkLayerDigest(field string, d *string) error {
	if d == nil {
		return missingParam(field)
	}
	if !imageDigestRE.MatchString(*d) {
		return invalidParam(field, "must satisfy regular expression '"+imageDigestPattern+"'")
	}
	return nil
}

func checkUploadID(id *string) error {
	if id == nil {
		return missingParam("uploadId")
	}
	if !uploadIDRE.MatchString(*id) {
		return invalidParam("uploadId", "must satisfy regular expression '"+uploadIDPattern+"'")
	}
	return nil
}

func uploadNotFound(reg, repo, id string) *Error {
	return errorf("UploadNotFoundException",
		"The upload with id '%s' does not exist in the repository with name '%s' in the registry with id '%s'", id, repo, reg)
}

// uploadErr maps the Registry errors of an upload.
func (a *API) uploadErr(err error, reg, repo, id string) error {
	if errors.Is(err, ecrmodel.ErrUploadUnknown) {
		return uploadNotFound(reg, repo, id)
	}
	return a.registryErr(err, reg, repo)
}

type batchCheckLayerAvailabilityIn struct {
	scopeIn
	LayerDigests []string `json:"layerDigests"`
}

type layerOut struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         int64  `json:"layerSize"`
}

type layerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

type batchCheckLayerAvailabilityOut struct {
	Layers   []layerOut     `json:"layers"`
	Failures []layerFailure `json:"failures"`
}

func (a *API) batchCheckLayerAvailability(ctx context.Context, req *Request, in *batchCheckLayerAvailabilityIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	switch n := len(in.LayerDigests); {
	case in.LayerDigests == nil:
		return nil, missingParam("layerDigests")
	case n < 1:
		return nil, invalidParam("layerDigests", imageListLengthLower)
	case n > maxLayerDigests:
		return nil, invalidParam("layerDigests", "Member must have length less than or equal to 100")
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	// One slot per digest keeps the answer in request order.
	sizes := make([]int64, len(in.LayerDigests))
	found := make([]bool, len(in.LayerDigests))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(statParallel)
	for i, d := range in.LayerDigests {
		if len(d) > 1000 || !imageDigestRE.MatchString(d) || !parsableDigest(d) {
			continue
		}
		g.Go(func() error {
			n, err := a.d.Registry.StatBlob(gctx, reg, name, d)
			switch {
			case err == nil:
				sizes[i], found[i] = n, true
			case !errors.Is(err, ecrmodel.ErrBlobUnknown):
				return err
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, a.registryErr(err, reg, name)
	}
	out := batchCheckLayerAvailabilityOut{Layers: []layerOut{}, Failures: []layerFailure{}}
	for i, d := range in.LayerDigests {
		switch {
		case found[i]:
			out.Layers = append(out.Layers, layerOut{LayerDigest: d, LayerAvailability: "AVAILABLE", LayerSize: sizes[i]})
		case len(d) > 1000 || !imageDigestRE.MatchString(d) || !parsableDigest(d):
			out.Failures = append(out.Failures, layerFailure{LayerDigest: d, FailureCode: "InvalidLayerDigest", FailureReason: "Invalid layer digest"})
		default:
			out.Failures = append(out.Failures, layerFailure{LayerDigest: d, FailureCode: "MissingLayerDigest", FailureReason: "Could not find layer"})
		}
	}
	return out, nil
}

func (a *API) initiateLayerUpload(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	id, err := a.d.Registry.InitiateUpload(ctx, reg, name)
	if err != nil {
		return nil, a.registryErr(err, reg, name)
	}
	return map[string]any{"uploadId": id, "partSize": layerPartSize}, nil
}

type uploadLayerPartIn struct {
	scopeIn
	UploadID      *string `json:"uploadId"`
	PartFirstByte *int64  `json:"partFirstByte"`
	PartLastByte  *int64  `json:"partLastByte"`
	LayerPartBlob []byte  `json:"layerPartBlob"` // base64 on the wire
}

// invalidLayerPart is InvalidLayerPartException with its extra members.
func invalidLayerPart(reg, repo, id string, lastValid int64, why string) *Error {
	return &Error{
		Type:    "InvalidLayerPartException",
		Message: why + fmt.Sprintf(" Last valid byte received: %d.", lastValid),
		Extra: map[string]any{
			"registryId": reg, "repositoryName": repo, "uploadId": id, "lastValidByteReceived": lastValid,
		},
	}
}

const notConsecutive = "The first byte specified is not consecutive to the last byte of a previous layer part upload."

func (a *API) uploadLayerPart(ctx context.Context, req *Request, in *uploadLayerPartIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	if err := checkUploadID(in.UploadID); err != nil {
		return nil, err
	}
	id := *in.UploadID
	for _, p := range []struct {
		field string
		v     *int64
	}{{"partFirstByte", in.PartFirstByte}, {"partLastByte", in.PartLastByte}} {
		if p.v == nil {
			return nil, missingParam(p.field)
		}
		if *p.v < 0 {
			return nil, invalidParam(p.field, "must be greater than or equal to 0")
		}
	}
	if in.LayerPartBlob == nil {
		return nil, missingParam("layerPartBlob")
	}
	if len(in.LayerPartBlob) > maxLayerPart {
		return nil, invalidParam("layerPartBlob", "Member must have length less than or equal to 20971520")
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	first, last := *in.PartFirstByte, *in.PartLastByte
	if last-first+1 != int64(len(in.LayerPartBlob)) || len(in.LayerPartBlob) == 0 {
		// Probe for the bytes received (an offset no upload is at
		// answers with them), to tell the client where to resume.
		_, err := a.d.Registry.UploadPart(ctx, reg, name, id, -1, nil)
		var pe *ecrmodel.PartError
		if !errors.As(err, &pe) {
			return nil, a.uploadErr(err, reg, name, id)
		}
		return nil, invalidLayerPart(reg, name, id, pe.LastValidByte,
			fmt.Sprintf("The layer part size is not valid: bytes %d-%d are %d bytes, the part has %d.", first, last, last-first+1, len(in.LayerPartBlob)))
	}
	if first > 0 && first < minLayerPart {
		// Another part follows a first part under 5 MiB. (Later short
		// parts go unnoticed: no per-part sizes are kept, so that an
		// upload can continue on any node.)
		return nil, errorf("LayerPartTooSmallException", "Layer parts must be at least 5 MiB in size.")
	}
	got, err := a.d.Registry.UploadPart(ctx, reg, name, id, first, in.LayerPartBlob)
	var pe *ecrmodel.PartError
	if errors.As(err, &pe) {
		return nil, invalidLayerPart(reg, name, id, pe.LastValidByte, notConsecutive)
	}
	if err != nil {
		return nil, a.uploadErr(err, reg, name, id)
	}
	return map[string]any{"registryId": reg, "repositoryName": name, "uploadId": id, "lastByteReceived": got}, nil
}

type completeLayerUploadIn struct {
	scopeIn
	UploadID     *string  `json:"uploadId"`
	LayerDigests []string `json:"layerDigests"`
}

func (a *API) completeLayerUpload(ctx context.Context, req *Request, in *completeLayerUploadIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	if err := checkUploadID(in.UploadID); err != nil {
		return nil, err
	}
	id := *in.UploadID
	switch n := len(in.LayerDigests); {
	case in.LayerDigests == nil:
		return nil, missingParam("layerDigests")
	case n < 1:
		return nil, invalidParam("layerDigests", imageListLengthLower)
	case n > 1:
		// The model allows 100, but a layer has one digest and the
		// upload is committed under it.
		return nil, invalidParam("layerDigests", "must contain exactly one layer digest")
	}
	d := in.LayerDigests[0]
	if err := checkLayerDigest("layerDigests", &d); err != nil {
		return nil, err
	}
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	invalid := errorf("InvalidLayerException",
		"The digest calculated for the uploaded layer does not match the layer digest '%s' specified", d)
	if _, err := digest.Parse(d); err != nil {
		return nil, invalid
	}
	switch _, err := a.d.Registry.StatBlob(ctx, reg, name, d); {
	case err == nil:
		return nil, errorf("LayerAlreadyExistsException",
			"The layer with digest '%s' already exists in the repository with name '%s' in the registry with id '%s'", d, name, reg)
	case !errors.Is(err, ecrmodel.ErrBlobUnknown):
		return nil, a.registryErr(err, reg, name)
	}
	err := a.d.Registry.CompleteUpload(ctx, reg, name, id, d)
	switch {
	case errors.Is(err, ecrmodel.ErrEmptyUpload):
		return nil, errorf("EmptyUploadException", "The layer upload with id '%s' does not contain any layer parts", id)
	case errors.Is(err, ecrmodel.ErrDigestMismatch):
		return nil, invalid
	case err != nil:
		return nil, a.uploadErr(err, reg, name, id)
	}
	return map[string]any{"registryId": reg, "repositoryName": name, "uploadId": id, "layerDigest": d}, nil
}

type getDownloadURLForLayerIn struct {
	scopeIn
	LayerDigest *string `json:"layerDigest"`
}

func (a *API) getDownloadURLForLayer(ctx context.Context, req *Request, in *getDownloadURLForLayerIn) (any, error) {
	reg, name := req.RegistryID, req.Repository
	if err := checkLayerDigest("layerDigest", in.LayerDigest); err != nil {
		return nil, err
	}
	d := *in.LayerDigest
	if _, err := a.getRepo(ctx, reg, name); err != nil {
		return nil, err
	}
	missing := errorf("LayersNotFoundException",
		"The image layer with digest '%s' does not exist in the repository with name '%s' in the registry with id '%s'", d, name, reg)
	if !parsableDigest(d) {
		return nil, missing
	}
	if _, err := a.d.Registry.StatBlob(ctx, reg, name, d); err != nil {
		if errors.Is(err, ecrmodel.ErrBlobUnknown) {
			return nil, missing
		}
		return nil, a.registryErr(err, reg, name)
	}
	u, err := a.d.Registry.DownloadURL(ctx, reg, name, d)
	if err != nil {
		return nil, err
	}
	return map[string]any{"downloadUrl": u, "layerDigest": d}, nil
}
