// Package storetest is the behavioural test suite every metadata.Store
// must pass: metadata's SQLite and PostgreSQL tests run it on real
// databases, so both engines are held to one contract.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/berth-registry/berth/ecrmodel"
	"github.com/berth-registry/berth/metadata"
)

// Open returns a new, empty store for one test, with opts; the factory
// closes it in t.Cleanup.
type Open func(t *testing.T, opts ...metadata.Option) metadata.Store

// Run runs the whole suite, each case on a store of its own.
func Run(t *testing.T, open Open) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s metadata.Store)
	}{
		{"Basics", testBasics},
		{"Repositories", testRepositories},
		{"RepositoryPagination", testRepositoryPagination},
		{"UpdateRepository", testUpdateRepository},
		{"DeleteRepository", testDeleteRepository},
		{"PutGetImage", testPutGetImage},
		{"Tags", testTags},
		{"Immutability", testImmutability},
		{"DeleteImage", testDeleteImage},
		{"ImageListings", testImageListings},
		{"Referrers", testReferrers},
		{"RecordPulls", testRecordPulls},
		{"Policies", testPolicies},
		{"LifecyclePreview", testLifecyclePreview},
		{"Templates", testTemplates},
		{"Settings", testSettings},
		{"AccessKeys", testAccessKeys},
		{"Accounts", testAccounts},
		{"Principals", testPrincipals},
		{"IdentityPolicies", testIdentityPolicies},
		{"PolicyVersions", testPolicyVersions},
		{"Sessions", testSessions},
		{"OIDCProviders", testOIDCProviders},
		{"RegistryCredentials", testRegistryCredentials},
		{"AuthzVersion", testAuthzVersion},
		{"ConcurrentImmutableTag", testConcurrentImmutableTag},
		{"ConcurrentWriters", testConcurrentWriters},
		{"PutManifest", testPutManifest},
		{"ListTags", testListTags},
		{"ExpireImage", testExpireImage},
		{"Leases", testLeases},
		{"LifecycleRuns", testLifecycleRuns},
		{"PullThroughRules", testPullThroughRules},
		{"Secrets", testSecrets},
	}
	// The store applies ECR's tag rule as berth wires it.
	rule := metadata.WithTagRule(ecrmodel.TagImmutable)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t, rule)) })
	}
	// The collector's cases need reviews due at once.
	for _, c := range []struct {
		name string
		fn   func(t *testing.T, s metadata.Store)
	}{
		{"Collection", testCollection},
		{"CollectionGuards", testCollectionGuards},
		{"CollectionClaims", testCollectionClaims},
		{"Uploads", testUploads},
	} {
		t.Run(c.name, func(t *testing.T) { c.fn(t, open(t, rule, metadata.WithReviewDelay(0))) })
	}
}

const (
	reg   = "123456789012"
	other = "210987654321"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// digest is a deterministic sha256 digest named by s.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// wantKind fails unless err is a *metadata.Error of kind k (and, when
// entity is not "", about entity).
func wantKind(t *testing.T, err error, k metadata.Kind, entity string) {
	t.Helper()
	var me *metadata.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v (%T), want *metadata.Error of kind %v", err, err, k)
	}
	if me.Kind != k || (entity != "" && me.Entity != entity) {
		t.Fatalf("err = %v (kind %v, entity %q), want kind %v entity %q", err, me.Kind, me.Entity, k, entity)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustRepo(t *testing.T, s metadata.Store, registryID, name string) metadata.Repository {
	t.Helper()
	r, err := s.CreateRepository(ctxFor(t), metadata.Repository{RegistryID: registryID, Name: name})
	must(t, err)
	return r
}

// putImage stores a simple manifest named by name in repo and returns it.
func putImage(t *testing.T, s metadata.Store, repo, name string, mod ...func(*metadata.Image)) metadata.Image {
	t.Helper()
	img := metadata.Image{
		RegistryID:   reg,
		Repository:   repo,
		Digest:       digest(name),
		MediaType:    "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/vnd.oci.image.config.v1+json",
		ManifestSize: 512,
		Size:         4096,
		Blobs:        []string{digest(name + "/config"), digest(name + "/layer")},
	}
	for _, m := range mod {
		m(&img)
	}
	if _, err := s.PutImage(ctxFor(t), img); err != nil {
		t.Fatalf("PutImage %s: %v", name, err)
	}
	return img
}

func tag(t *testing.T, s metadata.Store, repo, tag, dg string) {
	t.Helper()
	if _, err := s.TagImage(ctxFor(t), reg, repo, tag, dg); err != nil {
		t.Fatalf("TagImage %s: %v", tag, err)
	}
}

func sameTime(a, b time.Time) bool { return a.Equal(b) }

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func testBasics(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	if e := s.Engine(); e != "sqlite" && e != "postgres" {
		t.Fatalf("Engine = %q", e)
	}
	must(t, s.Ping(ctx))
	must(t, s.EnsureRegistry(ctx, reg))
	must(t, s.EnsureRegistry(ctx, reg)) // idempotent
}
