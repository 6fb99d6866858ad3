// Package registry is berth's HTTP edge: it embeds distribution's App
// (handlers.NewApp, configured in code), mounts it under /v2/ on berth's own
// mux beside /healthz, /readyz and /metrics, and adds what distribution
// lacks at the edge (the referrers API, OCI-Subject, sha512 content).
package registry
