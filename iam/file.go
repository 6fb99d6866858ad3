package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/berth-registry/berth/metadata"
)

// File is the declarative identity file: accounts with their users,
// roles and customer managed policies. Applying it creates what is
// missing and makes every listed user and role match it (trust, session
// length, tags, attached and inline policies); what it does not list is
// left alone. Access keys are never in it: secrets are made by `berth iam
// create-access-key` and shown once.
type File struct {
	Accounts []FileAccount `yaml:"accounts"`
}

// FileAccount is one account.
type FileAccount struct {
	ID              string       `yaml:"id"`
	Name            string       `yaml:"name"`
	Users           []FileUser   `yaml:"users"`
	Roles           []FileRole   `yaml:"roles"`
	ManagedPolicies []FilePolicy `yaml:"managed_policies"`
	// OIDCProviders are the issuers whose ID tokens
	// AssumeRoleWithWebIdentity accepts (GitHub Actions, GitLab, EKS).
	OIDCProviders []FileOIDCProvider `yaml:"oidc_providers"`
}

// FileOIDCProvider is an IAM OpenID Connect provider.
type FileOIDCProvider struct {
	URL       string   `yaml:"url"`
	ClientIDs []string `yaml:"client_ids"`
}

// FileUser is an IAM user.
type FileUser struct {
	Name string            `yaml:"name"`
	Path string            `yaml:"path"`
	Tags map[string]string `yaml:"tags"`
	// Policies are attached managed policies: AWS managed names
	// (AmazonEC2ContainerRegistryPowerUser) or ARNs.
	Policies []string `yaml:"policies"`
	// Inline maps policy names to documents (JSON text or YAML).
	Inline map[string]Document `yaml:"inline"`
	// PermissionsBoundary is the managed policy (AWS managed name or ARN)
	// that caps the user's permissions; none when empty.
	PermissionsBoundary string `yaml:"permissions_boundary"`
}

// FileRole is an IAM role.
type FileRole struct {
	Name string            `yaml:"name"`
	Path string            `yaml:"path"`
	Tags map[string]string `yaml:"tags"`
	// Trust is the assume-role policy document.
	Trust Document `yaml:"trust"`
	// MaxSession is the longest session in seconds (3600 when 0).
	MaxSession int                 `yaml:"max_session"`
	Policies   []string            `yaml:"policies"`
	Inline     map[string]Document `yaml:"inline"`
	// PermissionsBoundary caps the role's sessions, as FileUser's.
	PermissionsBoundary string `yaml:"permissions_boundary"`
}

// FilePolicy is a customer managed policy.
type FilePolicy struct {
	Name        string   `yaml:"name"`
	Path        string   `yaml:"path"`
	Description string   `yaml:"description"`
	Document    Document `yaml:"document"`
}

// Document is a policy document, written in the file as JSON text or as
// YAML (which is turned into JSON).
type Document string

// UnmarshalYAML accepts a string or a mapping.
func (d *Document) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*d = Document(n.Value)
		return nil
	}
	plainScalars(n)
	var v any
	if err := n.Decode(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("line %d: policy document: %w", n.Line, err)
	}
	*d = Document(b)
	return nil
}

// plainScalars makes YAML's implicitly typed scalars that JSON would
// change strings again: an unquoted Version: 2012-10-17 is a timestamp to
// YAML, and must stay the text "2012-10-17".
func plainScalars(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!timestamp" {
		n.Tag = "!!str"
	}
	for _, c := range n.Content {
		plainScalars(c)
	}
}

// LoadFile reads and decodes a declarative file; unknown keys are errors.
func LoadFile(path string) (*File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFile(raw)
}

// ParseFile decodes a declarative file.
func ParseFile(raw []byte) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil && err != io.EOF {
		return nil, fmt.Errorf("iam file: %w", err)
	}
	return &f, nil
}

func tagList(m map[string]string) []metadata.ResourceTag {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]metadata.ResourceTag, len(keys))
	for i, k := range keys {
		out[i] = metadata.ResourceTag{Key: k, Value: m[k]}
	}
	return out
}
