package metadata

// migration is one schema version: statements run in order inside one
// transaction. Never edit a released migration; append a new one.
//
// The statements are shared by both engines. {key} is the type of every
// column that is compared or ordered (names, digests, tags): byte order on
// both engines, so listings and cursors agree whatever the PostgreSQL
// database's collation. Times are BIGINT unix microseconds, booleans
// INTEGER 0/1, lists and maps JSON text ("" when empty), secrets base64.
type migration struct {
	version int
	name    string
	stmts   []string
}

// migrations returns every schema version, oldest first.
func migrations() []migration {
	return []migration{{
		version: 1,
		name:    "initial schema",
		stmts: []string{
			`CREATE TABLE registries (
			id {key} PRIMARY KEY,
			created_at BIGINT NOT NULL
		)`,
			// image_count is maintained by PutImage/DeleteImage so listing
			// repositories never counts images.
			`CREATE TABLE repositories (
			registry_id {key} NOT NULL REFERENCES registries (id),
			name {key} NOT NULL,
			created_at BIGINT NOT NULL,
			tag_mutability TEXT NOT NULL,
			mutability_exclusions TEXT NOT NULL,
			scan_on_push INTEGER NOT NULL,
			encryption_type TEXT NOT NULL,
			kms_key TEXT NOT NULL,
			resource_tags TEXT NOT NULL,
			image_count BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (registry_id, name)
		)`,
			`CREATE TABLE images (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			digest {key} NOT NULL,
			media_type TEXT NOT NULL,
			artifact_type {key} NOT NULL,
			manifest_size BIGINT NOT NULL,
			size BIGINT NOT NULL,
			pushed_at BIGINT NOT NULL,
			last_pull BIGINT NOT NULL,
			subject {key} NOT NULL,
			annotations TEXT NOT NULL,
			blobs TEXT NOT NULL,
			PRIMARY KEY (registry_id, repo, digest),
			FOREIGN KEY (registry_id, repo) REFERENCES repositories (registry_id, name)
		)`,
			`CREATE INDEX images_subject ON images (registry_id, repo, subject, digest)`,
			`CREATE TABLE image_children (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			parent {key} NOT NULL,
			pos INTEGER NOT NULL,
			child {key} NOT NULL,
			PRIMARY KEY (registry_id, repo, parent, pos),
			FOREIGN KEY (registry_id, repo, parent) REFERENCES images (registry_id, repo, digest)
		)`,
			`CREATE INDEX image_children_child ON image_children (registry_id, repo, child, parent)`,
			`CREATE TABLE tags (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			tag {key} NOT NULL,
			digest {key} NOT NULL,
			pushed_at BIGINT NOT NULL,
			PRIMARY KEY (registry_id, repo, tag),
			FOREIGN KEY (registry_id, repo, digest) REFERENCES images (registry_id, repo, digest)
		)`,
			`CREATE INDEX tags_digest ON tags (registry_id, repo, digest, tag)`,
			// Registry policies have repo "".
			`CREATE TABLE policies (
			kind {key} NOT NULL,
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			body TEXT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (registry_id, repo, kind)
		)`,
			`CREATE TABLE lifecycle_previews (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			policy_text TEXT NOT NULL,
			status TEXT NOT NULL,
			started_at BIGINT NOT NULL,
			results TEXT NOT NULL,
			PRIMARY KEY (registry_id, repo),
			FOREIGN KEY (registry_id, repo) REFERENCES repositories (registry_id, name)
		)`,
			`CREATE TABLE templates (
			registry_id {key} NOT NULL,
			prefix {key} NOT NULL,
			description TEXT NOT NULL,
			applied_for TEXT NOT NULL,
			tag_mutability TEXT NOT NULL,
			mutability_exclusions TEXT NOT NULL,
			encryption_type TEXT NOT NULL,
			kms_key TEXT NOT NULL,
			resource_tags TEXT NOT NULL,
			repository_policy TEXT NOT NULL,
			lifecycle_policy TEXT NOT NULL,
			custom_role_arn TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (registry_id, prefix)
		)`,
			`CREATE TABLE settings (
			registry_id {key} NOT NULL,
			name {key} NOT NULL,
			value TEXT NOT NULL,
			PRIMARY KEY (registry_id, name)
		)`,
			`CREATE TABLE access_keys (
			id {key} PRIMARY KEY,
			secret TEXT NOT NULL,
			principal {key} NOT NULL,
			account TEXT NOT NULL,
			status TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
			`CREATE INDEX access_keys_principal ON access_keys (principal, id)`,
		},
	}, {
		version: 2,
		name:    "identities: accounts, users, roles, policies, sessions",
		stmts: []string{
			`CREATE TABLE accounts (
			id {key} PRIMARY KEY,
			name TEXT NOT NULL,
			created_at BIGINT NOT NULL
		)`,
			`CREATE TABLE iam_principals (
			arn {key} PRIMARY KEY,
			account {key} NOT NULL REFERENCES accounts (id),
			kind {key} NOT NULL,
			name {key} NOT NULL,
			path TEXT NOT NULL,
			id {key} NOT NULL,
			trust_policy TEXT NOT NULL,
			max_session_seconds INTEGER NOT NULL,
			description TEXT NOT NULL,
			tags TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			UNIQUE (account, kind, name)
		)`,
			`CREATE TABLE iam_policies (
			arn {key} PRIMARY KEY,
			account {key} NOT NULL,
			name {key} NOT NULL,
			path TEXT NOT NULL,
			description TEXT NOT NULL,
			document TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL
		)`,
			`CREATE INDEX iam_policies_account ON iam_policies (account, name)`,
			`CREATE TABLE iam_inline_policies (
			principal {key} NOT NULL REFERENCES iam_principals (arn),
			name {key} NOT NULL,
			document TEXT NOT NULL,
			PRIMARY KEY (principal, name)
		)`,
			// policy may name an AWS managed policy, which has no row.
			`CREATE TABLE iam_attachments (
			principal {key} NOT NULL REFERENCES iam_principals (arn),
			policy {key} NOT NULL,
			PRIMARY KEY (principal, policy)
		)`,
			`CREATE INDEX iam_attachments_policy ON iam_attachments (policy, principal)`,
			`CREATE TABLE iam_sessions (
			access_key_id {key} PRIMARY KEY,
			sealed TEXT NOT NULL,
			role_arn {key} NOT NULL,
			session_name TEXT NOT NULL,
			account TEXT NOT NULL,
			source_arn TEXT NOT NULL,
			tags TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
			`CREATE INDEX iam_sessions_role ON iam_sessions (role_arn, access_key_id)`,
			`CREATE INDEX iam_sessions_expiry ON iam_sessions (expires_at)`,
			`CREATE TABLE registry_credentials (
			id {key} PRIMARY KEY,
			secret_hash TEXT NOT NULL,
			principal {key} NOT NULL,
			account TEXT NOT NULL,
			status TEXT NOT NULL,
			created_at BIGINT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
			`CREATE INDEX registry_credentials_principal ON registry_credentials (principal, id)`,
			`CREATE TABLE authz_state (
			id INTEGER PRIMARY KEY,
			version BIGINT NOT NULL
		)`,
			`INSERT INTO authz_state (id, version) VALUES (1, 1)`,
		},
	}, {
		version: 3,
		name:    "one source of truth: digest aliases, leases, lifecycle runs",
		stmts: []string{
			// A manifest pushed by a non-canonical digest (sha512) is an
			// image under its sha256 digest plus an alias naming it.
			`CREATE TABLE image_aliases (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			alias {key} NOT NULL,
			digest {key} NOT NULL,
			PRIMARY KEY (registry_id, repo, alias),
			FOREIGN KEY (registry_id, repo, digest) REFERENCES images (registry_id, repo, digest)
		)`,
			`CREATE INDEX image_aliases_digest ON image_aliases (registry_id, repo, digest, alias)`,
			// Named, expiring, exclusive claims: one node runs a unit of
			// background work, one request writes an upload.
			`CREATE TABLE leases (
			name {key} PRIMARY KEY,
			owner TEXT NOT NULL,
			expires_at BIGINT NOT NULL
		)`,
			// When each repository's lifecycle policy was last evaluated
			// and is next due (bookkeeping: never an authorization change).
			`CREATE TABLE lifecycle_runs (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			last_evaluated_at BIGINT NOT NULL,
			next_run_at BIGINT NOT NULL,
			PRIMARY KEY (registry_id, repo)
		)`,
			`CREATE INDEX lifecycle_runs_due ON lifecycle_runs (next_run_at)`,
		},
	}, {
		version: 4,
		name:    "blob accounting and garbage collection",
		stmts: []string{
			// Every blob in storage, by its canonical (sha256) digest, which
			// is its storage name. state 'deleting': a collector is removing
			// it; nobody may reference it meanwhile.
			`CREATE TABLE blobs (
			digest {key} PRIMARY KEY,
			size BIGINT NOT NULL,
			state {key} NOT NULL,
			created_at BIGINT NOT NULL
		)`,
			// Other names of a blob (sha512 uploads).
			`CREATE TABLE blob_aliases (
			alias {key} PRIMARY KEY,
			digest {key} NOT NULL
		)`,
			`CREATE INDEX blob_aliases_digest ON blob_aliases (digest, alias)`,
			// The links a repository's storage holds to blobs: 'layer'
			// (an upload or a mount) or 'manifest' (a manifest's bytes).
			// state 'unlinking': a collector is removing the link.
			`CREATE TABLE repository_blobs (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			digest {key} NOT NULL,
			kind {key} NOT NULL,
			state {key} NOT NULL,
			PRIMARY KEY (registry_id, repo, digest, kind)
		)`,
			`CREATE INDEX repository_blobs_digest ON repository_blobs (digest, registry_id, repo)`,
			// What each image references: its config and layers, by
			// canonical digest.
			`CREATE TABLE image_blobs (
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			image {key} NOT NULL,
			blob {key} NOT NULL,
			PRIMARY KEY (registry_id, repo, image, blob),
			FOREIGN KEY (registry_id, repo, image) REFERENCES images (registry_id, repo, digest)
		)`,
			`CREATE INDEX image_blobs_blob ON image_blobs (blob, registry_id, repo)`,
			// Blobs that may have lost their last reference, reviewed after
			// review_after by whichever node claims them.
			`CREATE TABLE gc_reviews (
			digest {key} PRIMARY KEY,
			review_after BIGINT NOT NULL,
			review_count INTEGER NOT NULL,
			event TEXT NOT NULL,
			claimed_by TEXT NOT NULL,
			claimed_until BIGINT NOT NULL,
			last_error TEXT NOT NULL
		)`,
			`CREATE INDEX gc_reviews_due ON gc_reviews (review_after)`,
			// Uploads in progress, so abandoned ones are purged without a
			// walk of the storage.
			`CREATE TABLE uploads (
			id {key} PRIMARY KEY,
			registry_id {key} NOT NULL,
			repo {key} NOT NULL,
			started_at BIGINT NOT NULL,
			last_activity BIGINT NOT NULL,
			claimed_by TEXT NOT NULL,
			claimed_until BIGINT NOT NULL
		)`,
			`CREATE INDEX uploads_idle ON uploads (last_activity)`,
			// Facts about the store itself (the garbage collector's
			// adoption of blobs stored before this version, its counters).
			`CREATE TABLE store_state (
			name {key} PRIMARY KEY,
			value TEXT NOT NULL
		)`,
		},
	},
		identityMigration(),
		pullThroughMigration(),
		policyVersionsMigration(),
		boundariesMigration(),
		secretVersionsMigration(),
		lastUsedMigration(),
	}
}
