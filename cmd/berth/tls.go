package main

import (
	"crypto/tls"
	"net"
)

func tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
}

func tlsListener(ln net.Listener, cfg *tls.Config, certFile, keyFile string) (net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		ln.Close()
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{cert}
	return tls.NewListener(ln, cfg), nil
}
