package node

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/opencontainers/go-digest"

	"github.com/berth-registry/berth/audit"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/oidc"
	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/auth/token"
	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/ecrapi"
	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/iamapi"
	"github.com/berth-registry/berth/lifecycle"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
	"github.com/berth-registry/berth/registry"
	"github.com/berth-registry/berth/secretsmanager"
	"github.com/berth-registry/berth/storage/crypt"
	"github.com/berth-registry/berth/sts"
)

// controlPlane is the ECR side of berth: metadata store, identities and
// their policies, login tokens, the JSON API and STS.
type controlPlane struct {
	store    metadata.Store
	keys     *auth.KeyLookup
	tokens   *token.Issuer
	iam      *iam.Service
	authz    *iam.Authorizer
	oidc     *oidc.Verifier
	audit    *audit.Log // nil when off
	meta     *registry.Meta
	blobURLs *registry.BlobURLSigner
	gate     registry.GateOptions
	ptc      *pullthrough.Rules
	keyring  *crypt.Keyring
}

// lifecycle is the runner applying lifecycle policies: an expired image
// leaves the store (if it still is what the policy saw), then storage.
func (cp *controlPlane) lifecycle(interval time.Duration, node string, log *slog.Logger) *lifecycle.Runner {
	return &lifecycle.Runner{
		Store:    cp.store,
		Interval: interval,
		Node:     node,
		Log:      log,
		Expire: func(ctx context.Context, registryID, repo, dgst string, tags []string) error {
			return cp.meta.DeleteManifest(ctx, registryID, repo, digest.Digest(dgst), &tags)
		},
	}
}

// openControlPlane opens the metadata store, the token keys, the key
// lookup and the audit log, builds the metadata middleware over drv, makes
// the bootstrap admin at first start and applies the declarative identity
// file. Every field is set when it returns.
func openControlPlane(ctx context.Context, c *config.Config, kr *crypt.Keyring, drv storagedriver.StorageDriver, secret string, log *slog.Logger, out io.Writer) (*controlPlane, error) {
	if c.Metadata.Engine == "sqlite" {
		if err := os.MkdirAll(filepath.Dir(c.Metadata.DSN), 0o700); err != nil {
			return nil, fmt.Errorf("metadata.dsn: %w", err)
		}
	}
	st, err := metadata.Open(ctx, c.Metadata.Engine, c.Metadata.DSN, metadata.WithReviewDelay(c.GC.Delay()),
		metadata.WithTagRule(ecrmodel.TagImmutable))
	if err != nil {
		return nil, err // it says "metadata: …"
	}
	cp := &controlPlane{store: st}
	fail := func(err error) (*controlPlane, error) { cp.Close(); return nil, err }
	if err := st.EnsureRegistry(ctx, c.ECR.RegistryID); err != nil {
		return fail(fmt.Errorf("metadata: %w", err))
	}
	if cp.meta, err = registry.NewMeta(st, drv, log); err != nil {
		return fail(err)
	}
	keys, err := token.LoadOrCreate(c.ECR.TokenKeys)
	if err != nil {
		return fail(fmt.Errorf("ecr.token_keys: %w", err))
	}
	cp.tokens = &token.Issuer{Keys: keys, TTL: c.ECR.TTL(), Issuer: "berth"}
	cp.keys = &auth.KeyLookup{Store: st, Keyring: kr}
	cp.keyring = kr
	lastUsed := &iam.LastUsed{Store: st, Region: c.ECR.Region, Log: log}
	cp.iam = &iam.Service{Store: st, Keyring: kr, LastUsed: lastUsed}
	if err := bootstrapAdmin(ctx, c, cp.iam, out); err != nil {
		return fail(err)
	}
	if err := cp.ApplyFile(ctx, c.IAM.File, log); err != nil {
		return fail(err)
	}
	if c.Audit.File != "off" {
		if c.Audit.File != "-" && c.Audit.File != "stdout" {
			if err := os.MkdirAll(filepath.Dir(c.Audit.File), 0o700); err != nil {
				return fail(fmt.Errorf("audit.file: %w", err))
			}
		}
		if cp.audit, err = audit.Open(c.Audit.File); err != nil {
			return fail(fmt.Errorf("audit.file: %w", err))
		}
	}
	cp.authz = &iam.Authorizer{Store: st, Region: c.ECR.Region, Enforce: c.IAM.Authorization != "off",
		Refresh: c.IAM.RefreshInterval(), Log: log, LastUsed: lastUsed}
	if cp.audit != nil {
		cp.authz.Audit = cp.audit
	}
	if !cp.authz.Enforce {
		log.Warn("iam.authorization is off: policies are not evaluated; every principal may do anything in its own account")
	}
	oidcClient, err := oidc.NewClient(c.IAM.OIDCCAFile)
	if err != nil {
		return fail(fmt.Errorf("iam.oidc_ca_file: %w", err))
	}
	cp.oidc = &oidc.Verifier{Client: oidcClient}
	cp.blobURLs = &registry.BlobURLSigner{Key: derive(secret, "blob-url")}
	cp.gate = registry.GateOptions{
		Store:       st,
		Credentials: &iam.RegistryLogin{Tokens: cp.tokens, Keys: cp.keys, Store: st},
		Authorizer:  iam.RegistryAuthorizer{Authz: cp.authz, Region: c.ECR.Region},
		BlobURLs:    cp.blobURLs, RegistryID: c.ECR.RegistryID, Region: c.ECR.Region, PublicHost: c.ECR.PublicHost,
	}
	roles := &iam.Roles{Service: cp.iam, Authz: cp.authz, OIDC: cp.oidc}
	if cp.ptc, cp.gate.PullThrough, err = pullThrough(c, st, kr, roles, log); err != nil {
		return fail(fmt.Errorf("pull_through: %w", err))
	}
	return cp, nil
}

// ApplyFile applies the declarative identity file at path ("" = none).
func (cp *controlPlane) ApplyFile(ctx context.Context, path string, log *slog.Logger) error {
	if path == "" {
		return nil
	}
	f, err := iam.LoadFile(path)
	if err != nil {
		return fmt.Errorf("iam.file: %w", err)
	}
	res, err := cp.iam.Apply(ctx, f)
	if err != nil {
		return fmt.Errorf("iam.file %s: %w", path, err)
	}
	log.Info("identity file applied", "file", path, "created", res.Created, "updated", res.Updated)
	return nil
}

// stsGlobalRegion is the region requests to STS's global endpoint
// (sts.amazonaws.com) are signed for.
const stsGlobalRegion = "us-east-1"

// api builds the ECR JSON API over srv's /v2 handler and storage, and STS
// beside it on POST /.
func (cp *controlPlane) api(c *config.Config, srv *registry.Server, secret string, log *slog.Logger) http.Handler {
	// Download URLs point at berth itself, with the scheme it serves.
	backend := srv.ECRBackend(cp.blobURLs, c.HTTP.Scheme()+"://"+c.ECR.PublicHost)
	// A request signed for another region is refused, as AWS's regional
	// endpoints do. STS also takes us-east-1, the scope of STS's global
	// endpoint, which berth's stands in for as well.
	ecrVerifier := &sigv4.Verifier{Lookup: cp.keys.Lookup, Regions: []string{c.ECR.Region}}
	stsVerifier := &sigv4.Verifier{Lookup: cp.keys.Lookup, Regions: slices.Compact([]string{c.ECR.Region, stsGlobalRegion})}
	ecr := ecrapi.New(ecrapi.Deps{
		Store:       cp.store,
		Registry:    backend,
		Authn:       &auth.APIAuthenticator{Verifier: ecrVerifier, Service: "ecr"},
		Authz:       iam.APIAuthorizer{Authz: cp.authz},
		Tokens:      cp.tokens,
		PullThrough: cp.ptc,
		RegistryID:  c.ECR.RegistryID,
		Region:      c.ECR.Region,
		Host:        c.ECR.PublicHost,
		PageKey:     derive(secret, "next-token"),
		Log:         log,
	})
	stsh := &sts.Handler{
		Authn: &auth.APIAuthenticator{Verifier: stsVerifier, Service: "sts"},
		Roles: &iam.Roles{Service: cp.iam, Authz: cp.authz, OIDC: cp.oidc},
		Log:   log,
	}
	// IAM is global: its requests are signed for us-east-1, as STS's
	// global endpoint's are.
	iamh := &iamapi.Handler{Authn: &auth.APIAuthenticator{Verifier: stsVerifier, Service: "iam"}, Svc: cp.iam, Authz: cp.authz, Log: log}
	smh := &secretsmanager.Handler{Store: cp.store, Keyring: cp.keyring, Region: c.ECR.Region, Log: log,
		Authn: &auth.APIAuthenticator{Verifier: ecrVerifier, Service: "secretsmanager"},
		Authz: iam.APIAuthorizer{Authz: cp.authz}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if iamapi.Handles(r) {
			iamh.ServeHTTP(w, r)
			return
		}
		if sts.Handles(r) {
			stsh.ServeHTTP(w, r)
			return
		}
		if secretsmanager.Handles(r) {
			smh.ServeHTTP(w, r)
			return
		}
		ecr.ServeHTTP(w, r)
	})
}

// Close flushes pull times and closes the audit log and the store.
func (cp *controlPlane) Close() {
	if cp.meta != nil {
		cp.meta.Close()
	}
	if cp.audit != nil {
		_ = cp.audit.Close()
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

// bootstrapAdmin makes the registry's account, its admin user
// (AdministratorAccess) and the user's first access key, and shows the
// secret once: on standard error, or in the configured file (0600).
func bootstrapAdmin(ctx context.Context, c *config.Config, svc *iam.Service, out io.Writer) error {
	id, secret, created, err := svc.EnsureBootstrapAdmin(ctx, c.ECR.RegistryID)
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
