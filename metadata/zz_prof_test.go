package metadata

import (
	"context"
	"testing"
	"time"

	"github.com/berth-registry/berth/internal/testenv"
)

func TestZZProf(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.StartPostgres(t)
	st, err := Open(ctx, "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	SeedImages(ctx, st, "r", "app", 10000)
	s := st.(*sqlStore)
	imgs, _, _ := s.ListImages(ctx, "r", "app", TagAny, Page{Limit: 5000})
	after := imgs[len(imgs)-1].Digest
	q, args, _ := imagesQuery("x", "r", "app", TagAny, Page{Limit: 100, After: after})
	run := func(name string, f func()) {
		for range 20 {
			f()
		}
		t0 := time.Now()
		for range 200 {
			f()
		}
		t.Log(name, time.Since(t0)/200)
	}
	run("ListImages", func() { s.ListImages(ctx, "r", "app", TagAny, Page{Limit: 100, After: after}) })
	run("query only", func() {
		s.read(ctx, func(tx *tx) error {
			rows, _ := tx.query(q, args...)
			for rows.Next() {
			}
			rows.Close()
			return nil
		})
	})
	run("query scan", func() {
		s.read(ctx, func(tx *tx) error {
			rows, _ := tx.query(q, args...)
			for rows.Next() {
				scanImage(rows)
			}
			rows.Close()
			return nil
		})
	})
	page := imgs[5000:5100]
	run("fill", func() { s.read(ctx, func(tx *tx) error { return fill(tx, "r", "app", page, true) }) })
	run("empty", func() { s.read(ctx, func(tx *tx) error { return nil }) })
}
