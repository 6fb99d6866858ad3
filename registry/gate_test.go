package registry

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// The gate's rules, each asked of the real Server on httptest: who may
// ask (401 and its shape, the expired token's 403), what exists
// (NAME_UNKNOWN, create-on-push with and without ecr:CreateRepository),
// the catalog's paging, and BLOB_MOUNTING.

const (
	expiredPassword = "expired-token"
	otherPassword   = "other-account-token"
	otherAccount    = "210987654321"
)

// gateCredentials knows testPassword (testReg's tester), expiredPassword
// (a login token past its expiry) and otherPassword (another account).
type gateCredentials struct{}

func (gateCredentials) Basic(ctx context.Context, user, password string) (auth.Principal, error) {
	switch {
	case user == testUser && password == expiredPassword:
		return auth.Principal{}, ecrmodel.ErrTokenExpired
	case user == testUser && password == otherPassword:
		return auth.Principal{ARN: "arn:aws:iam::" + otherAccount + ":user/stranger", Account: otherAccount}, nil
	}
	return testCredentials{}.Basic(ctx, user, password)
}

// denyActions refuses the actions it lists and allows the rest.
type denyActions map[string]bool

func (d denyActions) AuthorizeRegistry(_ context.Context, p auth.Principal, _ string, a ecrmodel.Access, _ *http.Request) error {
	if d[a.Action] {
		return &ecrmodel.DeniedError{Message: "User: " + p.ARN + " is not authorized to perform: " + a.Action}
	}
	return nil
}

// gateServer is a Server whose gate uses gateCredentials and, when deny is
// not nil, denies those actions.
func gateServer(t *testing.T, deny denyActions) *testServer {
	t.Helper()
	return startTestServer(t, AppOptions{Driver: inmemory.New(), HTTPSecret: "gate-test", PurgeAge: time.Hour}, func(g *GateOptions) {
		g.Credentials = gateCredentials{}
		if deny != nil {
			g.Authorizer = deny
		}
	})
}

// send makes one request with Basic credentials (password "" sends none).
func (ts *testServer) send(t *testing.T, method, path, password string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		req.SetBasicAuth(testUser, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: body}
}

// errMessage is the message of the first registry error in the body.
func (r response) errMessage() string {
	var e struct {
		Errors []struct{ Message string } `json:"errors"`
	}
	if json.Unmarshal(r.body, &e) != nil || len(e.Errors) == 0 {
		return ""
	}
	return e.Errors[0].Message
}

func TestGateAuthentication(t *testing.T) {
	ts := gateServer(t, nil)
	const realm = `Basic realm="https://registry.test/",service="ecr.amazonaws.com"`
	for _, tc := range []struct {
		name, method, path, password string
		code                         int
		errCode, message             string
	}{
		{name: "no credentials, base", method: "GET", path: "/v2/", code: 401},
		{name: "no credentials, manifest", method: "GET", path: "/v2/app/manifests/latest", code: 401},
		{name: "no credentials, upload", method: "POST", path: "/v2/app/blobs/uploads/", code: 401},
		{name: "no credentials, catalog", method: "GET", path: "/v2/_catalog", code: 401},
		{name: "wrong password", method: "GET", path: "/v2/", password: "not-a-token", code: 401},
		{name: "expired token", method: "GET", path: "/v2/app/tags/list", password: expiredPassword, code: 403,
			errCode: "DENIED", message: "Your authorization token has expired. Reauthenticate and try again."},
		{name: "valid token", method: "GET", path: "/v2/", password: testPassword, code: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.send(t, tc.method, tc.path, tc.password)
			if r.code != tc.code {
				t.Fatalf("status %d, want %d: %s", r.code, tc.code, r.body)
			}
			if got := r.header.Get("Docker-Distribution-Api-Version"); got != "registry/2.0" {
				t.Errorf("Docker-Distribution-Api-Version %q", got)
			}
			switch tc.code {
			case 401:
				// ECR's exact answer: docker reads the realm to log in.
				if got := r.header.Get("Www-Authenticate"); got != realm {
					t.Errorf("Www-Authenticate %q, want %q", got, realm)
				}
				if string(r.body) != "Not Authorized\n" {
					t.Errorf("body %q", r.body)
				}
			case 403:
				if r.errCode() != tc.errCode || r.errMessage() != tc.message {
					t.Errorf("error %s %q, want %s %q", r.errCode(), r.errMessage(), tc.errCode, tc.message)
				}
			}
		})
	}
}

func TestGateRepositories(t *testing.T) {
	ctx := context.Background()
	exists := func(ts *testServer, name string) bool {
		_, err := ts.store.GetRepository(ctx, testReg, name)
		if err != nil && !metadata.Is(err, metadata.NotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	nameUnknown := "The repository with name 'absent' does not exist in the registry with id '" + testReg + "'"

	t.Run("NAME_UNKNOWN on a pull", func(t *testing.T) {
		ts := gateServer(t, nil)
		for _, path := range []string{"/v2/absent/manifests/latest", "/v2/absent/tags/list",
			"/v2/absent/blobs/" + digest.FromString("x").String()} {
			r := ts.send(t, "GET", path, testPassword)
			if r.code != 404 || r.errCode() != "NAME_UNKNOWN" || r.errMessage() != nameUnknown {
				t.Errorf("GET %s: %d %s", path, r.code, r.body)
			}
		}
		if exists(ts, "absent") {
			t.Fatal("a pull created the repository")
		}
	})
	t.Run("create on push", func(t *testing.T) {
		ts := gateServer(t, denyActions{})
		r := ts.send(t, "POST", "/v2/absent/blobs/uploads/", testPassword)
		if r.code != http.StatusAccepted || !exists(ts, "absent") {
			t.Fatalf("push to a new repository under a ROOT CREATE_ON_PUSH template: %d %s", r.code, r.body)
		}
	})
	t.Run("create on push without ecr:CreateRepository", func(t *testing.T) {
		ts := gateServer(t, denyActions{"ecr:CreateRepository": true})
		r := ts.send(t, "POST", "/v2/absent/blobs/uploads/", testPassword)
		want := "User: arn:aws:iam::" + testReg + ":user/tester is not authorized to perform: ecr:CreateRepository"
		if r.code != 403 || r.errCode() != "DENIED" || r.errMessage() != want {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if exists(ts, "absent") {
			t.Fatal("a refused push created the repository")
		}
	})
	t.Run("no template", func(t *testing.T) {
		ts := gateServer(t, nil)
		if _, err := ts.store.DeleteTemplate(ctx, testReg, "ROOT"); err != nil {
			t.Fatal(err)
		}
		r := ts.send(t, "POST", "/v2/absent/blobs/uploads/", testPassword)
		if r.code != 404 || r.errCode() != "NAME_UNKNOWN" || r.errMessage() != nameUnknown || exists(ts, "absent") {
			t.Fatalf("%d %s", r.code, r.body)
		}
	})
	t.Run("another account", func(t *testing.T) {
		ts := gateServer(t, nil)
		r := ts.send(t, "POST", "/v2/absent/blobs/uploads/", otherPassword)
		if r.code != 403 || r.errCode() != "DENIED" || !strings.Contains(r.errMessage(), "user/stranger is not authorized to perform: ecr:InitiateLayerUpload") {
			t.Fatalf("%d %s", r.code, r.body)
		}
		if exists(ts, "absent") {
			t.Fatal("another account's push created the repository")
		}
	})
}

func TestGateCatalog(t *testing.T) {
	ts := gateServer(t, nil)
	ctx := context.Background()
	want := []string{"a/1", "a/2", "b", "c/x/y", "d"}
	for _, n := range want {
		if _, err := ts.store.CreateRepository(ctx, metadata.Repository{RegistryID: testReg, Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	path, pages := "/v2/_catalog?n=2", 0
	for path != "" {
		r := ts.send(t, "GET", path, testPassword)
		if r.code != 200 {
			t.Fatalf("GET %s: %d %s", path, r.code, r.body)
		}
		var page struct{ Repositories []string }
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Repositories) > 2 {
			t.Fatalf("page of %d with n=2", len(page.Repositories))
		}
		got = append(got, page.Repositories...)
		pages++
		path = ""
		if link := r.header.Get("Link"); link != "" {
			path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("catalog in %d pages: %v, want %v", pages, got, want)
	}
	for _, tc := range []struct {
		query   string
		code    int
		errCode string
		count   int
	}{
		{"n=0", 200, "", 0},
		{"n=-1", 400, "PAGINATION_NUMBER_INVALID", 0},
		{"n=ten", 400, "PAGINATION_NUMBER_INVALID", 0},
		{"last=" + url.QueryEscape("b"), 200, "", 2},
	} {
		r := ts.send(t, "GET", "/v2/_catalog?"+tc.query, testPassword)
		var page struct{ Repositories []string }
		_ = json.Unmarshal(r.body, &page)
		if r.code != tc.code || r.errCode() != tc.errCode || (tc.code == 200 && (page.Repositories == nil || len(page.Repositories) != tc.count)) {
			t.Errorf("?%s: %d %s", tc.query, r.code, r.body)
		}
	}
}

func TestGateBlobMounting(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		setting string
		code    int
	}{
		{"ENABLED", http.StatusCreated},
		// As on ECR: the mount is ignored and a plain upload starts.
		{"DISABLED", http.StatusAccepted},
	} {
		t.Run(tc.setting, func(t *testing.T) {
			ts := gateServer(t, nil)
			if err := ts.store.PutSetting(ctx, testReg, "account.BLOB_MOUNTING", tc.setting); err != nil {
				t.Fatal(err)
			}
			tr := &testRegistry{t: t, url: ts.url}
			dg := tr.pushBlob("from", []byte("a layer both repositories use"), digest.SHA256)
			r := ts.send(t, "POST", "/v2/into/blobs/uploads/?mount="+dg.String()+"&from=from", testPassword)
			if r.code != tc.code {
				t.Fatalf("mount with BLOB_MOUNTING %s: %d %s", tc.setting, r.code, r.body)
			}
			head := ts.send(t, "HEAD", "/v2/into/blobs/"+dg.String(), testPassword)
			if want := map[bool]int{true: 200, false: 404}[tc.code == http.StatusCreated]; head.code != want {
				t.Fatalf("HEAD of the blob in the target: %d, want %d", head.code, want)
			}
		})
	}
}
