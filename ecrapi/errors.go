package ecrapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/berth-registry/berth/ecrmodel"
)

// Error is an ECR exception: Type is the shape name sent in __type and
// X-Amzn-ErrorType (e.g. "RepositoryNotFoundException"). Extra carries the
// exception's additional members (InvalidLayerPartException's
// lastValidByteReceived, ...).
type Error struct {
	Type    string
	Message string
	Extra   map[string]any
	// status overrides the HTTP status (default: 400, 500 for
	// ServerException).
	status int
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Status is the HTTP status the exception is sent with.
func (e *Error) Status() int {
	switch {
	case e.status != 0:
		return e.status
	case e.Type == "ServerException":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// errorf builds an *Error.
func errorf(typ, format string, a ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, a...)}
}

// invalidParam is ECR's InvalidParameterException wording for a
// constraint failure.
func invalidParam(field, constraint string) *Error {
	return errorf("InvalidParameterException", "Invalid parameter at '%s' failed to satisfy constraint: '%s'", field, constraint)
}

// missingParam is the ValidationException AWS answers for a missing
// required member.
func missingParam(field string) *Error {
	return errorf("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

// writeError sends err as ECR does. Anything that is not an *Error is a
// fault of berth's: logged with the request id and sent as ServerException
// without internals.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, reqID string, err error) {
	var e *Error
	var ae awsError
	if !errors.As(err, &e) && errors.As(err, &ae) {
		e = &Error{Type: ae.AWSErrorType(), Message: ae.AWSMessage(), status: ae.HTTPStatus()}
	}
	if e == nil {
		a.d.Log.Error("ecr api: internal error", "request_id", reqID, "target", r.Header.Get("X-Amz-Target"), "err", err)
		e = &Error{Type: "ServerException", Message: "Internal error; quote request id " + reqID}
	}
	body := map[string]any{}
	for k, v := range e.Extra {
		body[k] = v
	}
	body["__type"] = e.Type
	body["message"] = e.Message
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(e.Status())
	_, _ = w.Write(b)
}

// awsError is an error from another layer (SigV4 verification, login
// tokens) that already names its AWS exception.
type awsError interface {
	error
	AWSErrorType() string
	AWSMessage() string
	HTTPStatus() int
}

func newRequestID() string { return ecrmodel.NewRequestID() }
