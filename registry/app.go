package registry

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/distribution/distribution/v3/registry/storage"
	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/factory"
)

// driverFactory hands distribution the driver berth built: the App only
// creates drivers by name, so the instance travels in the parameters.
type driverFactory struct{}

func (driverFactory) Create(_ context.Context, p map[string]any) (storagedriver.StorageDriver, error) {
	d, ok := p["instance"].(storagedriver.StorageDriver)
	if !ok {
		return nil, fmt.Errorf("berth storage driver: no driver instance in parameters")
	}
	return d, nil
}

var registerOnce sync.Once

// RegisterExtensions registers berth's extensions with distribution by name.
// distribution keeps registrations in process globals and panics on a
// duplicate, so main calls this once (tests may call it again: it is
// idempotent).
func RegisterExtensions() {
	registerOnce.Do(func() {
		factory.Register(driverName, driverFactory{})
		registerMeta()
	})
}

const driverName = "berth"

// AppOptions are what the embedded App needs from berth.
type AppOptions struct {
	Driver     storagedriver.StorageDriver
	HTTPSecret string
	// DeleteEnabled allows clients DELETE on /v2 (in-process calls of
	// the ECR API may always delete).
	DeleteEnabled bool
	PurgeAge      time.Duration
	// Meta makes the metadata store the truth of manifests and tags
	// (required).
	Meta *Meta
}

// distributionConfig builds the App's configuration in code. A struct built
// in Go gets none of configuration.Parse's defaults, so every one that
// matters is set here.
func distributionConfig(o AppOptions) *configuration.Configuration {
	cfg := &configuration.Configuration{
		Version: configuration.CurrentVersion,
		Storage: configuration.Storage{
			driverName: configuration.Parameters{"instance": o.Driver},
			// Always on inside: the ECR API deletes through the App (so its
			// descriptor cache forgets what it deletes); the gate refuses
			// DELETE from clients unless DeleteEnabled (ECR has none).
			"delete": configuration.Parameters{"enabled": true},
			// The bucket holds ciphertext: blobs are always served by berth.
			"redirect": configuration.Parameters{"disable": true},
			"maintenance": configuration.Parameters{
				"uploadpurging": map[any]any{"enabled": true, "age": o.PurgeAge.String(), "interval": "24h", "dryrun": false},
			},
		},
		Catalog: configuration.Catalog{MaxEntries: 1000},
		Tags:    configuration.Tags{MaxTags: 1000},
	}
	// No blob descriptor cache: the garbage collector deletes blobs
	// behind the App's back (and other nodes' deletes never reached it),
	// so a cached descriptor would promise a blob that is gone. Manifests
	// have berth's own digest-addressed cache, behind the store's say.
	cfg.Middleware = map[string][]configuration.Middleware{
		"repository": {{Name: metaName, Options: configuration.Parameters{"instance": o.Meta}}},
	}
	cfg.HTTP.Secret = o.HTTPSecret
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.Validation.Manifests.URLs.Allow = []string{foreignLayerURLs}
	return cfg
}

// foreignLayerURLs are the URLs foreign (non-distributable) layers may
// name: the registry accepts such manifests without having the blobs.
const foreignLayerURLs = "^https?://"

// namespaceOptions give berth's own namespace over the App's driver (the
// ECR API's in-process calls, deletes) the App's validation: manifests
// are checked alike whichever way they come.
func namespaceOptions() []storage.RegistryOption {
	return []storage.RegistryOption{
		storage.EnableDelete,
		storage.ManifestURLsAllowRegexp(regexp.MustCompile("(?:" + foreignLayerURLs + ")")),
		storage.EnableValidateImageIndexImagesExist,
	}
}

// newApp creates the App, turning its configuration panics into errors.
func newApp(ctx context.Context, o AppOptions) (app *handlers.App, err error) {
	if o.Meta == nil {
		return nil, fmt.Errorf("registry: no metadata store (AppOptions.Meta)")
	}
	RegisterExtensions()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("registry: %v", r)
		}
	}()
	return handlers.NewApp(ctx, distributionConfig(o)), nil
}
