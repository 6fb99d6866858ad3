package iam

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/audit"
	"github.com/berth-registry/berth/auth"
	"github.com/berth-registry/berth/auth/policy"
	"github.com/berth-registry/berth/metadata"
)

// conditionContext is the request's condition keys: the global keys AWS
// sets for every request, the principal's tags, the resource's tags and
// the request's tags.
func (a *Authorizer) conditionContext(c Check, principalTags []metadata.ResourceTag, res *resourceEntry) policy.Context {
	ctx := policy.Context{}
	now := a.now().UTC()
	ctx.Set("aws:CurrentTime", now.Format(time.RFC3339))
	ctx.Set("aws:EpochTime", strconv.FormatInt(now.Unix(), 10))
	ctx.Set("aws:RequestedRegion", a.Region)
	p := c.Principal
	switch p.Kind() {
	case auth.TypeWebIdentity:
		ctx.Set("aws:FederatedProvider", p.ARN)
		ctx.Set("aws:PrincipalType", string(p.Kind()))
	case auth.TypeService:
		ctx.Set("aws:PrincipalServiceName", p.ARN)
	default:
		ctx.Set("aws:PrincipalArn", p.PrincipalARN())
		ctx.Set("aws:PrincipalAccount", p.Account)
		ctx.Set("aws:PrincipalType", string(p.Kind()))
		ctx.Set("aws:userid", p.UserID)
		if p.Username != "" {
			ctx.Set("aws:username", p.Username)
		}
		for _, t := range principalTags {
			ctx.Set("aws:PrincipalTag/"+t.Key, t.Value)
		}
		if len(principalTags) > 0 {
			keys := make([]string, len(principalTags))
			for i, t := range principalTags {
				keys[i] = t.Key
			}
			ctx.Set("aws:PrincipalTagKeys", keys...)
		}
	}
	if c.Registry != "" {
		ctx.Set("aws:ResourceAccount", c.Registry)
	}
	if r := c.HTTP; r != nil {
		ctx.Set("aws:SecureTransport", strconv.FormatBool(r.TLS != nil))
		if ip := sourceIP(r); ip != "" {
			ctx.Set("aws:SourceIp", ip)
		}
		if ua := r.UserAgent(); ua != "" {
			ctx.Set("aws:UserAgent", ua)
		}
	}
	if res != nil {
		for _, t := range res.tags {
			ctx.Set("aws:ResourceTag/"+t.Key, t.Value)
			ctx.Set("ecr:ResourceTag/"+t.Key, t.Value)
		}
	}
	for _, t := range c.RequestTags {
		ctx.Set("aws:RequestTag/"+t.Key, t.Value)
	}
	keys := c.TagKeys
	if keys == nil && len(c.RequestTags) > 0 {
		for _, t := range c.RequestTags {
			keys = append(keys, t.Key)
		}
	}
	if len(keys) > 0 {
		ctx.Set("aws:TagKeys", keys...)
	}
	for k, v := range c.Keys {
		ctx.Set(k, v)
	}
	for k, vs := range c.KeyLists {
		if len(vs) > 0 {
			ctx.Set(k, vs...)
		}
	}
	return ctx
}

// sourceIP is aws:SourceIp: the peer address of the connection (berth
// trusts no forwarding header).
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return strings.Trim(host, "[]")
}

// Sink receives audit records (*audit.Log is one).
type Sink interface {
	Record(audit.Event)
}

// newRecord describes one decision for the audit log.
func newRecord(a *Authorizer, c Check, req policy.Request, d policy.Decision, err error) audit.Event {
	p := c.Principal
	e := audit.Event{
		EventTime:   a.now().UTC(),
		EventSource: c.Source,
		EventName:   c.Event,
		AWSRegion:   a.Region,
		RequestID:   c.RequestID,
		Action:      c.Action,
		UserIdentity: audit.Identity{
			Type: string(p.Kind()), PrincipalID: p.UserID, ARN: p.ARN, AccountID: p.Account,
			AccessKeyID: p.AccessKeyID, UserName: p.Username, SessionIssuer: p.RoleARN,
		},
		Resources: []audit.Resource{{ARN: c.Resource, AccountID: c.Registry}},
	}
	if c.Resource == "*" {
		e.Resources = nil
	}
	if c.HTTP != nil {
		e.SourceIPAddress, e.UserAgent = sourceIP(c.HTTP), c.HTTP.UserAgent()
	}
	switch {
	case err != nil:
		e.Decision, e.ErrorCode, e.ErrorMessage = "Deny", "InternalFailure", "the authorization inputs could not be read"
	case d.Allowed():
		e.Decision, e.DecidingPolicy, e.DecidingStatement = "Allow", d.Policy, statementRef(d)
	default:
		e.Decision, e.ErrorCode, e.ErrorMessage = "Deny", "AccessDenied", DenialMessage(c, d, req)
		e.DecidingPolicy, e.DecidingStatement = d.Policy, statementRef(d)
	}
	return e
}

// statementRef names a statement by Sid, else by its index.
func statementRef(d policy.Decision) string {
	switch {
	case d.Sid != "":
		return d.Sid
	case d.Index >= 0 && d.Policy != "":
		return "#" + strconv.Itoa(d.Index)
	}
	return ""
}
