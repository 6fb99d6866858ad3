// Package e2e holds berth's end-to-end tests: a real `berth serve` (built from
// ./cmd/berth) over TLS with its generated CA, on local disk and on MinIO,
// driven by the clients people use against it — crane, oras, regctl, skopeo,
// containerd's ctr and the Docker daemon — and by raw HTTP for bad input and
// storage outages. Every pulled byte is compared with what was pushed, and
// the canary test checks that no plaintext reaches disk or the bucket.
//
// The package has no non-test code: the tests are in package e2e_test.
//
// Tools: crane, oras, regctl and MinIO come from scripts/install-tools.sh
// ($BERTH_TOOLS/bin, default ~/.cache/berth/tools/bin); skopeo, containerd and
// ctr from Debian packages (the same script installs them). A missing tool
// fails the test. The Docker test needs a running daemon and is skipped when
// `docker info` fails. The tests run as root (containerd, /etc/docker/certs.d).
//
// Run:
//
//	go test ./tests/e2e/ -count=1 -v
package e2e
