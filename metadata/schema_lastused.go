package metadata

// lastUsedMigration is schema version 10: when and in which region a
// role was last used (IAM's RoleLastUsed). 0 and "" mean never, which is
// what every role made before says.
func lastUsedMigration() migration {
	return migration{
		version: 10,
		name:    "role last used",
		stmts: []string{
			`ALTER TABLE iam_principals ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE iam_principals ADD COLUMN last_used_region TEXT NOT NULL DEFAULT ''`,
		},
	}
}
