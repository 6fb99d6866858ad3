// Package bench measures berth against the reference registry (distribution
// v3.1.2) and raw MinIO on one machine: it starts the servers as child
// processes, drives them with go-containerregistry, net/http and minio-go,
// and reports medians, ratios and goals. cmd/berth-bench is its driver
// (`make bench`).
package bench
