package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/berth-registry/berth/bench"
)

// gcSystem is the berth on disk whose collector runs at full speed
// (bench.GCFast) during the garbage-collection rows; its figures are
// reported in berth-disk's column, beside berth-disk's own (whose
// collector has nothing due during a run).
const gcSystem = "berth-disk-gc"

// runGC measures the online collector on a berth of its own: push and pull
// of one layer while the collector drains a backlog, alternating with the
// same on berth-disk, then how long it takes to reclaim every blob of n
// deleted images.
// It returns n.
func runGC(ctx context.Context, env *bench.Env, disk *bench.Target, data *bench.Data, res *bench.Results, p params) (int, error) {
	bin := os.Getenv("BERTH_BIN")
	if bin == "" {
		var err error
		if bin, err = env.BuildBerth(ctx); err != nil {
			return 0, err
		}
	}
	gcT, err := env.StartBerth(ctx, gcSystem, bin, nil, bench.GCFast)
	if err != nil {
		return 0, fmt.Errorf("starting %s: %w", gcSystem, err)
	}
	c := bench.NewClient([]*bench.Target{gcT, disk})
	backlog, reclaim := 1000, 10000
	if p.quick {
		backlog, reclaim = 300, 1000
	}
	report := func(rep int, key string, v float64, unit string) {
		res.Add(key, bench.BerthDisk, v)
		fmt.Fprintf(os.Stderr, "gc  %d/%d  %-16s %9.1f %s\n", rep, p.reps, key, v, unit)
	}
	for rep := 1; rep <= p.reps; rep++ {
		// A backlog of deleted images, due for review once the push starts.
		images, err := c.PushImages(ctx, gcT, "bench/gc-backlog", uint64(time.Now().UnixNano()), backlog, 10, 4096, 8)
		if err == nil {
			err = bench.DeleteImages(ctx, gcT, "bench/gc-backlog", images)
		}
		if err != nil {
			return 0, fmt.Errorf("%s backlog: %w", gcSystem, err)
		}
		time.Sleep(bench.GCFastDelay)
		before, _, err := bench.GCMetrics(ctx, gcT)
		if err != nil {
			return 0, err
		}
		for _, t := range []*bench.Target{gcT, disk} {
			prefix := "gc_"
			if t != gcT {
				prefix = "nogc_"
			}
			b := data.Cut(1, p.layer)[0]
			t0 := time.Now()
			if err := c.Push(ctx, t, "bench/gc-layer", b); err != nil {
				return 0, fmt.Errorf("%s push: %w", t.Name, err)
			}
			report(rep, prefix+"push", mbps(p.layer, time.Since(t0)), "MB/s")
			t0 = time.Now()
			if err := c.Pull(ctx, t, "bench/gc-layer", b, int64(p.layer)); err != nil {
				return 0, fmt.Errorf("%s pull: %w", t.Name, err)
			}
			report(rep, prefix+"pull", mbps(p.layer, time.Since(t0)), "MB/s")
			if t == gcT {
				after, _, err := bench.GCMetrics(ctx, gcT)
				if err != nil {
					return 0, err
				}
				report(rep, "gc_deleted_during", after-before, "blobs")
			}
			c.CloseIdle()
		}
	}
	// Let the backlog drain, so the reclaim below is timed alone.
	if err := c.WaitGCIdle(ctx, gcT); err != nil {
		return 0, err
	}
	took, blobs, err := c.Reclaim(ctx, gcT, "bench/gc-reclaim", reclaim, 50)
	if err != nil {
		return 0, fmt.Errorf("%s reclaim: %w", gcSystem, err)
	}
	res.Add("gc_reclaim", bench.BerthDisk, took.Seconds())
	res.Add("gc_reclaim_rate", bench.BerthDisk, float64(blobs)/(took-bench.GCFastDelay).Seconds())
	res.Params = append(res.Params, bench.Entry{Name: "gc_reclaim_images", System: "bench", Value: float64(reclaim), Unit: "count"})
	fmt.Fprintf(os.Stderr, "gc  reclaimed %d blobs of %d images in %.1f s (review delay %s included)\n",
		blobs, reclaim, took.Seconds(), bench.GCFastDelay)
	return reclaim, nil
}

func gcFigures(layer, reclaim int) []bench.Figure {
	l := size(layer)
	return []bench.Figure{
		{Key: "gc_push", Label: "push " + l + ", collector draining a backlog (berth-disk-gc)", Unit: "MB/s"},
		{Key: "nogc_push", Label: "push " + l + ", same phase, no collection due", Unit: "MB/s"},
		{Key: "gc_pull", Label: "pull " + l + ", collector draining a backlog (berth-disk-gc)", Unit: "MB/s"},
		{Key: "nogc_pull", Label: "pull " + l + ", same phase, no collection due", Unit: "MB/s"},
		{Key: "gc_deleted_during", Label: "blobs the collector deleted during that push and pull", Unit: "blobs"},
		{Key: "gc_reclaim", Label: fmt.Sprintf("reclaim every blob of %s deleted images (5 s review delay included)", thousands(reclaim)), Unit: "s"},
		{Key: "gc_reclaim_rate", Label: "collector throughput during that reclaim", Unit: "blobs/s"},
	}
}

func gcGoals() []bench.Goal {
	const bd = bench.BerthDisk
	return []bench.Goal{
		{Label: "push with the collector at full speed >= 0.9x without", Key: "gc_push", System: bd, VsKey: "nogc_push", VsSystem: bd, Want: 0.9},
		{Label: "pull with the collector at full speed >= 0.9x without", Key: "gc_pull", System: bd, VsKey: "nogc_pull", VsSystem: bd, Want: 0.9},
		{Label: "collector deletes during the measured push and pull, blobs", Key: "gc_deleted_during", System: bd, Want: 1, Cmp: ">="},
		{Label: "collector throughput >= 50 blobs/s (berth-disk, SQLite)", Key: "gc_reclaim_rate", System: bd, Want: 50, Cmp: ">="},
	}
}
