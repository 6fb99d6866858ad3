package metadata

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// OIDC is the store of IAM OpenID Connect providers, keyed by ARN
// (arn:aws:iam::ACCOUNT:oidc-provider/URL).
type OIDC interface {
	// CreateOIDCProvider: Kind AlreadyExists when the ARN is taken,
	// NotFound when the account is missing.
	CreateOIDCProvider(ctx context.Context, p OIDCProvider) (OIDCProvider, error)
	// GetOIDCProvider: Kind NotFound if absent.
	GetOIDCProvider(ctx context.Context, arn string) (OIDCProvider, error)
	// ListOIDCProviders lists an account's providers by ARN ("": all).
	ListOIDCProviders(ctx context.Context, account string) ([]OIDCProvider, error)
	// UpdateOIDCProvider applies fn in one transaction; only the client
	// ids, thumbprints and tags can change.
	UpdateOIDCProvider(ctx context.Context, arn string, fn func(*OIDCProvider) error) (OIDCProvider, error)
	DeleteOIDCProvider(ctx context.Context, arn string) error
}

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	ARN     string
	Account string
	// URL is the issuer without its https:// scheme: host[/path].
	URL         string
	ClientIDs   []string
	Thumbprints []string
	Tags        []ResourceTag
	CreatedAt   time.Time
}

const oidcCols = "arn, account, url, client_ids, thumbprints, tags, created_at"

func scanOIDC(sc scanner) (OIDCProvider, error) {
	var (
		p                     OIDCProvider
		clients, thumbs, tags string
		created               int64
	)
	if err := sc.Scan(&p.ARN, &p.Account, &p.URL, &clients, &thumbs, &tags, &created); err != nil {
		return p, err
	}
	p.CreatedAt = fromMicros(created)
	var err error
	if p.ClientIDs, err = decJSON[string](clients); err != nil {
		return p, err
	}
	if p.Thumbprints, err = decJSON[string](thumbs); err != nil {
		return p, err
	}
	p.Tags, err = decJSON[ResourceTag](tags)
	return p, err
}

func (s *sqlStore) CreateOIDCProvider(ctx context.Context, p OIDCProvider) (OIDCProvider, error) {
	const op = "CreateOIDCProvider"
	if p.ARN == "" || p.Account == "" || p.URL == "" {
		return OIDCProvider{}, newErr(op, Invalid, "oidc provider", "arn, account and url are required")
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
		_, err = t.exec("INSERT INTO iam_oidc_providers ("+oidcCols+") VALUES (?, ?, ?, ?, ?, ?, ?)",
			p.ARN, p.Account, p.URL, encJSON(p.ClientIDs), encJSON(p.Thumbprints), encJSON(p.Tags), micros(p.CreatedAt))
		return err
	})
	if err != nil {
		return OIDCProvider{}, fail(op, "oidc provider", err)
	}
	return p, nil
}

func getOIDC(t *tx, op, arn, suffix string) (OIDCProvider, error) {
	p, err := scanOIDC(t.row("SELECT "+oidcCols+" FROM iam_oidc_providers WHERE arn = ?"+suffix, arn))
	if errors.Is(err, sql.ErrNoRows) {
		return p, newErr(op, NotFound, "oidc provider", "")
	}
	return p, err
}

func (s *sqlStore) GetOIDCProvider(ctx context.Context, arn string) (OIDCProvider, error) {
	const op = "GetOIDCProvider"
	var p OIDCProvider
	err := s.read(ctx, func(t *tx) (err error) {
		p, err = getOIDC(t, op, arn, "")
		return err
	})
	return p, fail(op, "oidc provider", err)
}

func (s *sqlStore) ListOIDCProviders(ctx context.Context, account string) ([]OIDCProvider, error) {
	const op = "ListOIDCProviders"
	var out []OIDCProvider
	err := s.read(ctx, func(t *tx) error {
		out = nil
		return eachRow(t, func(sc scanner) error {
			p, err := scanOIDC(sc)
			out = append(out, p)
			return err
		}, "SELECT "+oidcCols+" FROM iam_oidc_providers WHERE (? = '' OR account = ?) ORDER BY arn", account, account)
	})
	return out, fail(op, "oidc provider", err)
}

func (s *sqlStore) UpdateOIDCProvider(ctx context.Context, arn string, fn func(*OIDCProvider) error) (OIDCProvider, error) {
	const op = "UpdateOIDCProvider"
	var out OIDCProvider
	err := s.write(ctx, func(t *tx) error {
		cur, err := getOIDC(t, op, arn, t.lock("UPDATE"))
		if err != nil {
			return err
		}
		p := cur
		p.ClientIDs = append([]string(nil), cur.ClientIDs...)
		p.Thumbprints = append([]string(nil), cur.Thumbprints...)
		p.Tags = append([]ResourceTag(nil), cur.Tags...)
		if err := fn(&p); err != nil {
			return userError{err}
		}
		p.ARN, p.Account, p.URL, p.CreatedAt = cur.ARN, cur.Account, cur.URL, cur.CreatedAt
		if _, err := t.exec("UPDATE iam_oidc_providers SET client_ids = ?, thumbprints = ?, tags = ? WHERE arn = ?",
			encJSON(p.ClientIDs), encJSON(p.Thumbprints), encJSON(p.Tags), arn); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return OIDCProvider{}, fail(op, "oidc provider", err)
	}
	return out, nil
}

func (s *sqlStore) DeleteOIDCProvider(ctx context.Context, arn string) error {
	const op = "DeleteOIDCProvider"
	err := s.write(ctx, func(t *tx) error {
		return deleteRow(t, op, "oidc provider", "DELETE FROM iam_oidc_providers WHERE arn = ?", arn)
	})
	return fail(op, "oidc provider", err)
}
