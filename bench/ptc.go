package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berth-registry/berth/tlsgen"
)

// The pull-through rows: the reference registry over HTTPS (a CA of its
// own, as an upstream must be) is the upstream of a berth's pull-through
// cache rule; a cold pull through berth is timed against a pull straight
// from the upstream, a warm one against a pull of the same image pushed
// to berth.

// PTCPrefix is the ecrRepositoryPrefix of the bench's rule.
const PTCPrefix = "ptc"

// Upstream is the reference registry serving HTTPS with its CA file.
type Upstream struct {
	*Target
	CAFile string
}

// StartUpstream starts the reference registry (filesystem) on HTTPS with
// a CA made for it.
func (e *Env) StartUpstream(ctx context.Context, name string) (*Upstream, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Tmp, name)
	p := tlsgen.InDir(filepath.Join(dir, "tls"))
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		return nil, err
	}
	if _, err := tlsgen.Ensure(p, nil); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: %s}
  redirect: {disable: true}
  cache: {blobdescriptor: inmemory}
http: {addr: %s, secret: %s, tls: {certificate: %s, key: %s}}
health: {storagedriver: {enabled: false}}
`, filepath.Join(dir, "data"), addr, randHex(16), p.Cert, p.Key)
	path := filepath.Join(e.Tmp, name+".yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	proc, err := StartProc(name, filepath.Join(e.Tmp, name+".log"), []string{"OTEL_TRACES_EXPORTER=none"},
		filepath.Join(e.Tools, "registry"), "serve", path)
	if err != nil {
		return nil, err
	}
	e.CL.Add(proc.Stop)
	fmt.Fprintf(os.Stderr, "started %s, pid %d, on %s (HTTPS, log %s)\n", name, proc.Pid(), addr, proc.LogPath)
	u := &Upstream{Target: &Target{Name: name, Addr: addr, Proc: proc}, CAFile: p.CACert}
	return u, u.waitTLS(ctx)
}

// waitTLS waits until the upstream answers /v2/ over HTTPS.
func (u *Upstream) waitTLS(ctx context.Context) error {
	hc, err := u.client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := hc.Get("https://" + u.Addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not ready: %w\n%s", u.Name, err, u.Proc.LogTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (u *Upstream) client() (*http.Client, error) {
	pool, err := u.pool()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}, nil
}

func (u *Upstream) pool() (*x509.CertPool, error) {
	pem, err := os.ReadFile(u.CAFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no certificate", u.CAFile)
	}
	return pool, nil
}

// TrustUpstream makes c's connections trust u's CA.
func (c *Client) TrustUpstream(u *Upstream) error {
	pool, err := u.pool()
	if err != nil {
		return err
	}
	c.tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return nil
}

// PTCConfig is the configuration a berth needs for u as an upstream.
func PTCConfig(u *Upstream) string {
	return fmt.Sprintf("pull_through: {ca_file: %s}\n", u.CAFile)
}

// AddPTCRule adds the rule PTCPrefix → u to berth t.
func AddPTCRule(ctx context.Context, t *Target, u *Upstream) error {
	_, err := t.ECR.CreatePullThroughCacheRule(ctx, &ecr.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String(PTCPrefix), UpstreamRegistryUrl: aws.String(u.Addr)})
	return err
}

// PushImage pushes an image of one layer, b, as addr/repo:tag (HTTPS
// when addr serves it, else HTTP) and returns its manifest digest.
func (c *Client) PushImage(ctx context.Context, addr, repo, tag string, b Blob) (string, error) {
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer{b})
	if err != nil {
		return "", err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	ref, err := name.NewTag(addr+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, c.remote(ctx)...); err != nil {
		return "", err
	}
	d, err := img.Digest()
	return d.String(), err
}

// PullImage pulls addr/repo:tag as docker does (the manifest, the config,
// the layers, each verified by its digest) and fails unless the manifest
// is digest.
func (c *Client) PullImage(ctx context.Context, addr, repo, tag, digest string) error {
	ref, err := name.NewTag(addr+"/"+repo+":"+tag, name.Insecure)
	if err != nil {
		return err
	}
	img, err := remote.Image(ref, c.remote(ctx)...)
	if err != nil {
		return err
	}
	if d, err := img.Digest(); err != nil || d.String() != digest {
		return fmt.Errorf("VERIFY FAILED: %s: manifest %s, want %s (%v)", ref, d, digest, err)
	}
	if _, err := img.RawConfigFile(); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, rc) // remote's reader verifies the digest
		rc.Close()
		if err != nil {
			return fmt.Errorf("VERIFY FAILED: %s: %w", ref, err)
		}
	}
	return nil
}

// WaitImage waits until berth t lists digest in repo (a pull-through
// import ends after the pull that started it).
func WaitImage(ctx context.Context, t *Target, repo, digest string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := t.ECR.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo)})
		if err == nil {
			for _, d := range out.ImageDetails {
				if aws.ToString(d.ImageDigest) == digest {
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s not imported into %s after 2 minutes (%v)", t.Name, digest, repo, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
