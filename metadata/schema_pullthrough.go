package metadata

// pullThroughMigration is schema version 6: pull-through cache rules,
// when each cached tag was last checked upstream, and the secrets holding
// upstream credentials. (Version 5 belongs to
// another change; the migrator applies whatever versions are missing, in
// list order, so versions need not be contiguous.)
func pullThroughMigration() migration {
	return migration{
		version: 6,
		name:    "pull-through cache rules",
		stmts: []string{
			// One rule per (registry, ecrRepositoryPrefix). prefix is stored
			// without its trailing "/" ("ROOT" for the root rule).
			`CREATE TABLE pull_through_rules (
			registry_id {key} NOT NULL,
			prefix {key} NOT NULL,
			upstream_url TEXT NOT NULL,
			upstream_registry TEXT NOT NULL,
			upstream_prefix TEXT NOT NULL,
			credential_arn TEXT NOT NULL,
			custom_role_arn TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (registry_id, prefix)
		)`,
			// When a cached tag was last compared with its upstream (the
			// 24 h re-check runs from this time).
			`CREATE TABLE pull_through_tag_checks (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			tag {key} NOT NULL,
			checked_at BIGINT NOT NULL,
			PRIMARY KEY (registry_id, repo, tag)
		)`,
			// Secrets Manager secrets (the upstream credentials of
			// pull-through cache rules): value sealed by the keyring,
			// base64.
			`CREATE TABLE secrets (
			account {key} NOT NULL,
			name {key} NOT NULL,
			arn {key} NOT NULL,
			description TEXT NOT NULL,
			value TEXT NOT NULL,
			version_id TEXT NOT NULL,
			tags TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (account, name)
		)`,
			`CREATE UNIQUE INDEX secrets_arn ON secrets (arn)`,
		},
	}
}
