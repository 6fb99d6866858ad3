package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/berth-registry/berth/bench"
)

// ptcSystem is the berth on disk with a pull-through cache rule whose
// upstream is the reference registry over HTTPS (ptcUpstream); its rows
// are reported in berth-disk's column, the direct pulls from the upstream
// in ref-disk's.
const ptcSystem, ptcUpstream = "berth-disk-ptc", "ref-disk-upstream"

// runPTC measures the pull-through cache: per repetition a new image (one
// layer of p.layer) is pushed to the upstream, pulled straight from it,
// then pulled through a fresh cache repository (cold: the manifest from
// the upstream, the blobs streamed while they are stored); once imported,
// it is pulled again (warm) beside the same image pushed to the berth.
func runPTC(ctx context.Context, env *bench.Env, data *bench.Data, res *bench.Results, p params) error {
	bin := os.Getenv("BERTH_BIN")
	if bin == "" {
		var err error
		if bin, err = env.BuildBerth(ctx); err != nil {
			return err
		}
	}
	up, err := env.StartUpstream(ctx, ptcUpstream)
	if err != nil {
		return fmt.Errorf("starting %s: %w", ptcUpstream, err)
	}
	t, err := env.StartBerth(ctx, ptcSystem, bin, nil, bench.PTCConfig(up))
	if err != nil {
		return fmt.Errorf("starting %s: %w", ptcSystem, err)
	}
	if err := bench.AddPTCRule(ctx, t, up); err != nil {
		return fmt.Errorf("%s: pull-through cache rule: %w", ptcSystem, err)
	}
	c := bench.NewClient([]*bench.Target{t})
	if err := c.TrustUpstream(up); err != nil {
		return err
	}
	report := func(rep int, key, sys string, t0 time.Time) {
		v := mbps(p.layer, time.Since(t0))
		res.Add(key, sys, v)
		fmt.Fprintf(os.Stderr, "ptc %d/%d  %-22s %-10s %9.1f MB/s\n", rep, p.reps, key, sys, v)
		c.CloseIdle()
	}
	for rep := 1; rep <= p.reps; rep++ {
		b := data.Cut(1, p.layer)[0]
		repo := fmt.Sprintf("bench/ptc%d-%d", rep, time.Now().UnixNano())
		dgst, err := c.PushImage(ctx, up.Addr, repo, "v1", b)
		if err != nil {
			return fmt.Errorf("pushing to %s: %w", ptcUpstream, err)
		}
		t0 := time.Now()
		if err := c.PullImage(ctx, up.Addr, repo, "v1", dgst); err != nil {
			return fmt.Errorf("%s pull: %w", ptcUpstream, err)
		}
		report(rep, "upstream_direct_pull", bench.RefDisk, t0)
		cached := bench.PTCPrefix + "/" + repo
		t0 = time.Now()
		if err := c.PullImage(ctx, t.Addr, cached, "v1", dgst); err != nil {
			return fmt.Errorf("%s cold pull: %w", ptcSystem, err)
		}
		report(rep, "ptc_cold_pull", bench.BerthDisk, t0)
		if err := bench.WaitImage(ctx, t, cached, dgst); err != nil {
			return err
		}
		pushed := repo + "-pushed"
		if _, err := c.PushImage(ctx, t.Addr, pushed, "v1", b); err != nil {
			return fmt.Errorf("pushing to %s: %w", ptcSystem, err)
		}
		t0 = time.Now()
		if err := c.PullImage(ctx, t.Addr, pushed, "v1", dgst); err != nil {
			return fmt.Errorf("%s pull: %w", ptcSystem, err)
		}
		report(rep, "berth_pull_image", bench.BerthDisk, t0)
		t0 = time.Now()
		if err := c.PullImage(ctx, t.Addr, cached, "v1", dgst); err != nil {
			return fmt.Errorf("%s warm pull: %w", ptcSystem, err)
		}
		report(rep, "ptc_warm_pull", bench.BerthDisk, t0)
	}
	return nil
}

func ptcFigures(layer int) []bench.Figure {
	l := size(layer)
	return []bench.Figure{
		{Key: "upstream_direct_pull", Label: "pull a " + l + " image from the upstream (reference, HTTPS)", Unit: "MB/s"},
		{Key: "ptc_cold_pull", Label: "pull it through berth's pull-through cache, cold", Unit: "MB/s"},
		{Key: "ptc_warm_pull", Label: "pull it through the cache again, warm", Unit: "MB/s"},
		{Key: "berth_pull_image", Label: "pull the same image pushed to berth", Unit: "MB/s"},
	}
}

func ptcGoals() []bench.Goal {
	const bd, rd = bench.BerthDisk, bench.RefDisk
	return []bench.Goal{
		{Label: "pull-through cold pull >= 0.8x direct pull from the upstream", Key: "ptc_cold_pull", System: bd, VsKey: "upstream_direct_pull", VsSystem: rd, Want: 0.8},
		{Label: "pull-through warm pull >= 0.95x pull of the image pushed to berth", Key: "ptc_warm_pull", System: bd, VsKey: "berth_pull_image", VsSystem: bd, Want: 0.95},
	}
}

// runPTCOnly is BENCH_ONLY=ptc: the pull-through rows alone (no other
// system is started; results.json is left as it is).
func runPTCOnly(ctx context.Context, env *bench.Env, p params) error {
	res := &bench.Results{Params: []bench.Entry{
		{Name: "layer_size", System: "bench", Value: float64(p.layer), Unit: "bytes"},
		{Name: "repetitions", System: "bench", Value: float64(p.reps), Unit: "count"},
	}}
	if err := runPTC(ctx, env, bench.NewData(p.layer), res, p); err != nil {
		return fmt.Errorf("pull-through cache: %w", err)
	}
	res.Figures = ptcFigures(p.layer)
	fmt.Printf("\nberth-bench (BENCH_ONLY=ptc): medians of %d run(s), %s layer; berth --plain-http, upstream the reference registry over HTTPS.\n\n",
		p.reps, size(p.layer))
	res.Table(os.Stdout)
	fmt.Println()
	short := res.Goals(os.Stdout, ptcGoals())
	fmt.Printf("\n%d goal(s) short\n", short)
	return nil
}
