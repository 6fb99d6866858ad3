package metadata

import (
	"context"
	"path/filepath"
	"testing"
)

// A version lower than the newest applied one, arriving later (another
// branch's migration merged after this one ran, as version 5 was after
// 6), is applied then: the migrator needs no contiguous versions. Version
// 0 stands in for it now that 5 exists.
func TestPullThroughMigrationNotContiguous(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite", filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if !applied[5] || !applied[6] || applied[0] {
		t.Fatalf("applied versions %v, want 5 and 6 and no 0", applied)
	}
	late := migration{version: 0, name: "late", stmts: []string{`CREATE TABLE late_zero (id {key} PRIMARY KEY)`}}
	if err := s.apply(ctx, conn, late); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if err := s.migrate(ctx); err != nil {
		t.Fatalf("migrate after a late version 5: %v", err)
	}
	conn, err = s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if applied, _ = appliedVersions(ctx, conn); !applied[0] || !applied[5] || !applied[6] {
		t.Fatalf("applied versions %v", applied)
	}
}
