package metadata

import (
	"context"
	"path/filepath"
	"testing"
)

// Version 6 is applied without a version 5, and a version 5 arriving later
// (another branch's migration merged after this one ran) is applied then:
// the migrator needs no contiguous versions.
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
	if !applied[6] || applied[5] {
		t.Fatalf("applied versions %v, want 6 and no 5", applied)
	}
	late := migration{version: 5, name: "late", stmts: []string{`CREATE TABLE late_five (id {key} PRIMARY KEY)`}}
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
	if applied, _ = appliedVersions(ctx, conn); !applied[5] || !applied[6] {
		t.Fatalf("applied versions %v", applied)
	}
}
