// Package storage is berth's one distribution storage driver ("berth"): it
// encrypts every object with the format of package crypt and keeps the
// ciphertext on a Backend (local disk, or S3-compatible storage through
// minio-go). Encryption lives inside the driver, not in a storage middleware,
// because distribution's upload purger talks to the raw driver.
package storage
