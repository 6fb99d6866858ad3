package ecrapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/berth-registry/berth/ecrmodel"
)

// Registry-wide operations: DescribeRegistry, replication and scanning
// configuration, account settings and GetAuthorizationToken. The
// configurations are registry settings in the store, as JSON.

func (a *API) registerRegistryOps() {
	a.add(op("DescribeRegistry", onOwnRegistry, a.describeRegistry))
	a.add(op("PutReplicationConfiguration", onOwnRegistry, a.putReplicationConfiguration))
	a.add(op("GetRegistryScanningConfiguration", onOwnRegistry, a.getRegistryScanningConfiguration))
	a.add(op("PutRegistryScanningConfiguration", onOwnRegistry, a.putRegistryScanningConfiguration))
	a.add(opTargets("GetAccountSetting", onOwnRegistry, accountSettingTargets, a.getAccountSetting))
	a.add(opTargets("PutAccountSetting", onOwnRegistry, accountSettingTargets, a.putAccountSetting))
	a.add(op("GetAuthorizationToken", onOwnRegistry, a.getAuthorizationToken))
}

// Setting names of the registry configurations kept as JSON.
const (
	settingReplication = "ecr.replicationConfiguration"
	settingScanning    = "ecr.registryScanningConfiguration"
)

// getJSONSetting decodes setting name of reg into v; ok=false when unset.
func (a *API) getJSONSetting(ctx context.Context, reg, name string, v any) (bool, error) {
	s, ok, err := a.d.Store.GetSetting(ctx, reg, name)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return false, fmt.Errorf("setting %s of registry %s: %w", name, reg, err)
	}
	return true, nil
}

func (a *API) putJSONSetting(ctx context.Context, reg, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := a.d.Store.EnsureRegistry(ctx, reg); err != nil {
		return err
	}
	return a.d.Store.PutSetting(ctx, reg, name, string(b))
}

// Replication configuration.

type replicationConfig struct {
	Rules []replicationRule `json:"rules"`
}

type replicationRule struct {
	Destinations      []replicationDestination `json:"destinations"`
	RepositoryFilters []replicationFilter      `json:"repositoryFilters,omitempty"`
}

type replicationDestination struct {
	Region     *string `json:"region"`
	RegistryID *string `json:"registryId"`
}

type replicationFilter struct {
	Filter     *string `json:"filter"`
	FilterType *string `json:"filterType"`
}

var (
	regionRE            = regexp.MustCompile(`^[0-9a-z-]{2,25}$`)
	replicationFilterRE = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$`)
)

// check validates a ReplicationConfiguration against the model.
func (c *replicationConfig) check() error {
	const field = "replicationConfiguration.rules"
	if c.Rules == nil {
		return missingParam(field)
	}
	if len(c.Rules) > 10 {
		return invalidParam(field, "must have length less than or equal to 10")
	}
	for i, r := range c.Rules {
		at := field + "." + itoa(i+1) + ".member."
		if r.Destinations == nil {
			return missingParam(at + "destinations")
		}
		if len(r.Destinations) > 100 {
			return invalidParam(at+"destinations", "must have length less than or equal to 100")
		}
		for j, d := range r.Destinations {
			dat := at + "destinations." + itoa(j+1) + ".member."
			switch {
			case d.Region == nil:
				return missingParam(dat + "region")
			case !regionRE.MatchString(*d.Region):
				return invalidParam(dat+"region", "must satisfy regular expression '[0-9a-z-]{2,25}'")
			case d.RegistryID == nil:
				return missingParam(dat + "registryId")
			case !ecrmodel.RegistryIDRE.MatchString(*d.RegistryID):
				return invalidParam(dat+"registryId", "must satisfy regular expression '[0-9]{12}'")
			}
		}
		if r.RepositoryFilters == nil {
			continue
		}
		if n := len(r.RepositoryFilters); n < 1 || n > 100 {
			return invalidParam(at+"repositoryFilters", "must have length between 1 and 100")
		}
		for j, f := range r.RepositoryFilters {
			fat := at + "repositoryFilters." + itoa(j+1) + ".member."
			switch {
			case f.Filter == nil:
				return missingParam(fat + "filter")
			case len(*f.Filter) < 2 || len(*f.Filter) > 256 || !replicationFilterRE.MatchString(*f.Filter):
				return invalidParam(fat+"filter", "must satisfy regular expression '^(?:[a-z0-9]+(?:[._-][a-z0-9]*)*/)*[a-z0-9]*(?:[._-][a-z0-9]*)*$'")
			case f.FilterType == nil:
				return missingParam(fat + "filterType")
			case *f.FilterType != "PREFIX_MATCH":
				return invalidParam(fat+"filterType", "Member must satisfy enum value set: [PREFIX_MATCH]")
			}
		}
	}
	return nil
}

func (a *API) replication(ctx context.Context, reg string) (replicationConfig, error) {
	c := replicationConfig{Rules: []replicationRule{}}
	_, err := a.getJSONSetting(ctx, reg, settingReplication, &c)
	return c, err
}

func (a *API) describeRegistry(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	c, err := a.replication(ctx, req.RegistryID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": req.RegistryID, "replicationConfiguration": c}, nil
}

type replicationIn struct {
	scopeIn
	ReplicationConfiguration *replicationConfig `json:"replicationConfiguration"`
}

// putReplicationConfiguration records the configuration, which
// DescribeRegistry reports.
func (a *API) putReplicationConfiguration(ctx context.Context, req *Request, in *replicationIn) (any, error) {
	c := in.ReplicationConfiguration
	if c == nil {
		return nil, missingParam("replicationConfiguration")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	if err := a.putJSONSetting(ctx, req.RegistryID, settingReplication, c); err != nil {
		return nil, err
	}
	return map[string]any{"replicationConfiguration": c}, nil
}

// Registry scanning configuration.

type registryScanningConfig struct {
	ScanType string             `json:"scanType"`
	Rules    []registryScanRule `json:"rules"`
}

type registryScanRule struct {
	ScanFrequency     string          `json:"scanFrequency"`
	RepositoryFilters []scanFilterOut `json:"repositoryFilters"`
}

// scanFilterOut is a ScanningRepositoryFilter.
type scanFilterOut struct {
	Filter     string `json:"filter"`
	FilterType string `json:"filterType"`
}

var scanFilterRE = regexp.MustCompile(`^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$`)

// registryScanning returns reg's scanning configuration (BASIC without
// rules when none was put).
func (a *API) registryScanning(ctx context.Context, reg string) (registryScanningConfig, error) {
	c := registryScanningConfig{ScanType: "BASIC", Rules: []registryScanRule{}}
	_, err := a.getJSONSetting(ctx, reg, settingScanning, &c)
	return c, err
}

// applied returns the scan frequency and the matching filters of the rule
// that applies to repo ("" when none): continuous scanning wins over scan
// on push.
func (c registryScanningConfig) applied(repo string) (string, []scanFilterOut) {
	freq, filters := "", []scanFilterOut{}
	for _, r := range c.Rules {
		var matched []scanFilterOut
		for _, f := range r.RepositoryFilters {
			if ecrmodel.Wildcard(f.Filter, repo) {
				matched = append(matched, f)
			}
		}
		if len(matched) > 0 && (freq == "" || r.ScanFrequency == "CONTINUOUS_SCAN") {
			freq, filters = r.ScanFrequency, matched
		}
	}
	return freq, filters
}

func (a *API) getRegistryScanningConfiguration(ctx context.Context, req *Request, _ *emptyIn) (any, error) {
	c, err := a.registryScanning(ctx, req.RegistryID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"registryId": req.RegistryID, "scanningConfiguration": c}, nil
}

type scanRuleIn struct {
	ScanFrequency     *string `json:"scanFrequency"`
	RepositoryFilters []struct {
		Filter     *string `json:"filter"`
		FilterType *string `json:"filterType"`
	} `json:"repositoryFilters"`
}

type registryScanningIn struct {
	scopeIn
	ScanType *string      `json:"scanType"`
	Rules    []scanRuleIn `json:"rules"`
}

func (a *API) putRegistryScanningConfiguration(ctx context.Context, req *Request, in *registryScanningIn) (any, error) {
	c := registryScanningConfig{ScanType: "BASIC", Rules: []registryScanRule{}}
	if in.ScanType != nil {
		c.ScanType = *in.ScanType
	}
	if c.ScanType != "BASIC" && c.ScanType != "ENHANCED" {
		return nil, invalidParam("scanType", "Member must satisfy enum value set: [BASIC, ENHANCED]")
	}
	if len(in.Rules) > 2 {
		return nil, invalidParam("rules", "must have length less than or equal to 2")
	}
	for i, r := range in.Rules {
		at := "rules." + itoa(i+1) + ".member."
		if r.ScanFrequency == nil {
			return nil, missingParam(at + "scanFrequency")
		}
		switch f := *r.ScanFrequency; {
		case f != "SCAN_ON_PUSH" && f != "CONTINUOUS_SCAN" && f != "MANUAL":
			return nil, invalidParam(at+"scanFrequency", "Member must satisfy enum value set: [SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]")
		case c.ScanType == "BASIC" && f == "CONTINUOUS_SCAN":
			return nil, invalidParam(at+"scanFrequency", "CONTINUOUS_SCAN is not supported for the BASIC scan type")
		}
		if r.RepositoryFilters == nil {
			return nil, missingParam(at + "repositoryFilters")
		}
		if len(r.RepositoryFilters) > 100 {
			return nil, invalidParam(at+"repositoryFilters", "must have length less than or equal to 100")
		}
		rule := registryScanRule{ScanFrequency: *r.ScanFrequency, RepositoryFilters: []scanFilterOut{}}
		for j, f := range r.RepositoryFilters {
			fat := at + "repositoryFilters." + itoa(j+1) + ".member."
			switch {
			case f.Filter == nil:
				return nil, missingParam(fat + "filter")
			case len(*f.Filter) > 255 || !scanFilterRE.MatchString(*f.Filter):
				return nil, invalidParam(fat+"filter", "must satisfy regular expression '^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$'")
			case f.FilterType == nil:
				return nil, missingParam(fat + "filterType")
			case *f.FilterType != "WILDCARD":
				return nil, invalidParam(fat+"filterType", "Member must satisfy enum value set: [WILDCARD]")
			}
			rule.RepositoryFilters = append(rule.RepositoryFilters, scanFilterOut{Filter: *f.Filter, FilterType: "WILDCARD"})
		}
		c.Rules = append(c.Rules, rule)
	}
	if err := a.putJSONSetting(ctx, req.RegistryID, settingScanning, c); err != nil {
		return nil, err
	}
	return map[string]any{"registryScanningConfiguration": c}, nil
}

// Account settings.

func checkSettingName(name *string) error {
	if name == nil {
		return missingParam("name")
	}
	if ecrmodel.AccountSettingValues(*name) == nil {
		return invalidParam("name", "Member must satisfy enum value set: [BASIC_SCAN_TYPE_VERSION, REGISTRY_POLICY_SCOPE, BLOB_MOUNTING]")
	}
	return nil
}

type accountSettingOut struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// accountSettingIn is the input of Get and PutAccountSetting (Get has no
// value).
type accountSettingIn struct {
	scopeIn
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

func (a *API) getAccountSetting(ctx context.Context, req *Request, in *accountSettingIn) (any, error) {
	if err := checkSettingName(in.Name); err != nil {
		return nil, err
	}
	v, err := ecrmodel.AccountSetting(ctx, a.d.Store, req.RegistryID, *in.Name)
	if err != nil {
		return nil, err
	}
	return accountSettingOut{Name: *in.Name, Value: v}, nil
}

func (a *API) putAccountSetting(ctx context.Context, req *Request, in *accountSettingIn) (any, error) {
	if err := checkSettingName(in.Name); err != nil {
		return nil, err
	}
	if in.Value == nil {
		return nil, missingParam("value")
	}
	vals := ecrmodel.AccountSettingValues(*in.Name)
	ok := false
	for _, v := range vals {
		ok = ok || v == *in.Value
	}
	if !ok {
		return nil, invalidParam("value", "Member must satisfy enum value set: ["+strings.Join(vals, ", ")+"]")
	}
	reg := req.RegistryID
	if err := a.d.Store.EnsureRegistry(ctx, reg); err != nil {
		return nil, err
	}
	if err := a.d.Store.PutSetting(ctx, reg, ecrmodel.AccountSettingKey(*in.Name), *in.Value); err != nil {
		return nil, err
	}
	return accountSettingOut{Name: *in.Name, Value: *in.Value}, nil
}

// GetAuthorizationToken.

type authorizationDataOut struct {
	AuthorizationToken string `json:"authorizationToken"`
	ExpiresAt          *epoch `json:"expiresAt"`
	ProxyEndpoint      string `json:"proxyEndpoint"`
}

type authorizationTokenIn struct {
	scopeIn
	RegistryIDs []string `json:"registryIds"`
}

// getAuthorizationToken issues one login token for the caller. The token's
// scope is the caller's, whatever registryIds says (deprecated); like ECR
// it answers one entry per requested registry id, one when none (the ECS
// agent requires exactly one for its one id). proxyEndpoint is
// https://Host, the prefix of every image reference clients use.
func (a *API) getAuthorizationToken(ctx context.Context, req *Request, in *authorizationTokenIn) (any, error) {
	if in.RegistryIDs != nil {
		if n := len(in.RegistryIDs); n < 1 || n > 10 {
			return nil, invalidParam("registryIds", "must have length between 1 and 10")
		}
		for _, id := range in.RegistryIDs {
			if !ecrmodel.RegistryIDRE.MatchString(id) {
				return nil, invalidParam("registryIds", "must satisfy regular expression '[0-9]{12}'")
			}
		}
	}
	if a.d.Tokens == nil {
		return nil, fmt.Errorf("no token issuer configured")
	}
	password, expires, err := a.d.Tokens.Issue(ctx, req.Principal)
	if err != nil {
		return nil, err
	}
	if strings.Contains(password, ":") {
		// The AWS CLI splits the decoded token on every ':'.
		return nil, fmt.Errorf("login password contains ':'")
	}
	ids := in.RegistryIDs
	if len(ids) == 0 {
		ids = []string{req.RegistryID}
	}
	// One token serves every registry the principal may reach; each entry
	// names the host of the registry asked for.
	out := make([]authorizationDataOut, len(ids))
	for i, id := range ids {
		out[i] = authorizationDataOut{
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
			ExpiresAt:          ts(expires),
			ProxyEndpoint:      "https://" + a.RegistryHost(id),
		}
	}
	return map[string]any{"authorizationData": out}, nil
}
