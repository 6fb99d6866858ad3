package sts

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
)

// GetSessionToken's DurationSeconds range (IAM users).
const (
	minSessionToken = 900
	maxSessionToken = 129600
)

func (c *call) getSessionToken(form url.Values) (any, *Error) {
	ds := param(form, "DurationSeconds")
	dur, e := parseDuration(ds)
	if e != nil {
		return nil, e
	}
	var v violations
	if ds != nil {
		shown := fmt.Sprint(dur)
		if dur < minSessionToken {
			v.add(&shown, "durationSeconds", fmt.Sprintf("have value greater than or equal to %d", minSessionToken))
		}
		if dur > maxSessionToken {
			v.add(&shown, "durationSeconds", fmt.Sprintf("have value less than or equal to %d", maxSessionToken))
		}
	}
	serial, code := param(form, "SerialNumber"), param(form, "TokenCode")
	v.str(serial, "serialNumber", false, 9, 256, patSerial)
	v.str(code, "tokenCode", false, 6, 6, patTokenCode)
	if e := v.err(); e != nil {
		return nil, e
	}
	if serial != nil || code != nil {
		return nil, AccessDenied("MultiFactorAuthentication failed: berth has no MFA devices.")
	}
	if c.h.Roles == nil {
		return nil, c.internal("GetSessionToken", errors.New("sts: Handler has no Roles"))
	}
	out, err := c.h.Roles.GetSessionToken(c.r.Context(), c.principal, dur)
	if err != nil {
		if se := roleError(err); se != nil {
			return nil, se
		}
		return nil, c.internal("GetSessionToken", err)
	}
	var d sessionTokenResponse
	d.NS = Namespace
	cr := &d.Result.Credentials
	cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken = out.AccessKeyID, out.SecretAccessKey, out.SessionToken
	cr.Expiration = timestamp(out.Expiration)
	d.Metadata.RequestID = c.reqID
	return &d, nil
}

type sessionTokenResponse struct {
	XMLName xml.Name `xml:"GetSessionTokenResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
	} `xml:"GetSessionTokenResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}
