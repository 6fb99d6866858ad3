package metadata

// identityMigration (version 5) adds session policies to STS sessions and
// IAM OpenID Connect providers: the
// issuers whose tokens AssumeRoleWithWebIdentity accepts, per account.
// url is the issuer without "https://" (host[/path]), as AWS keys
// condition keys and provider ARNs; the ARN embeds it, so (account, url)
// is unique through the primary key.
func identityMigration() migration {
	return migration{
		version: 5,
		name:    "iam oidc providers",
		stmts: []string{
			`CREATE TABLE iam_oidc_providers (
			arn {key} PRIMARY KEY,
			account {key} NOT NULL REFERENCES accounts (id),
			url {key} NOT NULL,
			client_ids TEXT NOT NULL,
			thumbprints TEXT NOT NULL,
			tags TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
			`CREATE INDEX iam_oidc_providers_account ON iam_oidc_providers (account, url)`,
			// Session policies (AssumeRole's Policy and PolicyArns).
			`ALTER TABLE iam_sessions ADD COLUMN policy TEXT NOT NULL DEFAULT ''`,
			`ALTER TABLE iam_sessions ADD COLUMN policy_arns TEXT NOT NULL DEFAULT ''`,
		},
	}
}
