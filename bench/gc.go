package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"golang.org/x/sync/errgroup"
)

// GCConfig is the configuration of the berths the garbage-collection rows
// run on: GCFast reviews what lost its last reference five seconds later,
// every 200 ms (the collector at full speed; the delay still outlasts the
// bench clients' gap between a blob upload and the manifest naming it, as
// gc.review_delay must); GCIdle never finds a review due during a run (the
// same berth without collection).
const (
	GCFastDelay = 5 * time.Second
	GCFast      = "gc: {review_delay: 5s, interval: 200ms}\n"
	GCIdle      = "gc: {review_delay: 24h, interval: 1m}\n"
)

// Image is one small pushed image: its manifest digest and its blobs.
type Image struct {
	Manifest string
	Blobs    int
}

// smallBlob is size bytes unique to seq (a header of seq, the rest
// pseudo-random from seq).
func smallBlob(seq uint64, size int) ([]byte, string) {
	b := make([]byte, size)
	binary.LittleEndian.PutUint64(b, seq)
	for i := 8; i+8 <= size; i += 8 {
		seq = seq*6364136223846793005 + 1442695040888963407
		binary.LittleEndian.PutUint64(b[i:], seq)
	}
	sum := sha256.Sum256(b)
	return b, "sha256:" + hex.EncodeToString(sum[:])
}

func desc(mt, d string, size int) map[string]any {
	return map[string]any{"mediaType": mt, "digest": d, "size": size}
}

// PushImages pushes n small images to repo of berth t, conc at a time.
// Image i has its own config and layer (size bytes) and shares one of
// shared layers with the others: blobs are uploaded with single-POST
// uploads, manifests PUT by digest. It returns the images in order, then
// the untagged base image holding the shared layers.
func (c *Client) PushImages(ctx context.Context, t *Target, repo string, first uint64, n, shared, size, conc int) ([]Image, error) {
	base := "http://" + t.Addr + "/v2/" + repo
	var baseImage []Image
	sharedDigests := make([]string, shared)
	for i := range shared {
		b, d := smallBlob(first+uint64(n)*3+uint64(i), size)
		if err := c.postBlob(ctx, base, b, d); err != nil {
			return nil, err
		}
		sharedDigests[i] = d
	}
	// A base image references every shared layer at once, as a client's
	// manifest PUT follows its uploads: an uploaded blob nothing references
	// for longer than gc.review_delay is garbage by design.
	if shared > 0 {
		cfg, cfgD := smallBlob(first+uint64(n)*3+uint64(shared), 64)
		if err := c.postBlob(ctx, base, cfg, cfgD); err != nil {
			return nil, err
		}
		layers := make([]any, shared)
		for i, d := range sharedDigests {
			layers[i] = desc("application/vnd.oci.image.layer.v1.tar", d, size)
		}
		m, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"config": desc("application/vnd.oci.image.config.v1+json", cfgD, len(cfg)),
			"layers": layers,
		})
		sum := sha256.Sum256(m)
		md := "sha256:" + hex.EncodeToString(sum[:])
		if err := c.send(ctx, http.MethodPut, base+"/manifests/"+md, m, "application/vnd.oci.image.manifest.v1+json", http.StatusCreated); err != nil {
			return nil, err
		}
		baseImage = []Image{{Manifest: md, Blobs: 2 + shared}}
	}
	out := make([]Image, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range n {
		g.Go(func() error {
			seq := first + uint64(i)*3
			cfg, cfgD := smallBlob(seq, 64)
			lay, layD := smallBlob(seq+1, size)
			for _, b := range []struct {
				body []byte
				d    string
			}{{cfg, cfgD}, {lay, layD}} {
				if err := c.postBlob(gctx, base, b.body, b.d); err != nil {
					return err
				}
			}
			m, _ := json.Marshal(map[string]any{
				"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
				"config": desc("application/vnd.oci.image.config.v1+json", cfgD, len(cfg)),
				"layers": []any{
					desc("application/vnd.oci.image.layer.v1.tar", layD, len(lay)),
					desc("application/vnd.oci.image.layer.v1.tar", sharedDigests[i%shared], size),
				},
			})
			sum := sha256.Sum256(m)
			md := "sha256:" + hex.EncodeToString(sum[:])
			if err := c.send(gctx, http.MethodPut, base+"/manifests/"+md, m, "application/vnd.oci.image.manifest.v1+json", http.StatusCreated); err != nil {
				return err
			}
			out[i] = Image{Manifest: md, Blobs: 3}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return append(out, baseImage...), nil
}

// postBlob uploads body in one POST (?digest=).
func (c *Client) postBlob(ctx context.Context, base string, body []byte, d string) error {
	return c.send(ctx, http.MethodPost, base+"/blobs/uploads/?digest="+d, body, "application/octet-stream", http.StatusCreated)
}

func (c *Client) send(ctx context.Context, method, u string, body []byte, contentType string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// DeleteImages deletes images from repo with BatchDeleteImage, 100 a call.
func DeleteImages(ctx context.Context, t *Target, repo string, images []Image) error {
	for i := 0; i < len(images); i += 100 {
		var ids []ecrtypes.ImageIdentifier
		for _, im := range images[i:min(i+100, len(images))] {
			ids = append(ids, ecrtypes.ImageIdentifier{ImageDigest: aws.String(im.Manifest)})
		}
		out, err := t.ECR.BatchDeleteImage(ctx, &ecr.BatchDeleteImageInput{RepositoryName: aws.String(repo), ImageIds: ids})
		if err != nil {
			return err
		}
		if len(out.Failures) > 0 {
			f := out.Failures[0]
			return fmt.Errorf("BatchDeleteImage: %d failures, first %s: %s", len(out.Failures), f.FailureCode, aws.ToString(f.FailureReason))
		}
	}
	return nil
}

// GCMetrics reads berth t's garbage-collection counters from /metrics.
func GCMetrics(ctx context.Context, t *Target) (deleted, queued float64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+t.Addr+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		name, v, ok := strings.Cut(s.Text(), " ")
		if !ok {
			continue
		}
		switch name {
		case "berth_gc_blobs_deleted_total":
			deleted, _ = strconv.ParseFloat(v, 64)
		case "berth_gc_queue_depth":
			queued, _ = strconv.ParseFloat(v, 64)
		}
	}
	return deleted, queued, s.Err()
}

// Reclaim pushes n images (partly shared layers) to berth t (run with
// GCFast), deletes them all, and returns how long the collector took from
// the last delete until every one of their blobs was deleted from storage.
func (c *Client) Reclaim(ctx context.Context, t *Target, repo string, n, shared int) (time.Duration, int, error) {
	images, err := c.PushImages(ctx, t, repo, uint64(time.Now().UnixNano()), n, shared, 1024, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("pushing %d images: %w", n, err)
	}
	before, _, err := GCMetrics(ctx, t)
	if err != nil {
		return 0, 0, err
	}
	if err := DeleteImages(ctx, t, repo, images); err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	// Each image's config, layer and manifest, the shared layers, and the
	// base image's config and manifest.
	want := float64(3*n + shared + 2)
	for {
		deleted, queued, err := GCMetrics(ctx, t)
		if err != nil {
			return 0, 0, err
		}
		if deleted-before >= want && queued == 0 {
			return time.Since(t0), int(deleted - before), nil
		}
		select {
		case <-ctx.Done():
			return 0, int(deleted - before), fmt.Errorf("%d of %d blobs reclaimed: %w", int(deleted-before), int(want), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Churn pushes small images to repo of berth t and deletes them again, on
// loops goroutines, until stop is called, which returns how many images
// went through: the background a collector at full speed has work from.
func (c *Client) Churn(ctx context.Context, t *Target, repo string, loops int) (stop func() (int64, error)) {
	ctx, cancel := context.WithCancel(ctx)
	var done atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for l := range loops {
		g.Go(func() error {
			for seq := uint64(time.Now().UnixNano()) + uint64(l)<<40; gctx.Err() == nil; seq += 1000 {
				images, err := c.PushImages(gctx, t, repo, seq, 10, 1, 4096, 2)
				if err == nil {
					err = DeleteImages(gctx, t, repo, images)
				}
				if err != nil {
					if gctx.Err() != nil {
						return nil
					}
					return err
				}
				done.Add(int64(len(images)))
			}
			return nil
		})
	}
	return func() (int64, error) {
		cancel()
		err := g.Wait()
		return done.Load(), err
	}
}

// WaitGCIdle waits until berth t's collector has nothing queued.
func (c *Client) WaitGCIdle(ctx context.Context, t *Target) error {
	for {
		_, queued, err := GCMetrics(ctx, t)
		if err != nil || queued == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %v blobs still queued for review: %w", t.Name, queued, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
