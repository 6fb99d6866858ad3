package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/config"
	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
	"github.com/berth-registry/berth/metrics"
	"github.com/berth-registry/berth/pullthrough"
	"github.com/berth-registry/berth/secretsmanager"
	"github.com/berth-registry/berth/storage/crypt"
)

// pullThrough builds the pull-through cache: the rules the ECR API
// manages and the importer the /v2 gate runs, over one upstream client
// (system trust store + pull_through.ca_file), with upstream credentials
// from the Secrets Manager secrets berth keeps (sealed by kr).
func pullThrough(c *config.Config, st metadata.Store, kr *crypt.Keyring, roles *iam.Roles, log *slog.Logger) (*pullthrough.Rules, *pullthrough.Importer, error) {
	hc, err := pullthrough.NewHTTPClient(c.PullThrough.CAFile)
	if err != nil {
		return nil, nil, err
	}
	open := secretsmanager.Credentials(st, kr)
	ups := &pullthrough.Upstreams{HTTP: hc, Credentials: func(ctx context.Context, account, arn string) (*pullthrough.Credentials, error) {
		_, err := st.GetSecret(ctx, account, arn)
		if metadata.Is(err, metadata.NotFound) {
			return nil, pullthrough.ErrSecretNotFound
		}
		user, pass, err := open(ctx, account, arn)
		if err != nil {
			log.Warn("pull-through: opening the upstream credentials", "secret", arn, "error", err)
			return nil, pullthrough.ErrSecretDecrypt
		}
		return &pullthrough.Credentials{Username: user, Password: pass}, nil
	}, Roles: ptcRoles{roles}}
	rules := &pullthrough.Rules{Store: st, Region: c.ECR.Region, Upstreams: ups, Secrets: secretCheck{st}, RoleCheck: pullthrough.StoreRoles{Store: st}}
	im := &pullthrough.Importer{Rules: rules, Upstreams: ups, Checks: st, Leases: st, Recheck: c.PullThrough.Recheck(),
		Grace: c.PullThrough.Delay(), WaitBound: c.PullThrough.Wait(), StallTimeout: c.PullThrough.Stall(), Log: log}
	return rules, im, nil
}

// secretCheck is a rule's credentialArn check: the secret exists.
type secretCheck struct{ st metadata.Store }

func (s secretCheck) CheckSecret(ctx context.Context, account, arn string) error {
	_, err := s.st.GetSecret(ctx, account, arn)
	if metadata.Is(err, metadata.NotFound) {
		return pullthrough.ErrSecretNotFound
	}
	return err
}

// ptcRoles assumes a rule's customRoleArn through berth's STS, in
// process, as the pull-through cache service of the rule's account: the
// role's trust policy decides, as for any AssumeRole, and the session is
// stored, audited and revocable like one.
type ptcRoles struct{ roles *iam.Roles }

func (p ptcRoles) AssumePullThroughRole(ctx context.Context, account, roleArn string) (pullthrough.SessionCredentials, error) {
	caller := auth.Principal{Type: auth.TypeService, ARN: pullthrough.ServicePrincipal, Account: account}
	out, err := p.roles.AssumeRole(ctx, caller, iam.AssumeRoleInput{RoleArn: roleArn, RoleSessionName: pullthrough.RoleSessionName}, nil)
	if err != nil {
		var ie *iam.Error
		if errors.As(err, &ie) && ie.Message != "" {
			return pullthrough.SessionCredentials{}, errors.New(ie.Message)
		}
		return pullthrough.SessionCredentials{}, err
	}
	return pullthrough.SessionCredentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey,
		SessionToken: out.SessionToken, Expires: out.Expiration}, nil
}

// ptcMetrics feeds the pull-through cache's collectors.
func ptcMetrics(im *pullthrough.Importer, m *metrics.Metrics) {
	if im == nil || m == nil || m.PullThrough == nil {
		return
	}
	p := m.PullThrough
	im.Count = func(what string, n int64) {
		switch what {
		case "hit":
			p.Hits.Add(float64(n))
		case "miss":
			p.Misses.Add(float64(n))
		case "bytes":
			p.BytesFetched.Add(float64(n))
		}
	}
	im.Upstreams.Observe = func(d time.Duration, err error) {
		p.UpstreamLatency.Observe(d.Seconds())
		if err != nil {
			p.UpstreamErrors.Inc()
		}
	}
}
