package ecrmodel

import (
	"errors"
	"strings"
)

// What the embedded registry answers in-process calls (the ECR API's
// uploads, PutImage, BatchGetImage, …) with: typed values the edges word
// for their clients, never wording to be parsed back.
var (
	ErrRepositoryUnknown    = errors.New("repository unknown")
	ErrManifestUnknown      = errors.New("manifest unknown")
	ErrBlobUnknown          = errors.New("blob unknown")
	ErrUploadUnknown        = errors.New("upload unknown")
	ErrDigestMismatch       = errors.New("digest does not match content")
	ErrEmptyUpload          = errors.New("upload is empty")
	ErrTagImmutable         = errors.New("tag is immutable")
	ErrMediaTypeNotAccepted = errors.New("media type not accepted")
	// ErrRetry: the garbage collector is removing what the call needs;
	// the same call succeeds in a few seconds.
	ErrRetry = errors.New("being garbage collected; retry")
)

// ManifestInvalidError is a body that is not a manifest berth accepts.
type ManifestInvalidError struct{ Reason string }

func (e *ManifestInvalidError) Error() string { return "manifest invalid: " + e.Reason }

// ManifestRefsUnknownError is a manifest naming what the repository does
// not have: layers or its config, or (Children) an index's manifests.
type ManifestRefsUnknownError struct {
	Digests  []string
	Children bool
}

func (e *ManifestRefsUnknownError) Error() string {
	what := "blobs"
	if e.Children {
		what = "manifests"
	}
	return "manifest references unknown " + what + ": " + strings.Join(e.Digests, ", ")
}

// PartError is an upload part whose first byte does not follow the bytes
// received so far.
type PartError struct{ LastValidByte int64 }

func (e *PartError) Error() string { return "layer part not consecutive to the last byte received" }

// Manifest is a stored manifest as the registry serves it.
type Manifest struct {
	Digest    string
	MediaType string
	Body      []byte
}
