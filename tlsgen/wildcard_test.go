package tlsgen

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
)

// TestWildcardName: a wildcard name is covered, and adding one to the
// names of an existing certificate makes a new certificate (a data dir
// from before keeps working after an upgrade).
func TestWildcardName(t *testing.T) {
	p := InDir(t.TempDir())
	const host = "000000000000.dkr.ecr.us-east-1.example.com"
	if made, err := Ensure(p, []string{host}); err != nil || !made {
		t.Fatalf("first Ensure: %v %v", made, err)
	}
	if cert(t, p).VerifyHostname("123456789012.dkr.ecr.us-east-1.example.com") == nil {
		t.Fatal("a certificate without the wildcard covers another account")
	}
	names := []string{host, "*.dkr.ecr.us-east-1.example.com"}
	if made, err := Ensure(p, names); err != nil || !made {
		t.Fatalf("Ensure with the wildcard added: made %v, %v", made, err)
	}
	c := cert(t, p)
	for _, h := range []string{host, "123456789012.dkr.ecr.us-east-1.example.com", "localhost"} {
		if err := c.VerifyHostname(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if made, err := Ensure(p, names); err != nil || made {
		t.Fatalf("Ensure again: made %v, %v (the certificate covers the names)", made, err)
	}
}

func cert(t *testing.T, p Paths) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(p.Cert)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
