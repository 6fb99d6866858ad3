package httpx

import (
	"crypto/x509"
	"fmt"
	"os"
)

// Roots is the system trust store (SSL_CERT_FILE works) plus, when caFile
// is not "", the PEM certificates in it: how every client berth makes to
// another server (S3, OIDC issuers, pull-through upstreams) trusts a
// private CA.
func Roots(caFile string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if caFile == "" {
		return pool, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no PEM certificate in %s", caFile)
	}
	return pool, nil
}
