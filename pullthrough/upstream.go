package pullthrough

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/berth-registry/berth/internal/httpx"
)

// Credentials are an upstream login (basic auth, or the credentials a
// token endpoint takes).
type Credentials struct {
	Username, Password string
}

// UpstreamError is a failure to reach or read an upstream, with the
// upstream's HTTP status when it answered (0: unreachable).
type UpstreamError struct {
	Status int
	Err    error
}

func (e *UpstreamError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("upstream answered %d: %v", e.Status, e.Err)
	}
	return "upstream unreachable: " + e.Err.Error()
}
func (e *UpstreamError) Unwrap() error { return e.Err }

// Unreachable reports whether err is an upstream that did not answer (or
// answered 5xx/429): the cache is served instead.
func Unreachable(err error) bool {
	var ue *UpstreamError
	return errors.As(err, &ue) && (ue.Status == 0 || ue.Status >= 500 || ue.Status == http.StatusTooManyRequests)
}

// NotFoundUpstream reports whether the upstream said the content does not
// exist.
func NotFoundUpstream(err error) bool {
	var ue *UpstreamError
	return errors.As(err, &ue) && ue.Status == http.StatusNotFound
}

// Denied reports whether the upstream refused the credentials, or a
// rule's role could not log in to its ECR upstream (other than by the
// upstream not answering).
func Denied(err error) bool {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Status == http.StatusUnauthorized || ue.Status == http.StatusForbidden
	}
	var re *RoleError
	return errors.As(err, &re)
}

// NewHTTPClient is the client berth reaches upstreams with: HTTPS checked
// against the system trust store (SSL_CERT_FILE works) plus caFile's
// certificates when set.
//
// It speaks HTTP/1.1 only, each fetch on a kept-alive connection of its
// own: blobs are streamed to the puller as they arrive, and Go's HTTP/2
// client moved a 64 MiB blob from the reference registry at 300-370 MB/s
// for 155-170 ms of CPU, HTTP/1.1 at 490-640 MB/s for 90-115 ms (both
// on one machine); HTTP/2 would also put all of an upstream's concurrent
// blob fetches on one TCP connection, each stream held to a 4 MiB window
// per round trip.
func NewHTTPClient(caFile string) (*http.Client, error) {
	pool, err := httpx.Roots(caFile)
	if err != nil {
		return nil, fmt.Errorf("pull-through CA file: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP1(true)
	// Concurrent pulls each hold a connection; keep them for the next
	// fetch rather than a TLS handshake each (the default keeps 2).
	tr.MaxIdleConnsPerHost = 32
	tr.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: tr, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		// Blob redirects to storage must not carry the registry's token.
		if len(via) > 0 && r.URL.Host != via[0].URL.Host {
			r.Header.Del("Authorization")
		}
		return nil
	}}, nil
}

// Upstream is one upstream registry reached over HTTPS, anonymously or
// with Credentials: it answers a 401 with the challenge's scheme — Basic,
// or Bearer through the token endpoint the challenge names (Docker Hub,
// distribution's token auth) — and caches the tokens per scope.
type Upstream struct {
	HTTP  *http.Client
	Host  string // host[:port]
	Creds *Credentials

	// Observe, when set, sees each request's latency and outcome.
	Observe func(d time.Duration, err error)

	mu     sync.Mutex
	tokens map[string]string // scope → bearer token
	basic  bool
}

func (u *Upstream) url(path string) string { return "https://" + u.Host + path }

// Ping logs in: GET /v2/ (with the token for the registry, no scope).
func (u *Upstream) Ping(ctx context.Context) error {
	resp, err := u.do(ctx, http.MethodGet, "/v2/", "", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// ManifestAccept is what berth accepts from an upstream.
var ManifestAccept = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// HeadManifest is the upstream's digest of repo:ref.
func (u *Upstream) HeadManifest(ctx context.Context, repo, ref string) (digest string, err error) {
	resp, err := u.do(ctx, http.MethodHead, "/v2/"+repo+"/manifests/"+ref, pullScope(repo), http.Header{"Accept": {ManifestAccept}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Content-Digest"), nil
}

// GetManifest reads repo:ref's manifest (at most 4 MiB).
func (u *Upstream) GetManifest(ctx context.Context, repo, ref string) (body []byte, mediaType string, err error) {
	resp, err := u.do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, pullScope(repo), http.Header{"Accept": {ManifestAccept}})
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20+1))
	if err != nil {
		return nil, "", &UpstreamError{Err: err}
	}
	if len(body) > 4<<20 {
		return nil, "", &UpstreamError{Status: http.StatusBadGateway, Err: errors.New("manifest larger than 4 MiB")}
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// GetBlob opens repo's blob dgst; the caller verifies its digest.
func (u *Upstream) GetBlob(ctx context.Context, repo, dgst string) (io.ReadCloser, int64, error) {
	resp, err := u.do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+dgst, pullScope(repo), nil)
	if err != nil {
		return nil, 0, err
	}
	return resp.Body, resp.ContentLength, nil
}

// HeadBlob is the size the upstream gives for repo's blob dgst, without
// reading it.
func (u *Upstream) HeadBlob(ctx context.Context, repo, dgst string) (int64, error) {
	resp, err := u.do(ctx, http.MethodHead, "/v2/"+repo+"/blobs/"+dgst, pullScope(repo), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.ContentLength, nil
}

func pullScope(repo string) string { return "repository:" + repo + ":pull" }

// do sends one request, answering an auth challenge once.
func (u *Upstream) do(ctx context.Context, method, path, scope string, hdr http.Header) (resp *http.Response, err error) {
	if u.Observe != nil {
		start := time.Now()
		defer func() { u.Observe(time.Since(start), err) }()
	}
	send := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, method, u.url(path), nil)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		u.mu.Lock()
		tok, basic := u.tokens[scope], u.basic
		u.mu.Unlock()
		switch {
		case tok != "":
			req.Header.Set("Authorization", "Bearer "+tok)
		case basic && u.Creds != nil:
			req.SetBasicAuth(u.Creds.Username, u.Creds.Password)
		}
		resp, err := u.HTTP.Do(req)
		if err != nil {
			return nil, &UpstreamError{Err: err}
		}
		return resp, nil
	}
	resp, err = send()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized {
		challenge := resp.Header.Get("WWW-Authenticate")
		drain(resp)
		if err := u.answer(ctx, challenge, scope); err != nil {
			return nil, err
		}
		if resp, err = send(); err != nil {
			return nil, err
		}
	}
	if resp.StatusCode >= 300 {
		drain(resp)
		return nil, &UpstreamError{Status: resp.StatusCode, Err: fmt.Errorf("%s %s", method, path)}
	}
	return resp, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// answer satisfies a WWW-Authenticate challenge for scope.
func (u *Upstream) answer(ctx context.Context, challenge, scope string) error {
	scheme, params := parseChallenge(challenge)
	switch strings.ToLower(scheme) {
	case "basic":
		if u.Creds == nil {
			return &UpstreamError{Status: http.StatusUnauthorized, Err: errors.New("upstream needs credentials")}
		}
		u.mu.Lock()
		u.basic = true
		u.mu.Unlock()
		return nil
	case "bearer":
	default:
		return &UpstreamError{Status: http.StatusUnauthorized, Err: fmt.Errorf("unsupported challenge %q", challenge)}
	}
	realm := params["realm"]
	ru, err := url.Parse(realm)
	if err != nil || (ru.Scheme != "https" && ru.Scheme != "http") {
		return &UpstreamError{Status: http.StatusUnauthorized, Err: fmt.Errorf("bad token realm %q", realm)}
	}
	q := ru.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	if scope != "" {
		q.Set("scope", scope)
	}
	ru.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru.String(), nil)
	if err != nil {
		return err
	}
	if u.Creds != nil {
		req.SetBasicAuth(u.Creds.Username, u.Creds.Password)
	}
	resp, err := u.HTTP.Do(req)
	if err != nil {
		return &UpstreamError{Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &UpstreamError{Status: resp.StatusCode, Err: errors.New("token endpoint refused")}
	}
	var tr struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&tr); err != nil {
		return &UpstreamError{Status: http.StatusBadGateway, Err: fmt.Errorf("token response: %w", err)}
	}
	tok := tr.Token
	if tok == "" {
		tok = tr.AccessToken
	}
	if tok == "" {
		return &UpstreamError{Status: http.StatusUnauthorized, Err: errors.New("token endpoint gave no token")}
	}
	u.mu.Lock()
	if u.tokens == nil {
		u.tokens = map[string]string{}
	}
	u.tokens[scope] = tok
	u.mu.Unlock()
	return nil
}

// parseChallenge splits `Bearer realm="…",service="…"`.
func parseChallenge(h string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	params := map[string]string{}
	for rest != "" {
		rest = strings.TrimLeft(rest, " ,")
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`)
			if end < 0 {
				params[k] = v[1:]
				break
			}
			params[k] = v[1 : end+1]
			rest = v[end+2:]
		} else {
			val, r, _ := strings.Cut(v, ",")
			params[k] = strings.TrimSpace(val)
			rest = r
		}
	}
	return scheme, params
}
