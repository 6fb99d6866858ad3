package config

import (
	"os"
	"time"
)

// PullThrough configures the pull-through cache's upstream connections.
type PullThrough struct {
	// CAFile is a PEM file of CA certificates upstream registries are
	// also trusted by (besides the system trust store and SSL_CERT_FILE).
	CAFile string `yaml:"ca_file"`
	// TagRecheck is how long after its last check a cached tag is served
	// before it is compared with its upstream again (ECR: 24h).
	TagRecheck string `yaml:"tag_recheck_interval"`
	// ImportDelay is how long the background import of a freshly pulled
	// image leaves its blobs to the client's own GETs (which stream while
	// storing) before fetching the rest itself (2s when unset).
	ImportDelay string `yaml:"import_delay"`
	// WaitBound is how long a blob GET waits for another fetch of the
	// same blob (another puller, the background import, another node)
	// before it streams from the upstream without storing (1m when unset).
	WaitBound string `yaml:"wait_bound"`
	// StallTimeout ends an upstream fetch that sends nothing for so long
	// (1m when unset).
	StallTimeout string `yaml:"stall_timeout"`
}

// Wait is the parsed WaitBound (0: the importer's default).
func (p PullThrough) Wait() time.Duration { return validated(p.WaitBound) }

// Stall is the parsed StallTimeout (0: the importer's default).
func (p PullThrough) Stall() time.Duration { return validated(p.StallTimeout) }

// Delay is the parsed ImportDelay (0: the importer's default).
func (p PullThrough) Delay() time.Duration { return validated(p.ImportDelay) }

// Recheck is the parsed TagRecheck (24h when unset).
func (p PullThrough) Recheck() time.Duration {
	if p.TagRecheck == "" {
		return 24 * time.Hour
	}
	d, _ := parseDuration(p.TagRecheck)
	return d
}

func (p PullThrough) validate() error {
	for _, k := range []struct{ key, val string }{
		{"pull_through.tag_recheck_interval", p.TagRecheck},
		{"pull_through.import_delay", p.ImportDelay},
		{"pull_through.wait_bound", p.WaitBound},
		{"pull_through.stall_timeout", p.StallTimeout},
	} {
		if k.val == "" {
			continue
		}
		if d, err := parseDuration(k.val); err != nil || d <= 0 {
			return bad(k.key, "%q is not a positive duration", k.val)
		}
	}
	if p.CAFile != "" {
		if _, err := os.Stat(p.CAFile); err != nil {
			return bad("pull_through.ca_file", "%v", err)
		}
	}
	return nil
}
