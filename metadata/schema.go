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
	}}
}
