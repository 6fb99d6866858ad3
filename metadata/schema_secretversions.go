package metadata

// secretVersionsMigration is schema version 9: a secret keeps its previous
// value (the AWSPREVIOUS stage PutSecretValue moves the current one to) and
// the date a DeleteSecret with a recovery window removes it on (0: not
// scheduled). Version 8 is left to another change.
func secretVersionsMigration() migration {
	return migration{
		version: 9,
		name:    "secret versions and recovery window",
		stmts: []string{
			`ALTER TABLE secrets ADD COLUMN previous_value TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE secrets ADD COLUMN previous_version_id TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE secrets ADD COLUMN deletion_date BIGINT NOT NULL DEFAULT 0`,
		},
	}
}
