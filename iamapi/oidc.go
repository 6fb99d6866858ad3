package iamapi

import (
	"slices"

	"github.com/berth-registry/berth/iam"
	"github.com/berth-registry/berth/metadata"
)

func createOIDCProvider(c *call) (any, error) {
	u, err := c.need("Url")
	if err != nil {
		return nil, err
	}
	if err := c.authorize(iam.ProviderARN(c.p.Account, u)); err != nil {
		return nil, err
	}
	p, err := c.h.Svc.CreateOpenIDConnectProvider(c.ctx, c.p.Account, u, c.list("ClientIDList"), c.list("ThumbprintList"), c.tags())
	if err != nil {
		return nil, err
	}
	return struct {
		OpenIDConnectProviderArn string
		Tags                     *tagsXML `xml:",omitempty"`
	}{p.ARN, tags(p.Tags)}, nil
}

// provider authorizes the call on OpenIDConnectProviderArn and reads it.
func (c *call) provider() (metadata.OIDCProvider, error) {
	arn, err := c.need("OpenIDConnectProviderArn")
	if err != nil {
		return metadata.OIDCProvider{}, err
	}
	if err := c.authorize(arn); err != nil {
		return metadata.OIDCProvider{}, err
	}
	if acct, _, ok := iam.ParseARN(arn); !ok || acct != c.p.Account {
		return metadata.OIDCProvider{}, noSuch("OpenIDConnect Provider not found for arn %s", arn)
	}
	return c.h.Svc.OpenIDConnectProvider(c.ctx, arn)
}

func getOIDCProvider(c *call) (any, error) {
	p, err := c.provider()
	if err != nil {
		return nil, err
	}
	return struct {
		Url            string
		ClientIDList   members[string]
		ThumbprintList members[string]
		CreateDate     string
		Tags           *tagsXML `xml:",omitempty"`
	}{"https://" + p.URL, members[string]{p.ClientIDs}, members[string]{p.Thumbprints}, timestamp(p.CreatedAt), tags(p.Tags)}, nil
}

func listOIDCProviders(c *call) (any, error) {
	if err := c.authorize("*"); err != nil {
		return nil, err
	}
	ps, err := c.h.Svc.OpenIDConnectProviders(c.ctx, c.p.Account)
	if err != nil {
		return nil, err
	}
	type arnXML struct{ Arn string }
	var out members[arnXML]
	for _, p := range ps {
		out.Member = append(out.Member, arnXML{p.ARN})
	}
	return struct{ OpenIDConnectProviderList members[arnXML] }{out}, nil
}

func deleteOIDCProvider(c *call) (any, error) {
	p, err := c.provider()
	if err != nil {
		return nil, err
	}
	return nil, c.h.Svc.DeleteOpenIDConnectProvider(c.ctx, p.ARN)
}

// editClientIDs is AddClientIDToOpenIDConnectProvider (add) and
// RemoveClientIDFromOpenIDConnectProvider.
func editClientIDs(add bool) func(*call) (any, error) {
	return func(c *call) (any, error) {
		p, err := c.provider()
		if err != nil {
			return nil, err
		}
		id, err := c.need("ClientID")
		if err != nil {
			return nil, err
		}
		ids := slices.DeleteFunc(slices.Clone(p.ClientIDs), func(s string) bool { return s == id })
		if add {
			ids = append(ids, id)
		}
		_, err = c.h.Svc.UpdateOpenIDConnectProvider(c.ctx, p.ARN, append([]string{}, ids...), nil, nil)
		return nil, err
	}
}

func updateThumbprints(c *call) (any, error) {
	p, err := c.provider()
	if err != nil {
		return nil, err
	}
	_, err = c.h.Svc.UpdateOpenIDConnectProvider(c.ctx, p.ARN, nil, append([]string{}, c.list("ThumbprintList")...), nil)
	return nil, err
}
