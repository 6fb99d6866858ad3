// Command berth-bench compares berth with the reference registry
// (distribution v3.1.2) and raw MinIO on this machine: push, pull, chunked
// push, 32 concurrent pushes and pulls, manifest HEAD load and peak RSS;
// for berth alone, GetAuthorizationToken throughput and ECR listing
// latency (DescribeImages, ListImages) at 1,000 and 10,000 images, and the
// online garbage collector (push and pull while it drains a backlog, and
// how fast it reclaims 10,000 deleted images; 1,000 quick), and the
// pull-through cache (cold and warm pulls through berth from the
// reference registry over HTTPS). It prints one table and the goals, and
// writes bench/results.json.
//
// berth requires ECR authentication: the bench reads each berth's
// bootstrap admin key, adds a ROOT CREATE_ON_PUSH creation template, and
// sends a login token (GetAuthorizationToken) on its /v2 requests. The
// reference registry runs anonymously.
//
// Environment: BENCH_QUICK=1 (64 MiB layer, 5 s HEAD, 3 s token load, one
// repetition, fewer listing samples), BENCH_REPS=n, BENCH_SYSTEMS=berth-s3,
// ref-s3,… (a subset), BERTH_BIN (a prebuilt berth instead of building
// ./cmd/berth), BENCH_CPUPROFILE=dir (CPU profile of this process),
// BERTH_TOOLS (where minio and registry live), BENCH_PHASES=push,pull,…
// (a subset of push, pull, push_chunked, conc_push, conc_pull, token,
// head; pull needs push and conc_pull conc_push, so they run too),
// BENCH_LAYER_MIB=n (the layer size of push and pull), BENCH_S3_OPTS
// (more storage.s3 keys for berth-s3, e.g. "part_size: 10485760"),
// BENCH_ONLY=ptc (the pull-through cache rows alone).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-registry/berth/bench"
)

const (
	mib       = 1 << 20
	chunk     = 16 * mib // chunked-push PATCH size
	conc      = 32       // concurrent pushes, pulls and HEAD clients
	concSize  = 16 * mib // size of each concurrent layer
	tokenConc = 8        // concurrent GetAuthorizationToken clients
	listRepo  = "bench/list"
)

// phases are the steps of a repetition, in order (BENCH_PHASES).
var phases = []string{"push", "pull", "push_chunked", "conc_push", "conc_pull", "token", "head"}

type params struct {
	layer, reps int
	head, token time.Duration
	listSamples int // listing rounds (first, middle, last page each)
	quick       bool
	systems     []string
	phases      map[string]bool // nil: every phase
}

// runs reports whether phase is selected (BENCH_PHASES); a phase others
// need runs with them.
func (p params) runs(phase string) bool {
	if p.phases == nil || p.phases[phase] {
		return true
	}
	need := map[string]string{"push": "pull", "conc_push": "conc_pull"}
	return need[phase] != "" && p.phases[need[phase]]
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "berth-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	p := params{layer: 512 * mib, reps: 3, head: 10 * time.Second, token: 5 * time.Second, listSamples: 30,
		systems: bench.Systems}
	if os.Getenv("BENCH_QUICK") == "1" {
		p.layer, p.reps, p.head, p.token, p.listSamples, p.quick = 64*mib, 1, 5*time.Second, 3*time.Second, 10, true
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_REPS")); err == nil && n > 0 {
		p.reps = n
	}
	if s := os.Getenv("BENCH_SYSTEMS"); s != "" {
		p.systems = strings.Split(s, ",")
	}
	if s := os.Getenv("BENCH_PHASES"); s != "" {
		p.phases = map[string]bool{}
		for _, ph := range strings.Split(s, ",") {
			if !slices.Contains(phases, ph) {
				return fmt.Errorf("BENCH_PHASES: unknown phase %q (known: %s)", ph, strings.Join(phases, ","))
			}
			p.phases[ph] = true
		}
	}
	if n, err := strconv.Atoi(os.Getenv("BENCH_LAYER_MIB")); err == nil && n > 0 {
		p.layer = n * mib
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute)
	defer cancel()
	cl := &bench.Cleanup{}
	defer cl.Run()

	root, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "berth-bench-")
	if err != nil {
		return err
	}
	cl.Add(func() { os.RemoveAll(tmp) })
	if dir := os.Getenv("BENCH_CPUPROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, "berth-bench.cpu.pprof"))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		cl.Add(func() { pprof.StopCPUProfile(); f.Close() })
		fmt.Fprintln(os.Stderr, "CPU profile of the bench process:", f.Name(), "(berth's own: run with BENCH_SYSTEMS=berth-s3 and BERTH_DEBUG_PPROF_ADDR=127.0.0.1:6060, "+
			"then go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=20 during a phase)")
	}
	env := &bench.Env{Root: root, Tmp: tmp, Tools: bench.ToolsBin(), CL: cl}
	if err := env.EnsureTools(ctx); err != nil {
		return err
	}
	if os.Getenv("BENCH_ONLY") == "ptc" {
		return runPTCOnly(ctx, env, p)
	}
	targets, err := startAll(ctx, env, p.systems)
	if err != nil {
		return err
	}

	t0 := time.Now()
	data := bench.NewData(max(p.layer, conc*concSize))
	c := bench.NewClient(withShadows(targets))
	res := &bench.Results{Params: []bench.Entry{
		{Name: "layer_size", System: "bench", Value: float64(p.layer), Unit: "bytes"},
		{Name: "repetitions", System: "bench", Value: float64(p.reps), Unit: "count"},
		{Name: "head_duration", System: "bench", Value: p.head.Seconds(), Unit: "s"},
		{Name: "token_duration", System: "bench", Value: p.token.Seconds(), Unit: "s"},
		{Name: "list_samples", System: "bench", Value: float64(3 * p.listSamples), Unit: "count"},
	}}
	heads := map[string]string{}
	for _, t := range withShadows(targets) {
		if t.MinIO == nil && p.runs("head") {
			if heads[t.Name], err = c.PrepareHead(ctx, t); err != nil {
				return fmt.Errorf("%s: pushing the HEAD image: %w", t.Name, err)
			}
		}
	}
	for rep := 1; rep <= p.reps; rep++ {
		if err := runRep(ctx, c, data, res, targets, heads, p, rep); err != nil {
			return err
		}
	}
	sizes := []int{1000, 10000}
	if i := slices.IndexFunc(targets, func(t *bench.Target) bool { return t.Name == bench.BerthDisk }); i >= 0 {
		if sizes, err = runListing(ctx, res, targets[i], p); err != nil {
			return fmt.Errorf("%s listing: %w", bench.BerthDisk, err)
		}
	}
	res.Figures = figures(p.layer, sizes)
	if i := slices.IndexFunc(targets, func(t *bench.Target) bool { return t.Name == bench.BerthDisk }); i >= 0 {
		reclaim, err := runGC(ctx, env, targets[i], data, res, p)
		if err != nil {
			return fmt.Errorf("garbage collection: %w", err)
		}
		res.Figures = append(res.Figures, gcFigures(p.layer, reclaim)...)
	}
	if slices.ContainsFunc(targets, func(t *bench.Target) bool { return t.Name == bench.BerthDisk }) {
		if err := runPTC(ctx, env, data, res, p); err != nil {
			return fmt.Errorf("pull-through cache: %w", err)
		}
		res.Figures = append(res.Figures, ptcFigures(p.layer)...)
	}

	fmt.Printf("\nberth-bench: medians of %d run(s), %s layer, %s HEAD load, %.0f s of runs. "+
		"berth runs with --plain-http (no TLS), like the reference; berth's /v2 requests carry the login token of a PowerUser CI user on repositories with a repository policy, "+
		"the reference's are anonymous; ref-s3 uses chunksize 5 MiB (tooling.md §2). "+
		"MB = 10^6 bytes; each pull verified by sha256. Listing: %d signed calls per p50/p90 row (first, middle and "+
		"last page of %d in turn; last-page rows a third of them), after seeding berth-disk's metadata store.\n\n",
		p.reps, size(p.layer), p.head, time.Since(t0).Seconds(), 3*p.listSamples, bench.PageSize)
	res.Table(os.Stdout)
	fmt.Println()
	short := res.Goals(os.Stdout, append(append(goals(sizes), gcGoals()...), ptcGoals()...))
	out := filepath.Join(root, "bench", "results.json")
	if err := res.WriteJSON(out); err != nil {
		return err
	}
	fmt.Printf("\n%d goal(s) short; results in %s\n", short, out)
	return nil
}

// startAll starts MinIO (when an S3 system is selected) and the selected systems.
func startAll(ctx context.Context, env *bench.Env, systems []string) ([]*bench.Target, error) {
	var m *bench.MinIO
	if slices.ContainsFunc(systems, func(s string) bool { return s != bench.BerthDisk && s != bench.RefDisk }) {
		var err error
		if m, err = env.StartMinIO(ctx); err != nil {
			return nil, err
		}
	}
	var berth string
	var targets []*bench.Target
	for _, s := range bench.Systems {
		if !slices.Contains(systems, s) {
			continue
		}
		if strings.HasPrefix(s, "berth") && berth == "" {
			if berth = os.Getenv("BERTH_BIN"); berth == "" {
				var err error
				if berth, err = env.BuildBerth(ctx); err != nil {
					return nil, fmt.Errorf("building berth (BENCH_SYSTEMS=ref-s3,ref-disk,minio-raw skips it): %w", err)
				}
			}
		}
		var t *bench.Target
		var err error
		switch s {
		case bench.BerthS3:
			t, err = env.StartBerth(ctx, s, berth, m, "")
		case bench.BerthDisk:
			if t, err = env.StartBerth(ctx, s, berth, nil, ""); err == nil {
				// Its twin without policy evaluation: what authorization costs.
				t.Shadow, err = env.StartBerth(ctx, s+"-authz-off", berth, nil, "iam: {authorization: \"off\"}\n")
			}
		case bench.RefS3:
			t, err = env.StartReference(ctx, s, m)
		case bench.RefDisk:
			t, err = env.StartReference(ctx, s, nil)
		case bench.MinIORaw:
			t, err = bench.RawTarget(ctx, m)
		}
		if err != nil {
			return nil, fmt.Errorf("starting %s: %w", s, err)
		}
		if m != nil && (s == bench.BerthS3 || s == bench.RefS3 || s == bench.MinIORaw) {
			t.Store = m.Proc
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return nil, errors.New("BENCH_SYSTEMS selects no known system")
	}
	return targets, nil
}

// runRep measures every figure once, alternating the systems within each.
func runRep(ctx context.Context, c *bench.Client, data *bench.Data, res *bench.Results, targets []*bench.Target,
	heads map[string]string, p params, rep int) error {
	report := func(key, sys string, v float64, unit string) {
		res.Add(key, sys, v)
		format := "run %d/%d  %-14s %-10s %9.1f %s\n"
		if unit == "CPU s/GB" {
			format = "run %d/%d  %-14s %-10s %9.2f %s\n"
		}
		fmt.Fprintf(os.Stderr, format, rep, p.reps, key, sys, v, unit)
	}
	registries := slices.DeleteFunc(slices.Clone(targets), func(t *bench.Target) bool { return t.MinIO != nil })
	phase := func(name string, ts []*bench.Target, fn func(*bench.Target) error) error {
		if !p.runs(name) {
			return nil
		}
		for _, t := range ts {
			bench.WaitQuiet(t.Proc, t.Store)
			if err := fn(t); err != nil {
				return fmt.Errorf("run %d, %s: %w", rep, t.Name, err)
			}
			c.CloseIdle()
		}
		return nil
	}

	pushed := map[string]bench.Blob{}
	if err := phase("push", targets, func(t *bench.Target) error {
		b := data.Cut(1, p.layer)[0]
		cpu := startCPU(t)
		t0 := time.Now()
		if err := c.Push(ctx, t, "bench/layer", b); err != nil {
			return fmt.Errorf("push: %w", err)
		}
		report("push", t.Name, mbps(p.layer, time.Since(t0)), "MB/s")
		cpu(report, "push", p.layer)
		pushed[t.Name] = b
		return nil
	}); err != nil {
		return err
	}
	if err := phase("pull", targets, func(t *bench.Target) error {
		cpu := startCPU(t)
		t0 := time.Now()
		if err := c.Pull(ctx, t, "bench/layer", pushed[t.Name], int64(p.layer)); err != nil {
			return fmt.Errorf("pull: %w", err)
		}
		report("pull", t.Name, mbps(p.layer, time.Since(t0)), "MB/s")
		cpu(report, "pull", p.layer)
		return nil
	}); err != nil {
		return err
	}
	if err := phase("push_chunked", registries, func(t *bench.Target) error {
		b := data.Cut(1, p.layer)[0]
		t0 := time.Now()
		if err := c.PushChunked(ctx, t, "bench/chunked", b, chunk); err != nil {
			return fmt.Errorf("chunked push: %w", err)
		}
		report("push_chunked", t.Name, mbps(p.layer, time.Since(t0)), "MB/s")
		return nil
	}); err != nil {
		return err
	}

	concPushed := map[string][]bench.Blob{}
	if err := phase("conc_push", registries, func(t *bench.Target) error {
		blobs := data.Cut(conc, concSize)
		peak := t.Proc.WatchRSS()
		wall, lat, err := bench.Concurrent(ctx, blobs, func(ctx context.Context, b bench.Blob) error {
			return c.Push(ctx, t, "bench/concurrent", b)
		})
		rss := peak()
		if err != nil {
			return fmt.Errorf("concurrent push: %w", err)
		}
		report("conc_push", t.Name, mbps(conc*concSize, wall), "MB/s")
		report("conc_push_p50", t.Name, bench.Percentile(lat, 50), "ms")
		report("conc_push_p99", t.Name, bench.Percentile(lat, 99), "ms")
		report("conc_push_rss", t.Name, float64(rss)/mib, "MiB")
		concPushed[t.Name] = blobs
		return nil
	}); err != nil {
		return err
	}
	if err := phase("conc_pull", registries, func(t *bench.Target) error {
		wall, lat, err := bench.Concurrent(ctx, concPushed[t.Name], func(ctx context.Context, b bench.Blob) error {
			return c.Pull(ctx, t, "bench/concurrent", b, concSize)
		})
		if err != nil {
			return fmt.Errorf("concurrent pull: %w", err)
		}
		report("conc_pull", t.Name, mbps(conc*concSize, wall), "MB/s")
		report("conc_pull_p50", t.Name, bench.Percentile(lat, 50), "ms")
		report("conc_pull_p99", t.Name, bench.Percentile(lat, 99), "ms")
		return nil
	}); err != nil {
		return err
	}
	berths := slices.DeleteFunc(slices.Clone(registries), func(t *bench.Target) bool { return t.ECR == nil })
	if err := phase("token", berths, func(t *bench.Target) error {
		cps, lat, err := bench.TokenLoad(ctx, t, tokenConc, p.token)
		if err != nil {
			return fmt.Errorf("GetAuthorizationToken load: %w", err)
		}
		report("get_auth_token", t.Name, cps, "calls/s")
		report("get_auth_token_p50", t.Name, bench.Percentile(lat, 50), "ms")
		report("get_auth_token_p99", t.Name, bench.Percentile(lat, 99), "ms")
		return nil
	}); err != nil {
		return err
	}
	return phase("head", registries, func(t *bench.Target) error {
		rps, lat, err := c.HeadLoad(ctx, t, heads[t.Name], conc, p.head)
		if err != nil {
			return fmt.Errorf("manifest HEAD: %w", err)
		}
		report("head", t.Name, rps, "req/s")
		report("head_p50", t.Name, bench.Percentile(lat, 50), "ms")
		report("head_p99", t.Name, bench.Percentile(lat, 99), "ms")
		if s := t.Shadow; s != nil {
			c.CloseIdle()
			rps, lat, err := c.HeadLoad(ctx, s, heads[s.Name], conc, p.head)
			if err != nil {
				return fmt.Errorf("manifest HEAD, authorization off: %w", err)
			}
			report("head_authz_off", t.Name, rps, "req/s")
			report("head_authz_off_p50", t.Name, bench.Percentile(lat, 50), "ms")
		}
		return nil
	})
}

// startCPU samples the CPU time of t's process, of the MinIO behind it and
// of this process (the client: remote.Layer's sha256 and reads, or
// minio-go's); the returned function reports CPU-seconds per GB (10^9
// bytes) of n bytes moved since, as <key>_cpu, <key>_cpu_store and
// <key>_cpu_client. On two cores the three share, the client's cost caps
// every system alike.
func startCPU(t *bench.Target) func(report func(key, sys string, v float64, unit string), key string, n int) {
	own, store, client := t.Proc.CPUSeconds(), t.Store.CPUSeconds(), bench.SelfCPUSeconds()
	return func(report func(key, sys string, v float64, unit string), key string, n int) {
		gb := float64(n) / 1e9
		if t.Proc != nil {
			report(key+"_cpu", t.Name, (t.Proc.CPUSeconds()-own)/gb, "CPU s/GB")
		}
		if t.Store != nil {
			report(key+"_cpu_store", t.Name, (t.Store.CPUSeconds()-store)/gb, "CPU s/GB")
		}
		report(key+"_cpu_client", t.Name, (bench.SelfCPUSeconds()-client)/gb, "CPU s/GB")
	}
}

// withShadows is targets and their shadows.
func withShadows(targets []*bench.Target) []*bench.Target {
	out := slices.Clone(targets)
	for _, t := range targets {
		if t.Shadow != nil {
			out = append(out, t.Shadow)
		}
	}
	return out
}

// runListing seeds berth-disk's metadata store with the small, then the
// large listing size and measures DescribeImages and ListImages at each; it
// returns the sizes. BENCH_QUICK keeps 10,000 as the large size unless
// seeding projects to more than 10 s, then takes 5,000.
func runListing(ctx context.Context, res *bench.Results, t *bench.Target, p params) ([]int, error) {
	sizes := []int{1000, 10000}
	for i, n := range sizes {
		took, err := bench.Seed(ctx, t, listRepo, n)
		if err != nil {
			return nil, fmt.Errorf("seeding %d images: %w", n, err)
		}
		res.Params = append(res.Params, bench.Entry{Name: "seed_" + count(n), System: "bench", Value: took.Seconds(), Unit: "s"})
		fmt.Fprintf(os.Stderr, "seeded %s %s to %d images in %.2f s\n", t.Name, listRepo, n, took.Seconds())
		if i == 0 && p.quick && took*time.Duration(sizes[1]-n)/time.Duration(n) > 10*time.Second {
			sizes[1] = 5000
		}
		for _, op := range bench.ListOps {
			l, err := bench.ListLatency(ctx, t, op, listRepo, n, p.listSamples)
			if err != nil {
				return nil, err
			}
			key := listKey(op, n)
			for _, v := range []struct {
				suffix string
				ms     float64
			}{
				{"_p50", bench.Percentile(l.All, 50)},
				{"_p90", bench.Percentile(l.All, 90)},
				{"_last_p50", bench.Percentile(l.Last, 50)},
			} {
				res.Add(key+v.suffix, t.Name, v.ms)
				fmt.Fprintf(os.Stderr, "listing  %-28s %-10s %9.1f ms\n", key+v.suffix, t.Name, v.ms)
			}
		}
	}
	return sizes, nil
}

// listKey names a listing figure: describe_images_10k.
func listKey(op string, n int) string {
	k := map[string]string{"DescribeImages": "describe_images", "ListImages": "list_images"}[op]
	return k + "_" + count(n)
}

func figures(layer int, listSizes []int) []bench.Figure {
	l, n := size(layer), fmt.Sprintf("%d× %s", conc, size(concSize))
	var listing []bench.Figure
	for _, op := range bench.ListOps {
		for _, sz := range listSizes {
			k, what := listKey(op, sz), fmt.Sprintf("%s, %s images, page of %d", op, thousands(sz), bench.PageSize)
			listing = append(listing,
				bench.Figure{Key: k + "_p50", Label: what + ", p50", Unit: "ms"},
				bench.Figure{Key: k + "_p90", Label: what + ", p90", Unit: "ms"},
				bench.Figure{Key: k + "_last_p50", Label: what + ", last page p50", Unit: "ms"})
		}
	}
	return append([]bench.Figure{
		{Key: "push", Label: "push " + l + " (remote.WriteLayer; raw: PutObject)", Unit: "MB/s"},
		{Key: "pull", Label: "pull " + l + " (remote.Layer; raw: GetObject)", Unit: "MB/s"},
		{Key: "push_cpu", Label: "push " + l + ": registry CPU per GB", Unit: "CPU s/GB"},
		{Key: "push_cpu_store", Label: "push " + l + ": MinIO CPU per GB", Unit: "CPU s/GB"},
		{Key: "push_cpu_client", Label: "push " + l + ": client (bench) CPU per GB", Unit: "CPU s/GB"},
		{Key: "pull_cpu", Label: "pull " + l + ": registry CPU per GB", Unit: "CPU s/GB"},
		{Key: "pull_cpu_store", Label: "pull " + l + ": MinIO CPU per GB", Unit: "CPU s/GB"},
		{Key: "pull_cpu_client", Label: "pull " + l + ": client (bench) CPU per GB", Unit: "CPU s/GB"},
		{Key: "push_chunked", Label: "push " + l + " in 16 MiB PATCHes", Unit: "MB/s"},
		{Key: "conc_push", Label: n + " concurrent push, aggregate", Unit: "MB/s"},
		{Key: "conc_push_p50", Label: n + " concurrent push, p50", Unit: "ms"},
		{Key: "conc_push_p99", Label: n + " concurrent push, p99", Unit: "ms"},
		{Key: "conc_push_rss", Label: "peak RSS during " + n + " push", Unit: "MiB"},
		{Key: "conc_pull", Label: n + " concurrent pull, aggregate", Unit: "MB/s"},
		{Key: "conc_pull_p50", Label: n + " concurrent pull, p50", Unit: "ms"},
		{Key: "conc_pull_p99", Label: n + " concurrent pull, p99", Unit: "ms"},
		{Key: "get_auth_token", Label: fmt.Sprintf("GetAuthorizationToken, %d clients", tokenConc), Unit: "calls/s"},
		{Key: "get_auth_token_p50", Label: "GetAuthorizationToken p50", Unit: "ms"},
		{Key: "get_auth_token_p99", Label: "GetAuthorizationToken p99", Unit: "ms"},
		{Key: "head", Label: fmt.Sprintf("manifest HEAD by tag, %d clients (berth: authorized)", conc), Unit: "req/s"},
		{Key: "head_p50", Label: "manifest HEAD p50", Unit: "ms"},
		{Key: "head_p99", Label: "manifest HEAD p99", Unit: "ms"},
		{Key: "head_authz_off", Label: fmt.Sprintf("manifest HEAD, %d clients, same berth, iam.authorization off", conc), Unit: "req/s"},
		{Key: "head_authz_off_p50", Label: "manifest HEAD p50, authorization off", Unit: "ms"},
	}, listing...)
}

func goals(listSizes []int) []bench.Goal {
	const bs, rs, bd, rd, raw = bench.BerthS3, bench.RefS3, bench.BerthDisk, bench.RefDisk, bench.MinIORaw
	small, large := listSizes[0], listSizes[1]
	var listing []bench.Goal
	for _, op := range bench.ListOps {
		lk, sk := listKey(op, large), listKey(op, small)
		listing = append(listing,
			bench.Goal{Label: fmt.Sprintf("%s p50 < 20 ms at %s images, ms", op, thousands(large)),
				Key: lk + "_p50", System: bd, Want: 20},
			bench.Goal{Label: fmt.Sprintf("%s flat: p50 %s / %s images <= 1.5x", op, count(large), count(small)),
				Key: lk + "_p50", System: bd, VsKey: sk + "_p50", VsSystem: bd, Want: 1.5, Cmp: "<="})
	}
	return append([]bench.Goal{
		{Label: "push to MinIO >= 2.5x ref s3", Key: "push", System: bs, VsKey: "push", VsSystem: rs, Want: 2.5},
		{Label: "chunked push to MinIO >= 2.5x ref s3", Key: "push_chunked", System: bs, VsKey: "push_chunked", VsSystem: rs, Want: 2.5},
		{Label: "push to MinIO >= 0.85x raw MinIO PUT", Key: "push", System: bs, VsKey: "push", VsSystem: raw, Want: 0.85},
		{Label: "chunked push to MinIO >= 0.85x raw MinIO PUT", Key: "push_chunked", System: bs, VsKey: "push", VsSystem: raw, Want: 0.85},
		{Label: "pull from MinIO >= 1.0x ref s3", Key: "pull", System: bs, VsKey: "pull", VsSystem: rs, Want: 1},
		{Label: "pull from MinIO >= 0.8x raw MinIO GET", Key: "pull", System: bs, VsKey: "pull", VsSystem: raw, Want: 0.8},
		{Label: "disk push >= 1.0x ref filesystem", Key: "push", System: bd, VsKey: "push", VsSystem: rd, Want: 1},
		{Label: "disk chunked push >= 1.0x ref filesystem", Key: "push_chunked", System: bd, VsKey: "push_chunked", VsSystem: rd, Want: 1},
		{Label: "disk pull >= 1.0x ref filesystem", Key: "pull", System: bd, VsKey: "pull", VsSystem: rd, Want: 1},
		{Label: "peak RSS < 150 MiB, 32x16 MiB push (berth-s3), MiB", Key: "conc_push_rss", System: bs, Want: 150},
		{Label: "peak RSS < 150 MiB, 32x16 MiB push (berth-disk), MiB", Key: "conc_push_rss", System: bd, Want: 150},
		{Label: "authorized HEAD >= 0.8x ref s3 (anonymous) req/s", Key: "head", System: bs, VsKey: "head", VsSystem: rs, Want: 0.8},
		{Label: "authorized HEAD >= 0.8x ref filesystem (anonymous) req/s", Key: "head", System: bd, VsKey: "head", VsSystem: rd, Want: 0.8},
		{Label: "authorized HEAD >= 0.8x authorization off (berth-disk) req/s", Key: "head", System: bd, VsKey: "head_authz_off", VsSystem: bd, Want: 0.8},
		// ECR allows 20 calls/s sustained, 200 in bursts.
		{Label: "GetAuthorizationToken >= 200 calls/s (berth-s3)", Key: "get_auth_token", System: bs, Want: 200, Cmp: ">="},
		{Label: "GetAuthorizationToken >= 200 calls/s (berth-disk)", Key: "get_auth_token", System: bd, Want: 200, Cmp: ">="},
	}, listing...)
}

func mbps(n int, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }

func size(n int) string { return fmt.Sprintf("%d MiB", n/mib) }

// count is 10000 as "10k".
func count(n int) string { return fmt.Sprintf("%dk", n/1000) }

// thousands is 10000 as "10,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// repoRoot is the nearest directory at or above the working directory with a go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory; run from the berth repository")
		}
		dir = parent
	}
}
