package metadata

// policyVersionsMigration is schema version 7: the versions of customer
// managed policies (CreatePolicyVersion & co., which Terraform's
// aws_iam_policy updates use). iam_policies.document stays the default
// version's document, so authorization reads one table as before; every
// existing policy gets its document as v1.
func policyVersionsMigration() migration {
	return migration{
		version: 7,
		name:    "managed policy versions",
		stmts: []string{
			`CREATE TABLE iam_policy_versions (
			policy {key} NOT NULL,
			version_id {key} NOT NULL,
			document TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			PRIMARY KEY (policy, version_id)
		)`,
			`INSERT INTO iam_policy_versions (policy, version_id, document, created_at)
			SELECT arn, 'v1', document, created_at FROM iam_policies`,
			`ALTER TABLE iam_policies ADD COLUMN default_version TEXT NOT NULL DEFAULT 'v1'`,
			// The number the next CreatePolicyVersion takes: AWS never
			// reuses a deleted version's id.
			`ALTER TABLE iam_policies ADD COLUMN next_version INTEGER NOT NULL DEFAULT 2`,
		},
	}
}
