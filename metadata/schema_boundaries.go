package metadata

// boundariesMigration is schema version 8: what the rest of STS and IAM
// needs to be kept. A session's transitive tag keys (AssumeRole's
// TransitiveTagKeys, inherited by the sessions it assumes), a user's or
// role's permissions boundary (a managed policy ARN, "" for none) and a
// customer managed policy's tags (TagPolicy). Every column defaults to
// empty, so rows written before keep meaning what they meant.
func boundariesMigration() migration {
	return migration{
		version: 8,
		name:    "session transitive tags, permissions boundaries, policy tags",
		stmts: []string{
			`ALTER TABLE iam_sessions ADD COLUMN transitive_tag_keys TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE iam_principals ADD COLUMN permissions_boundary {key} NOT NULL DEFAULT ''`,
			`ALTER TABLE iam_policies ADD COLUMN tags TEXT NOT NULL DEFAULT ''`,
		},
	}
}
