package metadata

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
)

// principalExists checks a principal inside t (Kind NotFound when absent).
func principalExists(t *tx, op, arn string) error {
	ok, err := t.exists("SELECT 1 FROM iam_principals WHERE arn = ?", arn)
	if err == nil && !ok {
		err = newErr(op, NotFound, "principal", "")
	}
	return err
}

func (s *sqlStore) PutInlinePolicy(ctx context.Context, principalARN, name, document string) error {
	const op = "PutInlinePolicy"
	if name == "" {
		return newErr(op, Invalid, "policy", "empty name")
	}
	err := s.write(ctx, func(t *tx) error {
		if err := principalExists(t, op, principalARN); err != nil {
			return err
		}
		if _, err := t.exec(`INSERT INTO iam_inline_policies (principal, name, document) VALUES (?, ?, ?)
			ON CONFLICT (principal, name) DO UPDATE SET document = excluded.document`, principalARN, name, document); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	return fail(op, "policy", err)
}

func (s *sqlStore) DeleteInlinePolicy(ctx context.Context, principalARN, name string) error {
	const op = "DeleteInlinePolicy"
	err := s.write(ctx, func(t *tx) error {
		if err := deleteRow(t, op, "policy", "DELETE FROM iam_inline_policies WHERE principal = ? AND name = ?", principalARN, name); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	return fail(op, "policy", err)
}

const managedCols = "arn, account, name, path, description, document, created_at, updated_at, default_version, tags"

func scanManaged(sc scanner) (ManagedPolicy, error) {
	var (
		p                ManagedPolicy
		created, updated int64
		tags             string
	)
	if err := sc.Scan(&p.ARN, &p.Account, &p.Name, &p.Path, &p.Description, &p.Document, &created, &updated, &p.DefaultVersion, &tags); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	var err error
	p.Tags, err = decJSON[ResourceTag](tags)
	return p, err
}

func (s *sqlStore) PutManagedPolicy(ctx context.Context, p ManagedPolicy) (ManagedPolicy, error) {
	const op = "PutManagedPolicy"
	if p.ARN == "" || p.Account == "" || p.Name == "" {
		return ManagedPolicy{}, newErr(op, Invalid, "policy", "arn, account and name are required")
	}
	if p.Path == "" {
		p.Path = "/"
	}
	p.UpdatedAt = stamp(p.UpdatedAt)
	err := s.write(ctx, func(t *tx) error {
		var created int64
		var tags string
		err := t.row("SELECT created_at, default_version, tags FROM iam_policies WHERE arn = ?", p.ARN).Scan(&created, &p.DefaultVersion, &tags)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			p.CreatedAt, p.DefaultVersion = p.UpdatedAt, "v1"
			_, err = t.exec("INSERT INTO iam_policies ("+managedCols+", next_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2)",
				p.ARN, p.Account, p.Name, p.Path, p.Description, p.Document, micros(p.CreatedAt), micros(p.UpdatedAt), p.DefaultVersion,
				encJSON(p.Tags))
			if err == nil {
				_, err = t.exec("INSERT INTO iam_policy_versions (policy, version_id, document, created_at) VALUES (?, 'v1', ?, ?)",
					p.ARN, p.Document, micros(p.CreatedAt))
			}
		case err == nil:
			// Replacing the document replaces the default version's.
			p.CreatedAt = fromMicros(created)
			if p.Tags, err = decJSON[ResourceTag](tags); err != nil {
				return err
			}
			_, err = t.exec("UPDATE iam_policies SET description = ?, document = ?, updated_at = ? WHERE arn = ?",
				p.Description, p.Document, micros(p.UpdatedAt), p.ARN)
			if err == nil {
				_, err = t.exec("UPDATE iam_policy_versions SET document = ? WHERE policy = ? AND version_id = ?",
					p.Document, p.ARN, p.DefaultVersion)
			}
		}
		if err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	if err != nil {
		return ManagedPolicy{}, fail(op, "policy", err)
	}
	return p, nil
}

func (s *sqlStore) GetManagedPolicy(ctx context.Context, arn string) (ManagedPolicy, error) {
	const op = "GetManagedPolicy"
	var p ManagedPolicy
	err := s.read(ctx, func(t *tx) (err error) {
		p, err = scanManaged(t.row("SELECT "+managedCols+" FROM iam_policies WHERE arn = ?", arn))
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "policy", "")
		}
		return err
	})
	return p, fail(op, "policy", err)
}

func (s *sqlStore) ListManagedPolicies(ctx context.Context, account string) ([]ManagedPolicy, error) {
	const op = "ListManagedPolicies"
	var out []ManagedPolicy
	err := s.read(ctx, func(t *tx) error {
		out = nil
		return eachRow(t, func(sc scanner) error {
			p, err := scanManaged(sc)
			out = append(out, p)
			return err
		}, "SELECT "+managedCols+" FROM iam_policies WHERE (? = '' OR account = ?) ORDER BY account, name", account, account)
	})
	return out, fail(op, "policy", err)
}

func (s *sqlStore) DeleteManagedPolicy(ctx context.Context, arn string) error {
	const op = "DeleteManagedPolicy"
	err := s.write(ctx, func(t *tx) error {
		used, err := t.exists("SELECT 1 FROM iam_attachments WHERE policy = ? LIMIT 1", arn)
		if err != nil {
			return err
		}
		if used {
			return newErr(op, Referenced, "policy", "still attached")
		}
		if used, err = t.exists("SELECT 1 FROM iam_principals WHERE permissions_boundary = ? LIMIT 1", arn); err != nil {
			return err
		} else if used {
			return newErr(op, Referenced, "policy", "a permissions boundary")
		}
		if err := deleteRow(t, op, "policy", "DELETE FROM iam_policies WHERE arn = ?", arn); err != nil {
			return err
		}
		if _, err := t.exec("DELETE FROM iam_policy_versions WHERE policy = ?", arn); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	return fail(op, "policy", err)
}

func (s *sqlStore) SetManagedPolicyTags(ctx context.Context, arn string, tags []ResourceTag) error {
	const op = "SetManagedPolicyTags"
	err := s.write(ctx, func(t *tx) error {
		n, err := t.execN("UPDATE iam_policies SET tags = ? WHERE arn = ?", encJSON(tags), arn)
		if err == nil && n == 0 {
			err = newErr(op, NotFound, "policy", "")
		}
		return err
	})
	return fail(op, "policy", err)
}

// awsManaged reports an AWS managed policy ARN (no row of its own).
func awsManaged(arn string) bool { return strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") }

func (s *sqlStore) AttachPolicy(ctx context.Context, principalARN, policyARN string) error {
	const op = "AttachPolicy"
	err := s.write(ctx, func(t *tx) error {
		if err := principalExists(t, op, principalARN); err != nil {
			return err
		}
		if !awsManaged(policyARN) {
			ok, err := t.exists("SELECT 1 FROM iam_policies WHERE arn = ?", policyARN)
			if err != nil {
				return err
			}
			if !ok {
				return newErr(op, NotFound, "policy", "")
			}
		}
		if _, err := t.exec(`INSERT INTO iam_attachments (principal, policy) VALUES (?, ?)
			ON CONFLICT (principal, policy) DO NOTHING`, principalARN, policyARN); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	return fail(op, "policy", err)
}

func (s *sqlStore) DetachPolicy(ctx context.Context, principalARN, policyARN string) error {
	const op = "DetachPolicy"
	err := s.write(ctx, func(t *tx) error {
		if err := deleteRow(t, op, "attachment", "DELETE FROM iam_attachments WHERE principal = ? AND policy = ?", principalARN, policyARN); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	return fail(op, "policy", err)
}

func (s *sqlStore) PrincipalPolicies(ctx context.Context, principalARN string) ([]InlinePolicy, []ManagedPolicy, error) {
	const op = "PrincipalPolicies"
	var (
		inline   []InlinePolicy
		attached []ManagedPolicy
	)
	err := s.read(ctx, func(t *tx) error {
		inline, attached = nil, nil
		err := eachRow(t, func(sc scanner) error {
			p := InlinePolicy{Principal: principalARN}
			err := sc.Scan(&p.Name, &p.Document)
			inline = append(inline, p)
			return err
		}, "SELECT name, document FROM iam_inline_policies WHERE principal = ? ORDER BY name", principalARN)
		if err != nil {
			return err
		}
		// A LEFT JOIN keeps AWS managed attachments (no row of their own).
		return eachRow(t, func(sc scanner) error {
			var p ManagedPolicy
			var acct, name, path, desc, doc sql.NullString
			var created, updated sql.NullInt64
			err := sc.Scan(&p.ARN, &acct, &name, &path, &desc, &doc, &created, &updated)
			p.Account, p.Name, p.Path, p.Description, p.Document = acct.String, name.String, path.String, desc.String, doc.String
			p.CreatedAt, p.UpdatedAt = fromMicros(created.Int64), fromMicros(updated.Int64)
			attached = append(attached, p)
			return err
		}, `SELECT a.policy, p.account, p.name, p.path, p.description, p.document, p.created_at, p.updated_at
			FROM iam_attachments a LEFT JOIN iam_policies p ON p.arn = a.policy
			WHERE a.principal = ? ORDER BY a.policy`, principalARN)
	})
	if err != nil {
		return nil, nil, fail(op, "policy", err)
	}
	return inline, attached, nil
}

const versionCols = "v.policy, v.version_id, v.document, v.created_at, p.default_version"

func scanVersion(sc scanner) (PolicyVersion, error) {
	var (
		v       PolicyVersion
		created int64
		def     string
	)
	err := sc.Scan(&v.PolicyARN, &v.VersionID, &v.Document, &created, &def)
	v.CreatedAt, v.IsDefault = fromMicros(created), v.VersionID == def
	return v, err
}

func (s *sqlStore) CreatePolicyVersion(ctx context.Context, arn, document string, setDefault bool, at time.Time) (PolicyVersion, error) {
	const op = "CreatePolicyVersion"
	v := PolicyVersion{PolicyARN: arn, Document: document, IsDefault: setDefault, CreatedAt: stamp(at)}
	err := s.write(ctx, func(t *tx) error {
		var next int64
		err := t.row("SELECT next_version FROM iam_policies WHERE arn = ?", arn).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "policy", "")
		}
		if err != nil {
			return err
		}
		var n int
		if err := t.row("SELECT COUNT(*) FROM iam_policy_versions WHERE policy = ?", arn).Scan(&n); err != nil {
			return err
		}
		if n >= MaxPolicyVersions {
			return newErr(op, Limit, "policy version", "")
		}
		v.VersionID = "v" + strconv.FormatInt(next, 10)
		if _, err := t.exec("INSERT INTO iam_policy_versions (policy, version_id, document, created_at) VALUES (?, ?, ?, ?)",
			arn, v.VersionID, document, micros(v.CreatedAt)); err != nil {
			return err
		}
		if _, err := t.exec("UPDATE iam_policies SET next_version = ? WHERE arn = ?", next+1, arn); err != nil {
			return err
		}
		if setDefault {
			return setDefaultVersion(t, arn, v.VersionID, document, v.CreatedAt)
		}
		return nil
	})
	if err != nil {
		return PolicyVersion{}, fail(op, "policy version", err)
	}
	return v, nil
}

// setDefaultVersion makes versionID (of document) arn's default: the
// policy's document, which authorization reads.
func setDefaultVersion(t *tx, arn, versionID, document string, at time.Time) error {
	if _, err := t.exec("UPDATE iam_policies SET default_version = ?, document = ?, updated_at = ? WHERE arn = ?",
		versionID, document, micros(stamp(at)), arn); err != nil {
		return err
	}
	return bumpAuthz(t)
}

func (s *sqlStore) GetPolicyVersion(ctx context.Context, arn, versionID string) (PolicyVersion, error) {
	const op = "GetPolicyVersion"
	var v PolicyVersion
	err := s.read(ctx, func(t *tx) (err error) {
		v, err = scanVersion(t.row("SELECT "+versionCols+` FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy
			WHERE v.policy = ? AND v.version_id = ?`, arn, versionID))
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "policy version", "")
		}
		return err
	})
	return v, fail(op, "policy version", err)
}

func (s *sqlStore) ListPolicyVersions(ctx context.Context, arn string) ([]PolicyVersion, error) {
	const op = "ListPolicyVersions"
	var out []PolicyVersion
	err := s.read(ctx, func(t *tx) error {
		out = nil
		if ok, err := t.exists("SELECT 1 FROM iam_policies WHERE arn = ?", arn); err != nil || !ok {
			if err == nil {
				err = newErr(op, NotFound, "policy", "")
			}
			return err
		}
		return eachRow(t, func(sc scanner) error {
			v, err := scanVersion(sc)
			out = append(out, v)
			return err
		}, "SELECT "+versionCols+` FROM iam_policy_versions v JOIN iam_policies p ON p.arn = v.policy
			WHERE v.policy = ? ORDER BY v.created_at DESC, LENGTH(v.version_id) DESC, v.version_id DESC`, arn)
	})
	// Newest first, as IAM lists them.
	return out, fail(op, "policy version", err)
}

func (s *sqlStore) SetDefaultPolicyVersion(ctx context.Context, arn, versionID string, at time.Time) error {
	const op = "SetDefaultPolicyVersion"
	err := s.write(ctx, func(t *tx) error {
		var doc string
		err := t.row("SELECT document FROM iam_policy_versions WHERE policy = ? AND version_id = ?", arn, versionID).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "policy version", "")
		}
		if err != nil {
			return err
		}
		return setDefaultVersion(t, arn, versionID, doc, at)
	})
	return fail(op, "policy version", err)
}

func (s *sqlStore) DeletePolicyVersion(ctx context.Context, arn, versionID string) error {
	const op = "DeletePolicyVersion"
	err := s.write(ctx, func(t *tx) error {
		var def string
		err := t.row("SELECT default_version FROM iam_policies WHERE arn = ?", arn).Scan(&def)
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "policy", "")
		}
		if err != nil {
			return err
		}
		if def == versionID {
			return newErr(op, Referenced, "policy version", "the default version")
		}
		return deleteRow(t, op, "policy version", "DELETE FROM iam_policy_versions WHERE policy = ? AND version_id = ?", arn, versionID)
	})
	return fail(op, "policy version", err)
}
