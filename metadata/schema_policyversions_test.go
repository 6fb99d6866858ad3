package metadata

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Version 7 on a database made before it: every existing managed policy's
// document becomes its v1, the default, and the next version is v2.
func TestPolicyVersionsMigrationKeepsPolicies(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite", filepath.Join(t.TempDir(), "berth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	// Back to the schema before version 7, with a policy written then.
	for _, q := range []string{
		`DROP TABLE iam_policy_versions`,
		`ALTER TABLE iam_policies DROP COLUMN default_version`,
		`ALTER TABLE iam_policies DROP COLUMN next_version`,
		`DELETE FROM schema_migrations WHERE version = 7`,
		`INSERT INTO iam_policies (arn, account, name, path, description, document, created_at, updated_at)
			VALUES ('arn:aws:iam::123456789012:policy/old', '123456789012', 'old', '/', '', '{"old":1}', 1, 1)`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := s.migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	const arn = "arn:aws:iam::123456789012:policy/old"
	p, err := s.GetManagedPolicy(ctx, arn)
	if err != nil || p.DefaultVersion != "v1" || p.Document != `{"old":1}` {
		t.Fatalf("policy after migration: %+v %v", p, err)
	}
	v, err := s.GetPolicyVersion(ctx, arn, "v1")
	if err != nil || v.Document != `{"old":1}` || !v.IsDefault {
		t.Fatalf("v1 after migration: %+v %v", v, err)
	}
	v2, err := s.CreatePolicyVersion(ctx, arn, `{"new":2}`, false, time.Time{})
	if err != nil || v2.VersionID != "v2" {
		t.Fatalf("CreatePolicyVersion after migration: %+v %v", v2, err)
	}
}
