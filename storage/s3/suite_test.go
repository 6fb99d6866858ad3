package s3

import (
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/testsuites"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// TestDriverSuite runs distribution's shared storage driver suite against
// the encrypting driver on a real MinIO.
func TestDriverSuite(t *testing.T) {
	e := newEnv(t)
	cfg := e.config(t)
	kr := crypt.NewMemoryKeyring()
	testsuites.Driver(t, func() (storagedriver.StorageDriver, error) {
		b, err := New(t.Context(), cfg)
		if err != nil {
			return nil, err
		}
		return storage.New(storage.Options{Backend: b, Keyring: kr})
	}, false)
}
