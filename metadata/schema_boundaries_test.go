package metadata

import (
	"context"
	"path/filepath"
	"testing"
)

// Version 8 on a database made before it: existing sessions have no
// transitive tags, principals no boundary, policies no tags, and every
// row still reads.
func TestBoundariesMigrationKeepsRows(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite", filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	for _, q := range []string{
		`ALTER TABLE iam_sessions DROP COLUMN transitive_tag_keys`,
		`ALTER TABLE iam_principals DROP COLUMN permissions_boundary`,
		`ALTER TABLE iam_policies DROP COLUMN tags`,
		`DELETE FROM schema_migrations WHERE version = 8`,
		`INSERT INTO accounts (id, name, created_at) VALUES ('123456789012', 'a', 1)`,
		`INSERT INTO iam_principals (arn, account, kind, name, path, id, trust_policy, max_session_seconds, description, tags, created_at)
			VALUES ('arn:aws:iam::123456789012:role/old', '123456789012', 'role', 'old', '/', 'AROAOLD', '{}', 3600, '', '[{"Key":"k","Value":"v"}]', 1)`,
		`INSERT INTO iam_sessions (access_key_id, sealed, role_arn, session_name, account, source_arn, tags, created_at, expires_at, policy, policy_arns)
			VALUES ('ASIAOLD', '', 'arn:aws:iam::123456789012:role/old', 's', '123456789012', '', '[{"Key":"k","Value":"v"}]', 1, 2, '', '')`,
		`INSERT INTO iam_policies (arn, account, name, path, description, document, created_at, updated_at)
			VALUES ('arn:aws:iam::123456789012:policy/old', '123456789012', 'old', '/', '', '{}', 1, 1)`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	p, err := s.GetPrincipal(ctx, "arn:aws:iam::123456789012:role/old")
	if err != nil || p.PermissionsBoundary != "" || len(p.Tags) != 1 {
		t.Fatalf("principal after migration: %+v %v", p, err)
	}
	ss, err := s.GetSession(ctx, "ASIAOLD")
	if err != nil || len(ss.TransitiveTagKeys) != 0 || len(ss.Tags) != 1 {
		t.Fatalf("session after migration: %+v %v", ss, err)
	}
	mp, err := s.GetManagedPolicy(ctx, "arn:aws:iam::123456789012:policy/old")
	if err != nil || len(mp.Tags) != 0 {
		t.Fatalf("policy after migration: %+v %v", mp, err)
	}
}
