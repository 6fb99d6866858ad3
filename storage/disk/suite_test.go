package disk_test

import (
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/distribution/distribution/v3/registry/storage/driver/testsuites"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
	"github.com/berth-registry/berth/storage/disk"
)

// TestDriverSuite runs distribution's shared storage driver suite against the
// encrypting driver on local disk.
func TestDriverSuite(t *testing.T) {
	root := t.TempDir()
	kr := crypt.NewMemoryKeyring()
	testsuites.Driver(t, func() (storagedriver.StorageDriver, error) {
		b, err := disk.New(disk.Config{Root: root})
		if err != nil {
			return nil, err
		}
		return storage.New(storage.Options{Backend: b, Keyring: kr})
	}, false)
}
