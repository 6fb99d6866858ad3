package node

import (
	"log/slog"

	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/pullthrough"
)

// pullThrough builds the pull-through cache: the rules the ECR API
// manages and the importer the /v2 gate runs, over one upstream client
// (system trust store + pull_through.ca_file).
func pullThrough(c *config.Config, st metadata.Store, log *slog.Logger) (*pullthrough.Rules, *pullthrough.Importer, error) {
	hc, err := pullthrough.NewHTTPClient(c.PullThrough.CAFile)
	if err != nil {
		return nil, nil, err
	}
	ups := &pullthrough.Upstreams{HTTP: hc}
	rules := &pullthrough.Rules{Store: st, Region: c.ECR.Region, Upstreams: ups}
	im := &pullthrough.Importer{Rules: rules, Upstreams: ups, Checks: st, Leases: st, Recheck: c.PullThrough.Recheck(), Log: log}
	return rules, im, nil
}
