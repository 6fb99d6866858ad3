package metadata

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"
)

const sessionCols = "access_key_id, sealed, role_arn, session_name, account, source_arn, tags, created_at, expires_at, policy, policy_arns, transitive_tag_keys"

func scanSession(sc scanner) (Session, error) {
	var (
		s                Session
		sealed, tags     string
		created, expires int64
		arns, transitive string
	)
	if err := sc.Scan(&s.AccessKeyID, &sealed, &s.RoleARN, &s.SessionName, &s.Account, &s.SourceARN, &tags, &created, &expires,
		&s.Policy, &arns, &transitive); err != nil {
		return s, err
	}
	var err error
	if s.PolicyArns, err = decJSON[string](arns); err != nil {
		return s, err
	}
	if s.TransitiveTagKeys, err = decJSON[string](transitive); err != nil {
		return s, err
	}
	s.CreatedAt, s.Expires = fromMicros(created), fromMicros(expires)
	if s.Sealed, err = base64.StdEncoding.DecodeString(sealed); err != nil {
		return s, err
	}
	s.Tags, err = decJSON[ResourceTag](tags)
	return s, err
}

func (s *sqlStore) CreateSession(ctx context.Context, ss Session) error {
	const op = "CreateSession"
	if ss.AccessKeyID == "" || ss.RoleARN == "" || ss.Expires.IsZero() {
		return newErr(op, Invalid, "session", "access key id, role and expiry are required")
	}
	err := s.write(ctx, func(t *tx) error {
		_, err := t.exec("INSERT INTO iam_sessions ("+sessionCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			ss.AccessKeyID, base64.StdEncoding.EncodeToString(ss.Sealed), ss.RoleARN, ss.SessionName, ss.Account,
			ss.SourceARN, encJSON(ss.Tags), micros(stamp(ss.CreatedAt)), micros(ss.Expires), ss.Policy, encJSON(ss.PolicyArns),
			encJSON(ss.TransitiveTagKeys))
		return err
	})
	return fail(op, "session", err)
}

func (s *sqlStore) GetSession(ctx context.Context, accessKeyID string) (Session, error) {
	const op = "GetSession"
	var ss Session
	err := s.read(ctx, func(t *tx) (err error) {
		ss, err = scanSession(t.row("SELECT "+sessionCols+" FROM iam_sessions WHERE access_key_id = ?", accessKeyID))
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "session", "")
		}
		return err
	})
	return ss, fail(op, "session", err)
}

func (s *sqlStore) DeleteSessions(ctx context.Context, roleARN string) (int, error) {
	const op = "DeleteSessions"
	var n int64
	err := s.write(ctx, func(t *tx) (err error) {
		n, err = t.execN("DELETE FROM iam_sessions WHERE (? = '' OR role_arn = ?)", roleARN, roleARN)
		return err
	})
	return int(n), fail(op, "session", err)
}

func (s *sqlStore) PruneSessions(ctx context.Context, before time.Time) (int, error) {
	const op = "PruneSessions"
	var n int64
	err := s.write(ctx, func(t *tx) (err error) {
		n, err = t.execN("DELETE FROM iam_sessions WHERE expires_at < ?", micros(before))
		return err
	})
	return int(n), fail(op, "session", err)
}

const credCols = "id, secret_hash, principal, account, status, created_at, expires_at"

func scanCred(sc scanner) (RegistryCredential, error) {
	var (
		c                RegistryCredential
		hash             string
		created, expires int64
	)
	if err := sc.Scan(&c.ID, &hash, &c.Principal, &c.Account, &c.Status, &created, &expires); err != nil {
		return c, err
	}
	c.CreatedAt, c.Expires = fromMicros(created), fromMicros(expires)
	var err error
	c.SecretHash, err = base64.StdEncoding.DecodeString(hash)
	return c, err
}

func (s *sqlStore) CreateRegistryCredential(ctx context.Context, c RegistryCredential) error {
	const op = "CreateRegistryCredential"
	if c.ID == "" || len(c.SecretHash) == 0 || c.Principal == "" {
		return newErr(op, Invalid, "registry credential", "id, secret hash and principal are required")
	}
	if c.Status == "" {
		c.Status = KeyActive
	}
	if !validKeyStatus(c.Status) {
		return newErr(op, Invalid, "registry credential", "unknown status %q", c.Status)
	}
	err := s.write(ctx, func(t *tx) error {
		if err := principalExists(t, op, c.Principal); err != nil {
			return err
		}
		_, err := t.exec("INSERT INTO registry_credentials ("+credCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			c.ID, base64.StdEncoding.EncodeToString(c.SecretHash), c.Principal, c.Account, c.Status,
			micros(stamp(c.CreatedAt)), micros(c.Expires))
		return err
	})
	return fail(op, "registry credential", err)
}

func (s *sqlStore) GetRegistryCredential(ctx context.Context, id string) (RegistryCredential, error) {
	const op = "GetRegistryCredential"
	var c RegistryCredential
	err := s.read(ctx, func(t *tx) (err error) {
		c, err = scanCred(t.row("SELECT "+credCols+" FROM registry_credentials WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return newErr(op, NotFound, "registry credential", "")
		}
		return err
	})
	return c, fail(op, "registry credential", err)
}

func (s *sqlStore) ListRegistryCredentials(ctx context.Context, principalARN string) ([]RegistryCredential, error) {
	const op = "ListRegistryCredentials"
	var out []RegistryCredential
	err := s.read(ctx, func(t *tx) error {
		out = nil
		return eachRow(t, func(sc scanner) error {
			c, err := scanCred(sc)
			out = append(out, c)
			return err
		}, "SELECT "+credCols+" FROM registry_credentials WHERE (? = '' OR principal = ?) ORDER BY id", principalARN, principalARN)
	})
	return out, fail(op, "registry credential", err)
}

func (s *sqlStore) DeleteRegistryCredential(ctx context.Context, id string) error {
	const op = "DeleteRegistryCredential"
	err := s.write(ctx, func(t *tx) error {
		return deleteRow(t, op, "registry credential", "DELETE FROM registry_credentials WHERE id = ?", id)
	})
	return fail(op, "registry credential", err)
}
