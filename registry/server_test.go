package registry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/metadata"
)

// failingDriver fails every read, as a storage outage would.
type failingDriver struct{ storagedriver.StorageDriver }

func (failingDriver) GetContent(context.Context, string) ([]byte, error) {
	return nil, errors.New("dial tcp 10.9.8.7:9000: connect: connection refused (bucket secret-bucket)")
}

func (failingDriver) Stat(context.Context, string) (storagedriver.FileInfo, error) {
	return nil, errors.New("dial tcp 10.9.8.7:9000: connect: connection refused (bucket secret-bucket)")
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := testClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestMetrics: every request is counted by route, method and status.
func TestMetrics(t *testing.T) {
	url := serve(t, inmemory.New())
	get(t, url+"/v2/")
	get(t, url+"/v2/some/repo/manifests/latest")
	_, body, _ := get(t, url+"/metrics")
	for _, want := range []string{
		`berth_http_requests_total{code="200",method="GET",route="base"} 1`,
		`berth_http_requests_total{code="404",method="GET",route="manifest"} 1`,
		`berth_http_request_duration_seconds_bucket{method="GET",route="manifest"`,
		`berth_http_response_bytes_total{route="manifest"}`,
		`berth_build_info{goversion="go`,
		`berth_storage_encryption_errors_total 0`,
		`registry_storage_action_seconds`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestInternalErrorsDoNotLeakStorageDetails(t *testing.T) {
	ts := startTestServer(t, AppOptions{Driver: failingDriver{inmemory.New()}, HTTPSecret: "t", PurgeAge: time.Hour})
	if _, err := ts.store.CreateRepository(context.Background(), metadata.Repository{RegistryID: testReg, Name: "some/repo"}); err != nil {
		t.Fatal(err)
	}
	code, body, h := get(t, ts.url+"/v2/some/repo/blobs/"+digest.FromString("x").String())
	if code < 500 {
		t.Fatalf("want a 5xx from a failing store, got %d %s", code, body)
	}
	if strings.Contains(body, "10.9.8.7") || strings.Contains(body, "secret-bucket") {
		t.Fatalf("storage details leaked to the client: %s", body)
	}
	if id := h.Get("X-Request-Id"); id == "" || !strings.Contains(body, id) {
		t.Fatalf("no request id to quote: %q %s", id, body)
	}
}

func TestBadNamesGetRegistryErrors(t *testing.T) {
	url := serve(t, inmemory.New())
	for _, c := range []struct {
		path string
		code int
		err  string
	}{
		{"/v2/UPPER/case/manifests/x", 400, "NAME_INVALID"},
		{"/v2/a..b/tags/list", 400, "NAME_INVALID"},
		{"/v2/" + strings.Repeat("a", 256) + "/manifests/x", 400, "NAME_INVALID"},
		{"/v2/nothing-here", 404, "UNSUPPORTED"},
	} {
		code, body, _ := get(t, url+c.path)
		if code != c.code || !strings.Contains(body, `"code":"`+c.err+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.path[:min(len(c.path), 40)], code, body, c.code, c.err)
		}
	}
}
