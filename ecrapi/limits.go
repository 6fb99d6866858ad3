package ecrapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/berth-registry/berth/internal/httpx"
)

// Request body limits, from the service model's member constraints. A
// JSON string member of n characters may take up to 6n bytes on the wire
// (Go's encoder writes <, > and & as \u003c, botocore every non-ASCII
// character as \uXXXX), so the limits leave room for that.
const (
	// maxUploadLayerPart: layerPartBlob is at most 20,971,520 bytes, whose
	// base64 is 27,962,028 bytes (base64 needs no escaping), plus the ids.
	maxUploadLayerPart = 28 << 20
	// maxPutImage: imageManifest is at most 4,194,304 characters and the
	// registry stores at most 4 MiB of manifest, each byte escaped to at
	// most 6; plus the other members.
	maxPutImage = 6*(4<<20) + 64<<10
	// maxDocument: operations carrying policy documents (10,240
	// characters; lifecycle policies 30,720), creation templates (both,
	// plus tags) and replication rules (10 rules of 100 destinations and
	// 100 filters).
	maxDocument = 1 << 20
	// maxSmall: everything else carries names, ids, digests, tags and
	// lists of at most 100 of them: a few KB in practice.
	maxSmall = 256 << 10
)

// bodyLimits names the operations whose bodies may exceed maxSmall.
var bodyLimits = map[string]int64{
	"UploadLayerPart":                  maxUploadLayerPart,
	"PutImage":                         maxPutImage,
	"SetRepositoryPolicy":              maxDocument,
	"PutRegistryPolicy":                maxDocument,
	"PutLifecyclePolicy":               maxDocument,
	"StartLifecyclePolicyPreview":      maxDocument,
	"CreateRepositoryCreationTemplate": maxDocument,
	"UpdateRepositoryCreationTemplate": maxDocument,
	"PutReplicationConfiguration":      maxDocument,
}

// bodyLimit is the largest body operation name may carry.
func bodyLimit(name string) int64 {
	if n, ok := bodyLimits[name]; ok {
		return n
	}
	return maxSmall
}

// bodyBudget bounds the request bodies the API holds in memory at once:
// read, verified and decoded. A caller whose access key is known but whose
// signature is wrong is only found out once its body is in, so without a
// bound a flood of such calls costs memory (the Go heap then grows to
// about twice the budget before a collection). It holds two maximum-size
// UploadLayerPart calls, the ECR proxy's call (docker and SDK pushes go
// through /v2); other calls carry a few KB and reserve what they declare.
const bodyBudget = 64 << 20

// budgetWait is how long a call waits for room in the budget before it is
// throttled (SDKs retry ThrottlingException with backoff). A variable for
// the tests.
var budgetWait = 10 * time.Second

func newBudget() *semaphore.Weighted { return semaphore.NewWeighted(bodyBudget) }

// readBody reads the body of an operation whose caller passed the
// header checks: refused unread when its declared length is over the
// operation's limit, held to the API's minimum rate, counted against the
// body budget. release gives the budget back.
func (a *API) readBody(w http.ResponseWriter, r *http.Request, op string) (body []byte, release func(), err error) {
	limit := bodyLimit(op)
	if r.ContentLength > limit {
		return nil, nil, tooLarge(op, limit)
	}
	httpx.Limit(w, r, a.d.BodyRate)
	need := limit
	if r.ContentLength >= 0 {
		need = r.ContentLength
	}
	ctx, cancel := context.WithTimeout(r.Context(), budgetWait)
	defer cancel()
	if err := a.bodies.Acquire(ctx, need); err != nil {
		return nil, nil, &Error{Type: "ThrottlingException", Message: "Rate exceeded"}
	}
	release = func() { a.bodies.Release(need) }
	body, err = readAtMost(r.Body, r.ContentLength, limit)
	switch {
	case errors.Is(err, httpx.ErrSlowBody):
		release()
		return nil, nil, &Error{Type: "RequestTimeoutException", status: http.StatusRequestTimeout,
			Message: "Your request body was not received within the timeout period: it arrived too slowly."}
	case err != nil:
		release()
		return nil, nil, &Error{Type: "SerializationException", Message: "reading the request body: " + err.Error()}
	case int64(len(body)) > limit:
		release()
		return nil, nil, tooLarge(op, limit)
	}
	return body, release, nil
}

// readAtMost reads a body of at most limit bytes (limit+1 when longer).
// With a declared length it reads into one buffer of that size: growing a
// buffer as io.ReadAll does leaves about as much garbage again as the body
// (28 MiB for a maximal UploadLayerPart), which a flood multiplies.
func readAtMost(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared < 0 || declared > limit {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	buf := make([]byte, declared)
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, fmt.Errorf("the body is shorter than its Content-Length: %w", err)
		}
		return nil, err
	}
	return buf, nil
}

func tooLarge(op string, limit int64) *Error {
	return &Error{Type: "ValidationException", status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("Request body exceeds the %d bytes %s accepts", limit, op)}
}
