package registry

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/ecrapi"
)

// InitiateUpload opens an upload session; its id is distribution's UUID.
func (b *ECRBackend) InitiateUpload(ctx context.Context, registryID, repo string) (string, error) {
	const op = "InitiateUpload"
	rec := b.call(ctx, registryID, http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil, nil)
	if rec.code != http.StatusAccepted {
		return "", b.fail(op, rec, "")
	}
	id := rec.header.Get("Docker-Upload-UUID")
	if id == "" {
		return "", &BackendError{Op: op, Status: rec.code, Detail: "no Docker-Upload-UUID"}
	}
	return id, nil
}

// UploadPart appends data at offset first and returns the last byte now
// received.
func (b *ECRBackend) UploadPart(ctx context.Context, registryID, repo, uploadID string, first int64, data []byte) (int64, error) {
	const op = "UploadPart"
	loc, received, err := b.uploadStatus(ctx, op, registryID, repo, uploadID)
	if err != nil {
		return 0, err
	}
	if first != received {
		return 0, &ecrapi.PartError{LastValidByte: received - 1}
	}
	if len(data) == 0 {
		return received - 1, nil
	}
	last := first + int64(len(data)) - 1
	h := http.Header{
		"Content-Type":   {"application/octet-stream"},
		"Content-Range":  {fmt.Sprintf("%d-%d", first, last)},
		"Content-Length": {strconv.Itoa(len(data))}, // distribution checks the range only with it
	}
	rec := b.call(ctx, registryID, http.MethodPatch, loc, h, data)
	switch rec.code {
	case http.StatusAccepted:
		return last, nil
	case http.StatusRequestedRangeNotSatisfiable:
		// Another part landed since the status: report where it ended.
		if _, received, err = b.uploadStatus(ctx, op, registryID, repo, uploadID); err != nil {
			return 0, err
		}
		return 0, &ecrapi.PartError{LastValidByte: received - 1}
	}
	return 0, b.fail(op, rec, "")
}

// CompleteUpload commits the upload as blob dgst.
func (b *ECRBackend) CompleteUpload(ctx context.Context, registryID, repo, uploadID, dgst string) error {
	const op = "CompleteUpload"
	if _, err := digest.Parse(dgst); err != nil {
		return &BackendError{Op: op, Kind: ecrapi.ErrDigestMismatch, Detail: dgst, Err: err}
	}
	loc, received, err := b.uploadStatus(ctx, op, registryID, repo, uploadID)
	if err != nil {
		return err
	}
	if received == 0 {
		return &BackendError{Op: op, Kind: ecrapi.ErrEmptyUpload, Detail: uploadID}
	}
	u, _ := url.Parse(loc) // built by uploadStatus
	q := u.Query()
	q.Set("digest", dgst)
	u.RawQuery = q.Encode()
	rec := b.call(ctx, registryID, http.MethodPut, u.RequestURI(), nil, nil)
	if rec.code == http.StatusCreated {
		return nil
	}
	e := b.fail(op, rec, "")
	if e.Code == "BLOB_UPLOAD_INVALID" {
		e.Kind = ecrapi.ErrDigestMismatch // wrong length or an unsupported digest
	}
	return e
}

// uploadStatus asks /v2 where upload id stands: the request target for
// its next PATCH or PUT (with a fresh _state) and the bytes received.
func (b *ECRBackend) uploadStatus(ctx context.Context, op, registryID, repo, id string) (string, int64, error) {
	rec := b.call(ctx, registryID, http.MethodGet, "/v2/"+repo+"/blobs/uploads/"+url.PathEscape(id), nil, nil)
	if rec.code != http.StatusNoContent {
		return "", 0, b.fail(op, rec, "")
	}
	loc, err := url.Parse(rec.header.Get("Location"))
	if err != nil || loc.Path == "" {
		return "", 0, &BackendError{Op: op, Status: rec.code, Detail: "no usable Location for upload " + id}
	}
	received, ok := stateOffset(loc.Query().Get("_state"))
	if !ok {
		received = rangeSize(rec.header.Get("Range"))
	}
	return loc.RequestURI(), received, nil
}

// stateOffset reads the offset from distribution's upload state token
// (base64url of an HMAC-SHA256 followed by the JSON state). The Range
// header cannot tell 0 bytes from 1 ("0-0" for both); the token can. The
// token came from our own App, so there is nothing to verify.
func stateOffset(token string) (int64, bool) {
	b, err := base64.URLEncoding.DecodeString(token)
	if err != nil || len(b) <= sha256.Size {
		return 0, false
	}
	var st struct{ Offset *int64 }
	if json.Unmarshal(b[sha256.Size:], &st) != nil || st.Offset == nil {
		return 0, false
	}
	return *st.Offset, true
}

// rangeSize reads a Range header "0-<last>" ("0-0" taken as empty).
func rangeSize(h string) int64 {
	_, last, ok := strings.Cut(h, "-")
	n, err := strconv.ParseInt(last, 10, 64)
	if !ok || err != nil || n <= 0 {
		return 0
	}
	return n + 1
}
