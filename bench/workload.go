package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"
)

// Data is one random buffer every blob is cut from.
type Data struct {
	buf []byte
	seq uint64
}

// NewData fills size bytes with pseudo-random data.
func NewData(size int) *Data {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(time.Now().UnixNano()))
	d := &Data{buf: make([]byte, size)}
	_, _ = rand.NewChaCha8(seed).Read(d.buf)
	return d
}

// Blob is one pushed blob. Bytes stay valid only until the next Cut; Digest
// and Size are what every pull is verified against.
type Blob struct {
	Bytes  []byte
	Digest v1.Hash
}

// Cut returns n consecutive blobs of size bytes, each stamped with a unique
// header so that no registry has seen it before, and hashes them.
func (d *Data) Cut(n, size int) []Blob {
	bs := make([]Blob, n)
	for i := range bs {
		b := d.buf[i*size : (i+1)*size]
		d.seq++
		binary.LittleEndian.PutUint64(b, d.seq)
		binary.LittleEndian.PutUint64(b[8:], uint64(time.Now().UnixNano()))
		sum := sha256.Sum256(b)
		bs[i] = Blob{Bytes: b, Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}
	}
	return bs
}

// Client drives the systems: go-containerregistry's remote package for what
// docker does, net/http for the hand-made chunked flow and the HEAD load,
// minio-go for minio-raw. Every registry request goes through RoundTrip,
// which adds the target's credentials.
type Client struct {
	// auth maps a registry's host:port to the Authorization value its
	// requests carry (berth's login token; none for the reference).
	auth map[string]string
	tr   *http.Transport
	hc   *http.Client
}

// NewClient returns a client for targets, with room for many idle
// connections per host.
func NewClient(targets []*Target) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 64
	tr.DisableCompression = true
	c := &Client{auth: map[string]string{}, tr: tr}
	for _, t := range targets {
		if t.Authorization != "" {
			c.auth[t.Addr] = t.Authorization
		}
	}
	c.hc = &http.Client{Transport: c}
	return c
}

// RoundTrip adds the host's credentials and sends the request.
func (c *Client) RoundTrip(r *http.Request) (*http.Response, error) {
	if a, ok := c.auth[r.URL.Host]; ok && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", a)
	}
	return c.tr.RoundTrip(r)
}

// CloseIdle drops idle connections between phases.
func (c *Client) CloseIdle() { c.tr.CloseIdleConnections() }

func (c *Client) remote(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithTransport(c), remote.WithContext(ctx), remote.WithAuth(authn.Anonymous)}
}

// Push stores b in repo: remote.WriteLayer on a registry (HEAD, POST, one
// streamed PATCH, PUT ?digest=, as docker does), PutObject on minio-raw.
func (c *Client) Push(ctx context.Context, t *Target, repo string, b Blob) error {
	if t.MinIO != nil {
		_, err := t.MinIO.Client.PutObject(ctx, t.Bucket, repo+"/"+b.Digest.Hex, bytes.NewReader(b.Bytes),
			int64(len(b.Bytes)), minio.PutObjectOptions{ContentType: "application/octet-stream"})
		return err
	}
	r, err := name.NewRepository(t.Addr+"/"+repo, name.Insecure)
	if err != nil {
		return err
	}
	return remote.WriteLayer(r, layer{b}, c.remote(ctx)...)
}

// layer is b as a v1.Layer whose digest is already known, so that the timed
// push does not include hashing it on the client.
type layer struct{ b Blob }

func (l layer) Digest() (v1.Hash, error)            { return l.b.Digest, nil }
func (l layer) DiffID() (v1.Hash, error)            { return l.b.Digest, nil }
func (l layer) Size() (int64, error)                { return int64(len(l.b.Bytes)), nil }
func (l layer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }
func (l layer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.b.Bytes)), nil
}
func (l layer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }

// Pull reads the blob back and fails unless its bytes hash to b.Digest and
// their count is size: remote.Layer verifies both (as docker does);
// minio-raw is hashed here.
func (c *Client) Pull(ctx context.Context, t *Target, repo string, b Blob, size int64) error {
	var rc io.ReadCloser
	if t.MinIO != nil {
		obj, err := t.MinIO.Client.GetObject(ctx, t.Bucket, repo+"/"+b.Digest.Hex, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		rc = obj
	} else {
		ref, err := name.NewDigest(t.Addr+"/"+repo+"@"+b.Digest.String(), name.Insecure)
		if err != nil {
			return err
		}
		l, err := remote.Layer(ref, c.remote(ctx)...)
		if err != nil {
			return err
		}
		if rc, err = l.Compressed(); err != nil {
			return err
		}
	}
	defer rc.Close()
	h := sha256.New()
	var w io.Writer = h
	if t.MinIO == nil {
		w = io.Discard // already verified by remote's reader
	}
	n, err := io.Copy(w, rc)
	if err != nil {
		return fmt.Errorf("VERIFY FAILED: %s %s@%s: %w", t.Name, repo, b.Digest, err)
	}
	if n != size || (t.MinIO != nil && hex.EncodeToString(h.Sum(nil)) != b.Digest.Hex) {
		return fmt.Errorf("VERIFY FAILED: %s %s@%s: read %d bytes (pushed %d), sha256 %x", t.Name, repo, b.Digest, n, size, h.Sum(nil))
	}
	return nil
}

// PushChunked uploads b the chunked way with net/http: POST
// /v2/<repo>/blobs/uploads/, one PATCH with Content-Range per chunk, then PUT
// ?digest=.
func (c *Client) PushChunked(ctx context.Context, t *Target, repo string, b Blob, chunk int) error {
	base := &url.URL{Scheme: "http", Host: t.Addr}
	loc, err := c.upload(ctx, http.MethodPost, base.JoinPath("v2", repo, "blobs", "uploads").String()+"/", nil, "", http.StatusAccepted)
	if err != nil {
		return err
	}
	for off := 0; off < len(b.Bytes); off += chunk {
		end := min(off+chunk, len(b.Bytes))
		if loc, err = c.upload(ctx, http.MethodPatch, base.ResolveReference(loc).String(), b.Bytes[off:end],
			fmt.Sprintf("%d-%d", off, end-1), http.StatusAccepted); err != nil {
			return err
		}
	}
	u := base.ResolveReference(loc)
	q := u.Query()
	q.Set("digest", b.Digest.String())
	u.RawQuery = q.Encode()
	_, err = c.upload(ctx, http.MethodPut, u.String(), nil, "", http.StatusCreated)
	return err
}

// upload sends one step of an upload and returns the Location answered.
func (c *Client) upload(ctx context.Context, method, u string, body []byte, contentRange string, want int) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	if contentRange != "" {
		req.Header.Set("Content-Range", contentRange)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	return url.Parse(resp.Header.Get("Location"))
}

// Concurrent runs op on every blob at once and returns the wall time and
// each op's latency.
func Concurrent(ctx context.Context, blobs []Blob, op func(context.Context, Blob) error) (time.Duration, []time.Duration, error) {
	lat := make([]time.Duration, len(blobs))
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for i, b := range blobs {
		g.Go(func() error {
			t0 := time.Now()
			err := op(gctx, b)
			lat[i] = time.Since(t0)
			return err
		})
	}
	err := g.Wait()
	return time.Since(start), lat, err
}

// HeadRepo and HeadTag name the small image the HEAD load asks for.
const HeadRepo, HeadTag = "bench/head", "latest"

// PrepareHead pushes a small random image as HeadRepo:HeadTag and returns
// its manifest digest.
func (c *Client) PrepareHead(ctx context.Context, t *Target) (string, error) {
	img, err := random.Image(1024, 1)
	if err != nil {
		return "", err
	}
	tag, err := name.NewTag(t.Addr+"/"+HeadRepo+":"+HeadTag, name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.Write(tag, img, c.remote(ctx)...); err != nil {
		return "", err
	}
	d, err := img.Digest()
	return d.String(), err
}

// HeadLoad has clients goroutines HEAD the manifest by tag for d and returns
// requests per second and every request's latency. A status other than 200
// or a wrong Docker-Content-Digest fails it. Requests to berth carry its
// login token, so berth checks it on every one.
func (c *Client) HeadLoad(ctx context.Context, t *Target, digest string, clients int, d time.Duration) (float64, []time.Duration, error) {
	u := "http://" + t.Addr + "/v2/" + HeadRepo + "/manifests/" + HeadTag
	accept := strings.Join([]string{string(types.OCIManifestSchema1), string(types.DockerManifestSchema2),
		string(types.OCIImageIndex), string(types.DockerManifestList)}, ", ")
	return Load(ctx, clients, d, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", accept)
		resp, err := c.hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got := resp.Header.Get("Docker-Content-Digest"); resp.StatusCode != http.StatusOK || got != digest {
			return fmt.Errorf("HEAD %s: %s, digest %q, want 200 and %s", u, resp.Status, got, digest)
		}
		return nil
	})
}

// Load has clients goroutines repeat op for d and returns operations per
// second and every operation's latency. The first error stops it.
func Load(ctx context.Context, clients int, d time.Duration, op func(context.Context) error) (float64, []time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	stop := start.Add(d)
	for range clients {
		g.Go(func() error {
			lat := make([]time.Duration, 0, 1<<14)
			defer func() { mu.Lock(); all = append(all, lat...); mu.Unlock() }()
			for time.Now().Before(stop) {
				t0 := time.Now()
				err := op(gctx)
				lat = append(lat, time.Since(t0))
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	return float64(len(all)) / time.Since(start).Seconds(), all, err
}
