// Package bench measures berth against the reference registry (distribution
// v3.1.2) and raw MinIO on one machine: it starts the servers as child
// processes, logs in to each berth (bootstrap admin key, ROOT CREATE_ON_PUSH
// template, login token on every registry request), drives them with
// go-containerregistry, net/http, minio-go and the aws-sdk-go-v2 ECR client,
// and reports medians, ratios and goals. cmd/berth-bench is its driver
// (`make bench`).
package bench
