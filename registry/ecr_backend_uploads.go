package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/distribution/distribution/v3"
	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// InitiateUpload opens an upload session; its id is distribution's UUID.
func (b *ECRBackend) InitiateUpload(ctx context.Context, registryID, repo string) (string, error) {
	ctx, r, err := b.repository(ctx, registryID, repo, http.MethodPost)
	if err != nil {
		return "", err
	}
	bw, err := r.Blobs(ctx).Create(ctx)
	if err != nil {
		return "", err
	}
	id := bw.ID()
	if err := bw.Close(); err != nil {
		return "", err
	}
	b.meta.noteUpload(ctx, registryID, repo, id)
	return id, nil
}

// resume opens upload id for writing, holding its lease (one writer per
// upload, whichever node or path writes it).
func (b *ECRBackend) resume(ctx context.Context, registryID, repo, id, method string) (distribution.BlobWriter, func(), error) {
	ctx, r, err := b.repository(ctx, registryID, repo, method)
	if err != nil {
		return nil, nil, err
	}
	release, ok, err := b.meta.claimUpload(ctx, id, "ecr/"+ecrmodel.NewRequestID())
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, ecrmodel.ErrRetry
	}
	bw, err := r.Blobs(ctx).Resume(ctx, id)
	if err != nil {
		release()
		if errors.Is(err, distribution.ErrBlobUploadUnknown) {
			return nil, nil, fmt.Errorf("%w: %s", ecrmodel.ErrUploadUnknown, id)
		}
		return nil, nil, err
	}
	return bw, release, nil
}

// UploadPart appends data at offset first and returns the last byte now
// received.
func (b *ECRBackend) UploadPart(ctx context.Context, registryID, repo, uploadID string, first int64, data []byte) (int64, error) {
	bw, release, err := b.resume(ctx, registryID, repo, uploadID, http.MethodPatch)
	if errors.Is(err, ecrmodel.ErrRetry) {
		// Another part is being written: the client asks again.
		return 0, &ecrmodel.PartError{LastValidByte: first - 1}
	}
	if err != nil {
		return 0, err
	}
	defer release()
	if size := bw.Size(); size != first {
		_ = bw.Close()
		return 0, &ecrmodel.PartError{LastValidByte: size - 1}
	}
	if _, err := bw.ReadFrom(bytes.NewReader(data)); err != nil {
		_ = bw.Close()
		return 0, err
	}
	if err := bw.Close(); err != nil {
		return 0, err
	}
	b.meta.noteUpload(ctx, registryID, repo, uploadID)
	return bw.Size() - 1, nil
}

// CompleteUpload commits the upload as blob dgst, recording the
// repository's link to it first (as a /v2 completion does).
func (b *ECRBackend) CompleteUpload(ctx context.Context, registryID, repo, uploadID, dgst string) error {
	d, err := digest.Parse(dgst)
	if err != nil {
		return fmt.Errorf("%w: %s", ecrmodel.ErrDigestMismatch, dgst)
	}
	bw, release, err := b.resume(ctx, registryID, repo, uploadID, http.MethodPut)
	if err != nil {
		return err
	}
	defer release()
	if bw.Size() == 0 {
		_ = bw.Close()
		return fmt.Errorf("%w: %s", ecrmodel.ErrEmptyUpload, uploadID)
	}
	if err := b.meta.recordLink(ctx, registryID, repo, d, nil, metadata.EventUpload); err != nil {
		_ = bw.Close()
		if metadata.Is(err, metadata.Changed) {
			return ecrmodel.ErrRetry
		}
		return err
	}
	if _, err := bw.Commit(ctx, v1.Descriptor{Digest: d}); err != nil {
		var bad distribution.ErrBlobInvalidDigest
		if errors.As(err, &bad) || errors.Is(err, distribution.ErrBlobInvalidLength) || errors.Is(err, digest.ErrDigestUnsupported) {
			return fmt.Errorf("%w: %v", ecrmodel.ErrDigestMismatch, err)
		}
		return err
	}
	b.meta.forgetUpload(ctx, uploadID)
	return nil
}
