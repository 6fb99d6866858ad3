package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/auth/token"
	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/lifecycle"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/storage/crypt"
)

// controlPlane is the ECR side of berth: metadata store, credentials,
// login tokens and the JSON API.
type controlPlane struct {
	store    metadata.Store
	keys     *auth.KeyLookup
	tokens   *token.Issuer
	recorder *registry.Recorder
	blobURLs *registry.BlobURLSigner
	gate     registry.GateOptions
	backend  *registry.ECRBackend
}

// lifecycle is the runner applying lifecycle policies: an expired image
// leaves storage, then the metadata store.
func (cp *controlPlane) lifecycle(registryID string, log *slog.Logger) *lifecycle.Runner {
	return &lifecycle.Runner{
		Store:       cp.store,
		RegistryIDs: []string{registryID},
		Log:         log,
		Expire: func(ctx context.Context, registryID, repo, digest string) error {
			if err := cp.backend.DeleteManifest(ctx, registryID, repo, digest); err != nil && !errors.Is(err, ecrapi.ErrManifestUnknown) {
				return err
			}
			if err := cp.store.DeleteImage(ctx, registryID, repo, digest); err != nil && !metadata.Is(err, metadata.NotFound) {
				return err
			}
			return nil
		},
	}
}

// openControlPlane opens the metadata store, the token keys and the key
// lookup, and makes the bootstrap admin key at first start.
func openControlPlane(ctx context.Context, c *config.Config, kr *crypt.Keyring, secret string, log *slog.Logger, out io.Writer) (*controlPlane, error) {
	if c.Metadata.Engine == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(c.Metadata.DSN), 0o700); err != nil {
			return nil, fmt.Errorf("metadata.dsn: %w", err)
		}
	}
	st, err := metadata.Open(ctx, c.Metadata.Engine, c.Metadata.DSN)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	cp := &controlPlane{store: st}
	fail := func(err error) (*controlPlane, error) { st.Close(); return nil, err }
	if err := st.EnsureRegistry(ctx, c.ECR.RegistryID); err != nil {
		return fail(fmt.Errorf("metadata: %w", err))
	}
	keys, err := token.LoadOrCreate(c.ECR.TokenKeys)
	if err != nil {
		return fail(fmt.Errorf("ecr.token_keys: %w", err))
	}
	cp.tokens = &token.Issuer{Keys: keys, TTL: c.ECR.TTL(), Issuer: "berth"}
	cp.keys = &auth.KeyLookup{Store: st, Keyring: kr}
	if err := bootstrapAdmin(ctx, c, st, kr, out); err != nil {
		return fail(err)
	}
	cp.recorder = registry.NewRecorder(st, log)
	cp.blobURLs = &registry.BlobURLSigner{Key: derive(secret, "blob-url")}
	cp.gate = registry.GateOptions{
		Store: st, Credentials: &registryCredentials{tokens: cp.tokens, keys: cp.keys},
		BlobURLs: cp.blobURLs, RegistryID: c.ECR.RegistryID, Region: c.ECR.Region, PublicHost: c.ECR.PublicHost,
	}
	return cp, nil
}

// api builds the ECR JSON API over srv's /v2 handler and storage.
func (cp *controlPlane) api(c *config.Config, srv *registry.Server, secret string, log *slog.Logger) *ecrapi.API {
	cp.backend = srv.ECRBackend(cp.blobURLs, "https://"+c.ECR.PublicHost)
	return ecrapi.New(ecrapi.Deps{
		Store:      cp.store,
		Registry:   cp.backend,
		Authn:      &auth.APIAuthenticator{Verifier: &sigv4.Verifier{Lookup: cp.keys.Lookup}, Service: "ecr"},
		Tokens:     cp.tokens,
		RegistryID: c.ECR.RegistryID,
		Region:     c.ECR.Region,
		Host:       c.ECR.PublicHost,
		PageKey:    derive(secret, "next-token"),
		Log:        log,
	})
}

func (cp *controlPlane) Close() {
	if cp.recorder != nil {
		cp.recorder.Close()
	}
	cp.store.Close()
}

// derive makes a purpose-bound key from the shared HTTP secret, so every
// node of one registry agrees on it without another secret to distribute.
func derive(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("berth/" + purpose))
	return m.Sum(nil)
}

// bootstrapAdmin makes the first access key, allowed everything, and shows
// its secret once: on standard error, or in the configured file (0600).
func bootstrapAdmin(ctx context.Context, c *config.Config, st metadata.Store, kr *crypt.Keyring, out io.Writer) error {
	id, secret, created, err := auth.EnsureBootstrapAdmin(ctx, st, kr, c.ECR.RegistryID)
	if err != nil {
		return fmt.Errorf("bootstrap admin key: %w", err)
	}
	if !created {
		return nil
	}
	if p := c.ECR.BootstrapCredentialsFile; p != "" {
		body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return fmt.Errorf("ecr.bootstrap_credentials_file: %w", err)
		}
		fmt.Fprintf(out, "berth: bootstrap admin access key %s written to %s\n", id, p)
		return nil
	}
	fmt.Fprintf(out, "berth: bootstrap admin access key (shown once, keep it safe):\n"+
		"  aws_access_key_id = %s\n  aws_secret_access_key = %s\n", id, secret)
	return nil
}

// registryCredentials checks /v2 Basic credentials: user AWS and a login
// token whose access key is still active (revoking the key revokes its
// tokens within the lookup cache's few seconds).
type registryCredentials struct {
	tokens *token.Issuer
	keys   *auth.KeyLookup
}

func (rc *registryCredentials) Basic(ctx context.Context, user, password string) (auth.Principal, error) {
	if user != "AWS" {
		return auth.Principal{}, errors.New("user is not AWS")
	}
	p, _, err := rc.tokens.Verify(password)
	if err != nil {
		if te := (*token.Error)(nil); errors.As(err, &te) && te.Kind == token.Expired {
			return auth.Principal{}, registry.ErrTokenExpired
		}
		return auth.Principal{}, err
	}
	active, err := rc.keys.Active(ctx, p.AccessKeyID)
	if err != nil {
		return auth.Principal{}, err
	}
	if !active {
		return auth.Principal{}, errors.New("the token's access key is revoked")
	}
	return p, nil
}
