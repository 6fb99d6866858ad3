package ecrapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/metadata"
)

// TestDecodeOnce: each body is decoded once, before the registry, the
// repository and the authorization targets are read from it, so a
// malformed body is a SerializationException whichever member is wrong,
// unknown members are ignored, and a body that is no object is told so
// without naming Go types.
func TestDecodeOnce(t *testing.T) {
	st, err := metadata.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	api := ecrapi.New(ecrapi.Deps{Store: st, Authn: testAuthn{}, RegistryID: testRegistryID, Region: testRegion,
		Host: "localhost:5000", PageKey: []byte("0123456789abcdef0123456789abcdef")})
	call := func(op, body string) (int, string, string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", ecrapi.TargetPrefix+op)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &e)
		return w.Code, e.Type, e.Message
	}
	for _, c := range []struct {
		op, body     string
		status       int
		typ, message string
	}{
		{"ListImages", `{"repositoryName":"a","maxResults":"x"}`, 400, "SerializationException", "Invalid JSON: 'maxResults' must be of type int"},
		{"ListImages", `{"repositoryName":5}`, 400, "SerializationException", "Invalid JSON: 'repositoryName' must be of type string"},
		{"DescribeRegistry", `{"registryId":5}`, 400, "SerializationException", "Invalid JSON: 'registryId' must be of type string"},
		{"CreateRepository", `{"repositoryName":"a","tags":{}}`, 400, "SerializationException", "Invalid JSON: 'tags' must be of type []ecrapi.tagIn"},
		{"ListImages", `[]`, 400, "SerializationException", "Invalid JSON: the request body must be a JSON object"},
		{"ListImages", `{"repositoryName":"a"`, 400, "SerializationException", "Invalid JSON: syntax error at offset 21"},
		{"ListImages", `{"maxResults":5}`, 400, "ValidationException",
			"1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null"},
		{"ListImages", `{"repositoryName":"aa","unknownMember":true}`, 400, "RepositoryNotFoundException",
			"The repository with name 'aa' does not exist in the registry with id '123456789012'"},
		{"DescribeRepositories", `{"registryId":"123456789012","whatever":[1]}`, 200, "", ""},
	} {
		status, typ, msg := call(c.op, c.body)
		if status != c.status || typ != c.typ || msg != c.message {
			t.Errorf("%s %s: %d %s %q, want %d %s %q", c.op, c.body, status, typ, msg, c.status, c.typ, c.message)
		}
	}
}
