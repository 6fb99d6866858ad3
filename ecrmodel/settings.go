package ecrmodel

import (
	"context"
	"slices"
)

// accountSettings lists each account setting's allowed values, ECR's
// default first.
var accountSettings = map[string][]string{
	"BASIC_SCAN_TYPE_VERSION": {"AWS_NATIVE", "CLAIR"},
	"REGISTRY_POLICY_SCOPE":   {"V2", "V1"},
	"BLOB_MOUNTING":           {"DISABLED", "ENABLED"},
}

// AccountSettingNames are the account settings ECR knows, sorted.
func AccountSettingNames() []string {
	var out []string
	for n := range accountSettings {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// AccountSettingValues are the values setting name may take, the default
// first (nil for a setting ECR does not know).
func AccountSettingValues(name string) []string { return slices.Clone(accountSettings[name]) }

// AccountSettingKey is the store setting under which account setting
// name (e.g. BLOB_MOUNTING) is kept.
func AccountSettingKey(name string) string { return "account." + name }

// SettingReader reads a registry's stored settings.
type SettingReader interface {
	GetSetting(ctx context.Context, registryID, name string) (value string, ok bool, err error)
}

// AccountSetting is the value of account setting name of registry reg:
// the value put, else ECR's default (AWS_NATIVE, V2, DISABLED).
func AccountSetting(ctx context.Context, st SettingReader, reg, name string) (string, error) {
	v, ok, err := st.GetSetting(ctx, reg, AccountSettingKey(name))
	if err != nil {
		return "", err
	}
	if !ok {
		if vals := accountSettings[name]; len(vals) > 0 {
			v = vals[0]
		}
	}
	return v, nil
}
