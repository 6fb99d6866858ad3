package bench

import (
	"context"
	"testing"
)

func TestTmpListing(t *testing.T) {
	ctx := context.Background()
	tg := &Target{Name: "dbg", Addr: "127.0.0.1:39111", DataDir: "/tmp/bdbg/data"}
	if err := tg.login(ctx, "/tmp/bdbg/creds"); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"DescribeImages", "ListImages", "DescribeImages", "ListImages"} {
		for i := range 300 {
			var tok *string
			n, _, err := listPage(ctx, tg.ECR, op, "bench/list", tok)
			if err != nil {
				t.Fatalf("%d %s n=%d err=%v", i, op, n, err)
			}
		}
	}
}
