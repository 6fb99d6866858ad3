package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/gc"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/node"
)

// runGC: `berth gc status` and `berth gc run [--dry-run]`, on the store
// and storage a running berth uses (the collector claims its work, so a
// run beside serving nodes is safe).
func runGC(args []string) error {
	if len(args) == 0 || (args[0] != "status" && args[0] != "run") {
		return fmt.Errorf("%w: berth gc status|run [--dry-run] [--config file]", config.ErrUsage)
	}
	var dry *bool
	c, _, err := loadConfig("gc "+args[0], args[1:], func(fl *flag.FlagSet) {
		if args[0] == "run" {
			dry = fl.Bool("dry-run", false, "list what the due reviews would remove, and remove nothing")
		}
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := openStore(ctx, c, metadata.WithReviewDelay(c.GC.Delay()))
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "status" {
		return printGCStatus(ctx, st)
	}
	if *dry {
		plans, err := st.PreviewCollections(ctx, time.Now(), 10000)
		if err != nil {
			return err
		}
		var bytes int64
		for _, p := range plans {
			what := "unlink"
			if p.Delete {
				what, bytes = "delete", bytes+p.Size
			}
			fmt.Printf("%s %s", what, p.Digest)
			for _, l := range p.Unlink {
				fmt.Printf(" %s/%s(%s)", l.RegistryID, l.Repository, l.Kind)
			}
			fmt.Println()
		}
		fmt.Fprintf(os.Stderr, "berth: dry run: %d reviews would remove something (%d bytes known); nothing removed\n", len(plans), bytes)
		return nil
	}
	drv, _, _, _, err := node.OpenStorage(ctx, c, nil)
	if err != nil {
		return err
	}
	col := &gc.Collector{Store: st, Driver: drv, PurgeAge: c.Registry.PurgeAge(), Node: "berth-gc-" + fmt.Sprint(os.Getpid()), Log: newLogger(c)}
	rep, err := col.RunOnce(ctx)
	fmt.Fprintf(os.Stderr, "berth: gc: %s\n", rep)
	if err != nil {
		return err
	}
	return printGCStatus(ctx, st)
}

func printGCStatus(ctx context.Context, st metadata.Store) error {
	s, err := st.GCStatus(ctx, time.Now())
	if err != nil {
		return err
	}
	oldest := "-"
	if !s.OldestDue.IsZero() {
		oldest = time.Since(s.OldestDue).Round(time.Second).String()
	}
	fmt.Printf("queued for review:      %d (%d due now, oldest due waiting %s)\n", s.Queued, s.Due, oldest)
	fmt.Printf("bytes awaiting review:  %d (sizes known)\n", s.BytesQueued)
	fmt.Printf("reviews that failed:    %d queued (%d failures in all)\n", s.Failed, s.ReviewFailures)
	if s.LastError != "" {
		fmt.Printf("last failure:           %s\n", s.LastError)
	}
	fmt.Printf("deleted so far:         %d blobs, %d bytes, %d links\n", s.BlobsDeleted, s.BytesReclaimed, s.LinksRemoved)
	fmt.Printf("uploads in progress:    %d\n", s.Uploads)
	if !s.Adopted {
		fmt.Println("blobs stored before blob accounting: not all adopted yet (collection waits for it)")
	}
	return nil
}
