package tlsgen

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureMakesReusesAndExtends(t *testing.T) {
	p := InDir(filepath.Join(t.TempDir(), "tls"))
	made, err := Ensure(p, []string{"registry.example.internal"})
	if err != nil || !made {
		t.Fatalf("first Ensure: %v %v", made, err)
	}
	for _, k := range []string{p.CAKey, p.Key} {
		if fi, err := os.Stat(k); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v %v", k, fi.Mode(), err)
		}
	}
	ca, _ := os.ReadFile(p.CACert)
	srv, _ := os.ReadFile(p.Cert)

	// Same names: nothing changes.
	if made, err := Ensure(p, []string{"registry.example.internal"}); err != nil || made {
		t.Fatalf("second Ensure rewrote: %v %v", made, err)
	}
	// A new name: a new server certificate from the same CA.
	if made, err := Ensure(p, []string{"registry.example.internal", "other.example"}); err != nil || !made {
		t.Fatalf("new host: %v %v", made, err)
	}
	ca2, _ := os.ReadFile(p.CACert)
	srv2, _ := os.ReadFile(p.Cert)
	if !bytes.Equal(ca, ca2) || bytes.Equal(srv, srv2) {
		t.Fatal("the CA must be kept and the server certificate remade")
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca2)
	pair, err := tls.LoadX509KeyPair(p.Cert, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "registry.example.internal", "other.example"} {
		opts := x509.VerifyOptions{Roots: pool, DNSName: name}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
