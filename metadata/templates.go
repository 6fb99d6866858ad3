package metadata

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"
)

const templateCols = `registry_id, prefix, description, applied_for, tag_mutability, mutability_exclusions,
	encryption_type, kms_key, resource_tags, repository_policy, lifecycle_policy, custom_role_arn,
	created_at, updated_at`

func scanTemplate(sc scanner) (Template, error) {
	var (
		tp                  Template
		applied, excl, tags string
		created, updated    int64
	)
	err := sc.Scan(&tp.RegistryID, &tp.Prefix, &tp.Description, &applied, &tp.TagMutability, &excl,
		&tp.EncryptionType, &tp.KMSKey, &tags, &tp.RepositoryPolicy, &tp.LifecyclePolicy, &tp.CustomRoleArn,
		&created, &updated)
	if err != nil {
		return tp, err
	}
	tp.CreatedAt, tp.UpdatedAt = fromMicros(created), fromMicros(updated)
	if tp.AppliedFor, err = decJSON[string](applied); err != nil {
		return tp, err
	}
	if tp.MutabilityExclusions, err = decJSON[string](excl); err != nil {
		return tp, err
	}
	tp.ResourceTags, err = decJSON[ResourceTag](tags)
	return tp, err
}

// templateArgs are tp's values in templateCols order.
func templateArgs(tp Template) []any {
	return []any{tp.RegistryID, tp.Prefix, tp.Description, encJSON(tp.AppliedFor), tp.TagMutability,
		encJSON(tp.MutabilityExclusions), tp.EncryptionType, tp.KMSKey, encJSON(tp.ResourceTags),
		tp.RepositoryPolicy, tp.LifecyclePolicy, tp.CustomRoleArn, micros(tp.CreatedAt), micros(tp.UpdatedAt)}
}

func (s *sqlStore) CreateTemplate(ctx context.Context, tp Template) (Template, error) {
	const op = "CreateTemplate"
	if tp.RegistryID == "" || tp.Prefix == "" {
		return Template{}, newErr(op, Invalid, "template", "registry id and prefix are required")
	}
	if !validMutability(tp.TagMutability) {
		return Template{}, newErr(op, Invalid, "template", "unknown tag mutability %q", tp.TagMutability)
	}
	tp.CreatedAt = stamp(tp.CreatedAt)
	if tp.UpdatedAt.IsZero() {
		tp.UpdatedAt = tp.CreatedAt
	}
	tp.UpdatedAt = stamp(tp.UpdatedAt)
	err := s.write(ctx, func(t *tx) error {
		_, err := t.exec("INSERT INTO templates ("+templateCols+") VALUES ("+placeholders(14)+")", templateArgs(tp)...)
		return err
	})
	if err != nil {
		return Template{}, fail(op, "template", err)
	}
	return tp, nil
}

func getTemplate(t *tx, op, registryID, prefix, lock string) (Template, error) {
	q := "SELECT " + templateCols + " FROM templates WHERE registry_id = ? AND prefix = ?"
	if lock != "" {
		q += t.lock(lock)
	}
	tp, err := scanTemplate(t.row(q, registryID, prefix))
	if errors.Is(err, sql.ErrNoRows) {
		return tp, newErr(op, NotFound, "template", "%s", prefix)
	}
	return tp, err
}

func (s *sqlStore) GetTemplate(ctx context.Context, registryID, prefix string) (Template, error) {
	const op = "GetTemplate"
	var tp Template
	err := s.read(ctx, func(t *tx) (err error) {
		tp, err = getTemplate(t, op, registryID, prefix, "")
		return err
	})
	if err != nil {
		return Template{}, fail(op, "template", err)
	}
	return tp, nil
}

func (s *sqlStore) ListTemplates(ctx context.Context, registryID string, p Page) ([]Template, string, error) {
	const op = "ListTemplates"
	n := limit(p)
	var out []Template
	err := s.read(ctx, func(t *tx) error {
		out = nil
		rows, err := t.query("SELECT "+templateCols+" FROM templates WHERE registry_id = ? AND prefix > ? ORDER BY prefix LIMIT ?",
			registryID, p.After, n+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			tp, err := scanTemplate(rows)
			if err != nil {
				return err
			}
			out = append(out, tp)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", fail(op, "template", err)
	}
	out, next := cut(out, n, func(tp Template) string { return tp.Prefix })
	return out, next, nil
}

func (s *sqlStore) UpdateTemplate(ctx context.Context, registryID, prefix string, fn func(*Template) error) (Template, error) {
	const op = "UpdateTemplate"
	var out Template
	err := s.write(ctx, func(t *tx) error {
		cur, err := getTemplate(t, op, registryID, prefix, "UPDATE")
		if err != nil {
			return err
		}
		tp := cur
		tp.AppliedFor = slices.Clone(cur.AppliedFor)
		tp.MutabilityExclusions = slices.Clone(cur.MutabilityExclusions)
		tp.ResourceTags = slices.Clone(cur.ResourceTags)
		if err := fn(&tp); err != nil {
			return userError{err}
		}
		if !validMutability(tp.TagMutability) {
			return newErr(op, Invalid, "template", "unknown tag mutability %q", tp.TagMutability)
		}
		tp.RegistryID, tp.Prefix, tp.CreatedAt = cur.RegistryID, cur.Prefix, cur.CreatedAt
		tp.UpdatedAt = stamp(time.Time{})
		args := append(templateArgs(tp)[2:], registryID, prefix)
		_, err = t.exec(`UPDATE templates SET description = ?, applied_for = ?, tag_mutability = ?, mutability_exclusions = ?,
			encryption_type = ?, kms_key = ?, resource_tags = ?, repository_policy = ?, lifecycle_policy = ?,
			custom_role_arn = ?, created_at = ?, updated_at = ? WHERE registry_id = ? AND prefix = ?`, args...)
		out = tp
		return err
	})
	if err != nil {
		return Template{}, fail(op, "template", err)
	}
	return out, nil
}

func (s *sqlStore) DeleteTemplate(ctx context.Context, registryID, prefix string) (Template, error) {
	const op = "DeleteTemplate"
	var tp Template
	err := s.write(ctx, func(t *tx) (err error) {
		if tp, err = getTemplate(t, op, registryID, prefix, "UPDATE"); err != nil {
			return err
		}
		_, err = t.exec("DELETE FROM templates WHERE registry_id = ? AND prefix = ?", registryID, prefix)
		return err
	})
	if err != nil {
		return Template{}, fail(op, "template", err)
	}
	return tp, nil
}
