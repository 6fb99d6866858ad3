package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/berth-registry/berth/metadata"
)

// TokenLoad has clients goroutines call GetAuthorizationToken on berth t
// for d, signed with its admin key, and returns calls per second and every
// call's latency.
func TokenLoad(ctx context.Context, t *Target, clients int, d time.Duration) (float64, []time.Duration, error) {
	return Load(ctx, clients, d, func(ctx context.Context) error {
		out, err := t.ECR.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		if err == nil && len(out.AuthorizationData) == 0 {
			err = fmt.Errorf("GetAuthorizationToken: no authorizationData")
		}
		return err
	})
}

// Seed adds synthetic images to repo in berth t's SQLite metadata store
// until it holds n (half of them tagged), writing the file directly while
// berth runs (WAL lets both processes in); pushing n manifests would take
// minutes. It returns how long seeding took.
func Seed(ctx context.Context, t *Target, repo string, n int) (time.Duration, error) {
	t0 := time.Now()
	st, err := metadata.Open(ctx, "sqlite", filepath.Join(t.DataDir, "metadata.db"))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := metadata.SeedImages(ctx, st, RegistryID, repo, n); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// ListOps are the listing operations ListLatency measures.
var ListOps = []string{"DescribeImages", "ListImages"}

// PageSize is the maxResults of every listing call.
const PageSize = 100

// Listing is the latency of one listing operation on one repository: every
// sampled call, and the samples of the last page alone.
type Listing struct {
	All, Last []time.Duration
}

// ListLatency measures op (one of ListOps) on repo of berth t: it walks the
// whole listing once (a warm-up that also collects every page's
// nextToken), then times samples rounds of three signed calls each: the
// first page, the middle page and the last page, reached through their
// nextToken. It fails unless the walk counts want entries.
func ListLatency(ctx context.Context, t *Target, op, repo string, want, samples int) (Listing, error) {
	var tokens []*string // tokens[i] fetches page i; nil for the first
	var next *string
	total, last := 0, 0
	for {
		tokens = append(tokens, next)
		n, tok, err := listPage(ctx, t.ECR, op, repo, next)
		if err != nil {
			return Listing{}, fmt.Errorf("%s page %d: %w", op, len(tokens), err)
		}
		total += n
		if n > 0 {
			last = len(tokens) - 1 // a trailing empty page would flatter "last"
		}
		if tok == nil {
			break
		}
		next = tok
	}
	if total != want {
		return Listing{}, fmt.Errorf("%s listed %d entries, want %d", op, total, want)
	}
	depths := []int{0, last / 2, last}
	var l Listing
	for range samples {
		for _, d := range depths {
			t0 := time.Now()
			if _, _, err := listPage(ctx, t.ECR, op, repo, tokens[d]); err != nil {
				return Listing{}, fmt.Errorf("%s page %d: %w", op, d+1, err)
			}
			lat := time.Since(t0)
			l.All = append(l.All, lat)
			if d == last {
				l.Last = append(l.Last, lat)
			}
		}
	}
	return l, nil
}

// listPage fetches one page of PageSize and returns its entry count and
// nextToken.
func listPage(ctx context.Context, c *ecr.Client, op, repo string, token *string) (int, *string, error) {
	switch op {
	case "DescribeImages":
		out, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String(repo),
			MaxResults: aws.Int32(PageSize), NextToken: token})
		if err != nil {
			return 0, nil, err
		}
		return len(out.ImageDetails), out.NextToken, nil
	case "ListImages":
		out, err := c.ListImages(ctx, &ecr.ListImagesInput{RepositoryName: aws.String(repo),
			MaxResults: aws.Int32(PageSize), NextToken: token})
		if err != nil {
			return 0, nil, err
		}
		return len(out.ImageIds), out.NextToken, nil
	}
	return 0, nil, fmt.Errorf("unknown listing operation %q", op)
}
