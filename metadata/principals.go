package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// bumpAuthz advances the authorization version inside t: every write that
// can change a policy decision calls it, so nodes drop cached decisions.
func bumpAuthz(t *tx) error {
	_, err := t.exec("UPDATE authz_state SET version = version + 1 WHERE id = 1")
	t.bumped = err == nil
	return err
}

// LocalAuthzChanges counts the writes of this process that moved the
// authorization version: a node sees its own changes at once, without a
// query, and other processes' through AuthzVersion.
func (s *sqlStore) LocalAuthzChanges() uint64 { return s.authzWrites.Load() }

func (s *sqlStore) AuthzVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.read(ctx, func(t *tx) error {
		return t.row("SELECT version FROM authz_state WHERE id = 1").Scan(&v)
	})
	return v, fail("AuthzVersion", "authz state", err)
}

func (s *sqlStore) CreateAccount(ctx context.Context, a Account) (Account, error) {
	const op = "CreateAccount"
	if a.ID == "" {
		return Account{}, newErr(op, Invalid, "account", "empty id")
	}
	a.CreatedAt = stamp(a.CreatedAt)
	err := s.write(ctx, func(t *tx) error {
		if _, err := t.exec("INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", a.ID, a.Name, micros(a.CreatedAt)); err != nil {
			return err
		}
		return ensureRegistry(t, a.ID)
	})
	if err != nil {
		return Account{}, fail(op, "account", err)
	}
	return a, nil
}

func scanAccount(sc scanner) (Account, error) {
	var a Account
	var created int64
	err := sc.Scan(&a.ID, &a.Name, &created)
	a.CreatedAt = fromMicros(created)
	return a, err
}

func (s *sqlStore) GetAccount(ctx context.Context, id string) (Account, error) {
	const op = "GetAccount"
	var a Account
	err := s.read(ctx, func(t *tx) (err error) {
		a, err = scanAccount(t.row("SELECT id, name, created_at FROM accounts WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "account", "%s", id)
		}
		return err
	})
	return a, fail(op, "account", err)
}

func (s *sqlStore) ListAccounts(ctx context.Context) ([]Account, error) {
	const op = "ListAccounts"
	var out []Account
	err := s.read(ctx, func(t *tx) error {
		out = nil
		return eachRow(t, func(sc scanner) error {
			a, err := scanAccount(sc)
			out = append(out, a)
			return err
		}, "SELECT id, name, created_at FROM accounts ORDER BY id")
	})
	return out, fail(op, "account", err)
}

// deleteRow runs the DELETE q inside t: Kind NotFound (about entity) when
// it removed nothing.
func deleteRow(t *tx, op, entity, q string, args ...any) error {
	n, err := t.execN(q, args...)
	if err == nil && n == 0 {
		err = newErr(op, NotFound, entity, "")
	}
	return err
}

// eachRow runs q inside t and calls fn for every row.
func eachRow(t *tx, fn func(scanner) error, q string, args ...any) error {
	rows, err := t.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

const principalCols = "arn, account, kind, name, path, id, trust_policy, max_session_seconds, description, tags, created_at, permissions_boundary"

// principalReadCols are principalCols and what only PrincipalUsed writes.
const principalReadCols = principalCols + ", last_used_at, last_used_region"

func scanPrincipal(sc scanner) (Principal, error) {
	var (
		p             Principal
		tags          string
		created, used int64
	)
	if err := sc.Scan(&p.ARN, &p.Account, &p.Kind, &p.Name, &p.Path, &p.ID, &p.TrustPolicy, &p.MaxSessionSeconds,
		&p.Description, &tags, &created, &p.PermissionsBoundary, &used, &p.LastUsedRegion); err != nil {
		return p, err
	}
	p.CreatedAt, p.LastUsed = fromMicros(created), fromMicros(used)
	var err error
	p.Tags, err = decJSON[ResourceTag](tags)
	return p, err
}

func (s *sqlStore) CreatePrincipal(ctx context.Context, p Principal) (Principal, error) {
	const op = "CreatePrincipal"
	if p.ARN == "" || p.Account == "" || p.Name == "" || p.ID == "" || (p.Kind != KindUser && p.Kind != KindRole) {
		return Principal{}, newErr(op, Invalid, "principal", "arn, account, kind, name and id are required")
	}
	if p.Path == "" {
		p.Path = "/"
	}
	p.CreatedAt = stamp(p.CreatedAt)
	err := s.write(ctx, func(t *tx) error {
		ok, err := t.exists("SELECT 1 FROM accounts WHERE id = ?", p.Account)
		if err != nil {
			return err
		}
		if !ok {
			return newErr(op, NotFound, "account", "%s", p.Account)
		}
		if _, err := t.exec("INSERT INTO iam_principals ("+principalCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			p.ARN, p.Account, p.Kind, p.Name, p.Path, p.ID, p.TrustPolicy, p.MaxSessionSeconds, p.Description,
			encJSON(p.Tags), micros(p.CreatedAt), p.PermissionsBoundary); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	if err != nil {
		return Principal{}, fail(op, "principal", err)
	}
	return p, nil
}

func getPrincipal(t *tx, op, q string, args ...any) (Principal, error) {
	p, err := scanPrincipal(t.row("SELECT "+principalReadCols+" FROM iam_principals WHERE "+q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return p, newErr(op, NotFound, "principal", "")
	}
	return p, err
}

func (s *sqlStore) GetPrincipal(ctx context.Context, arn string) (Principal, error) {
	const op = "GetPrincipal"
	var p Principal
	err := s.read(ctx, func(t *tx) (err error) {
		p, err = getPrincipal(t, op, "arn = ?", arn)
		return err
	})
	return p, fail(op, "principal", err)
}

func (s *sqlStore) FindPrincipal(ctx context.Context, account, kind, name string) (Principal, error) {
	const op = "FindPrincipal"
	var p Principal
	err := s.read(ctx, func(t *tx) (err error) {
		p, err = getPrincipal(t, op, "account = ? AND kind = ? AND name = ?", account, kind, name)
		return err
	})
	return p, fail(op, "principal", err)
}

func (s *sqlStore) ListPrincipals(ctx context.Context, account, kind string) ([]Principal, error) {
	const op = "ListPrincipals"
	q := "SELECT " + principalReadCols + " FROM iam_principals WHERE (? = '' OR account = ?) AND (? = '' OR kind = ?) ORDER BY account, kind, name"
	var out []Principal
	err := s.read(ctx, func(t *tx) error {
		out = nil
		return eachRow(t, func(sc scanner) error {
			p, err := scanPrincipal(sc)
			out = append(out, p)
			return err
		}, q, account, account, kind, kind)
	})
	return out, fail(op, "principal", err)
}

func (s *sqlStore) UpdatePrincipal(ctx context.Context, arn string, fn func(*Principal) error) (Principal, error) {
	const op = "UpdatePrincipal"
	var out Principal
	err := s.write(ctx, func(t *tx) error {
		cur, err := getPrincipal(t, op, "arn = ?"+t.lock("UPDATE"), arn)
		if err != nil {
			return err
		}
		p := cur
		p.Tags = append([]ResourceTag(nil), cur.Tags...)
		if err := fn(&p); err != nil {
			return userError{err}
		}
		p.ARN, p.Account, p.Kind, p.Name, p.ID, p.CreatedAt = cur.ARN, cur.Account, cur.Kind, cur.Name, cur.ID, cur.CreatedAt
		p.LastUsed, p.LastUsedRegion = cur.LastUsed, cur.LastUsedRegion
		if _, err := t.exec(`UPDATE iam_principals SET path = ?, trust_policy = ?, max_session_seconds = ?, description = ?, tags = ?,
			permissions_boundary = ? WHERE arn = ?`, p.Path, p.TrustPolicy, p.MaxSessionSeconds, p.Description, encJSON(p.Tags),
			p.PermissionsBoundary, arn); err != nil {
			return err
		}
		out = p
		return bumpAuthz(t)
	})
	if err != nil {
		return Principal{}, fail(op, "principal", err)
	}
	return out, nil
}

func (s *sqlStore) PrincipalUsed(ctx context.Context, arn string, at time.Time, region string) error {
	const op = "PrincipalUsed"
	err := s.write(ctx, func(t *tx) error {
		ok, err := t.exists("SELECT 1 FROM iam_principals WHERE arn = ?", arn)
		if err != nil {
			return err
		}
		if !ok {
			return newErr(op, NotFound, "principal", "")
		}
		_, err = t.exec("UPDATE iam_principals SET last_used_at = ?, last_used_region = ? WHERE arn = ? AND last_used_at < ?",
			micros(stamp(at)), region, arn, micros(stamp(at)))
		return err
	})
	return fail(op, "principal", err)
}

func (s *sqlStore) DeletePrincipal(ctx context.Context, arn string) error {
	const op = "DeletePrincipal"
	err := s.write(ctx, func(t *tx) error {
		for _, q := range []string{
			"DELETE FROM iam_inline_policies WHERE principal = ?",
			"DELETE FROM iam_attachments WHERE principal = ?",
			"DELETE FROM access_keys WHERE principal = ?",
			"DELETE FROM iam_sessions WHERE role_arn = ?",
			"DELETE FROM registry_credentials WHERE principal = ?",
		} {
			if _, err := t.exec(q, arn); err != nil {
				return err
			}
		}
		if err := deleteRow(t, op, "principal", "DELETE FROM iam_principals WHERE arn = ?", arn); err != nil {
			return err
		}
		return bumpAuthz(t)
	})
	return fail(op, "principal", err)
}
