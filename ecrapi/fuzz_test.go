package ecrapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/internal/regtest"
)

// FuzzRequest sends any body to any operation, signed by a valid key, to a
// whole in-process berth (SQLite, encrypted storage, registry): the API
// never panics, never answers a client's input with a 5xx, and every
// error is ECR's shape (__type matching X-Amzn-ErrorType, a message).
// Seeds: testdata/fuzz/FuzzRequest and one empty object per operation.
func FuzzRequest(f *testing.F) {
	s := regtest.New(f)
	for _, op := range ecrapi.Operations() {
		f.Add(op, []byte(`{}`))
	}
	creds := aws.Credentials{AccessKeyID: s.AccessKeyID, SecretAccessKey: s.SecretAccessKey}
	signer := v4.NewSigner()
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "https://"+s.Host+"/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", ecrapi.TargetPrefix+op)
		if err := signer.SignHTTP(context.Background(), creds, r, hashOf(body), "ecr", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		s.Node.API.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %q: %d %s", op, body, w.Code, w.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %q: %d, not a JSON object: %q", op, body, w.Code, w.Body)
		}
		if w.Code == http.StatusOK {
			return
		}
		typ, _ := out["__type"].(string)
		msg, _ := out["message"].(string)
		if typ == "" || typ != w.Header().Get("X-Amzn-ErrorType") || msg == "" {
			t.Fatalf("%s %q: %d, not an ECR error: %s", op, body, w.Code, w.Body)
		}
	})
}
