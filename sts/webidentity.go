package sts

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"

	"github.com/berth-registry/berth/auth/sigv4"
	"github.com/berth-registry/berth/iam"
)

// unsigned are the actions AWS answers without credentials (authtype
// none): the token in the request is the credential.
var unsigned = map[string]bool{"AssumeRoleWithWebIdentity": true}

// isMissingAuth reports whether a Precheck failure is only the absence of
// any signature, which an unsigned action does not need.
func isMissingAuth(err error) bool {
	var ve *sigv4.Error
	return errors.As(err, &ve) && ve.Kind == sigv4.Missing
}

type webIdentityParams struct {
	RoleArn, RoleSessionName, WebIdentityToken, ProviderId, Policy, DurationSeconds *string
	PolicyArns                                                                      []string
}

func readWebIdentity(form url.Values) webIdentityParams {
	p := webIdentityParams{
		RoleArn:          param(form, "RoleArn"),
		RoleSessionName:  param(form, "RoleSessionName"),
		WebIdentityToken: param(form, "WebIdentityToken"),
		ProviderId:       param(form, "ProviderId"),
		Policy:           param(form, "Policy"),
		DurationSeconds:  param(form, "DurationSeconds"),
	}
	for _, n := range listEntries(form, "PolicyArns.member.", ".arn") {
		p.PolicyArns = append(p.PolicyArns, form.Get(fmt.Sprintf("PolicyArns.member.%d.arn", n)))
	}
	return p
}

// tokenPattern is the model's clientTokenType: printable ASCII and the
// Latin-1 range, which every JWT is.
var patToken = re(`[\u0009\u000A\u000D\u0020-\u00FF]+`, `[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}]+`)

// validateWebIdentity applies the model's constraints in member order. The
// token is never echoed: it is a credential.
func validateWebIdentity(p webIdentityParams) (iam.WebIdentityInput, *Error) {
	dur, e := parseDuration(p.DurationSeconds)
	if e != nil {
		return iam.WebIdentityInput{}, e
	}
	var v violations
	v.str(p.RoleArn, "roleArn", true, 20, 2048, patARN)
	v.str(p.RoleSessionName, "roleSessionName", true, 2, 64, patSessionName)
	if p.WebIdentityToken == nil {
		v.add(nil, "webIdentityToken", "not be null")
	} else if n := len(*p.WebIdentityToken); n < 4 || n > 20000 || !patToken.match(*p.WebIdentityToken) {
		v = append(v, "Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and 20000")
	}
	v.str(p.ProviderId, "providerId", false, 4, 2048, patARN)
	if len(p.PolicyArns) > maxPolicyArns {
		v.addList("policyArns", fmt.Sprintf("have length less than or equal to %d", maxPolicyArns))
	}
	for i := range p.PolicyArns {
		v.str(&p.PolicyArns[i], fmt.Sprintf("policyArns.%d.member.arn", i+1), false, 20, 2048, patARN)
	}
	v.str(p.Policy, "policy", false, 1, 2048, patPolicy)
	if p.DurationSeconds != nil {
		shown := fmt.Sprint(dur)
		if dur < minDuration {
			v.add(&shown, "durationSeconds", fmt.Sprintf("have value greater than or equal to %d", minDuration))
		}
		if dur > maxDuration {
			v.add(&shown, "durationSeconds", fmt.Sprintf("have value less than or equal to %d", maxDuration))
		}
	}
	if e := v.err(); e != nil {
		return iam.WebIdentityInput{}, e
	}
	in := iam.WebIdentityInput{
		RoleArn: *p.RoleArn, RoleSessionName: *p.RoleSessionName, WebIdentityToken: *p.WebIdentityToken,
		ProviderId: deref(p.ProviderId), Policy: deref(p.Policy), PolicyArns: p.PolicyArns, DurationSeconds: dur,
	}
	if !looksLikeARN(in.RoleArn) {
		return iam.WebIdentityInput{}, &Error{Code: codeValidation, Message: in.RoleArn + " is invalid"}
	}
	return in, nil
}

func (c *call) assumeRoleWithWebIdentity(params webIdentityParams) (any, *Error) {
	in, e := validateWebIdentity(params)
	if e != nil {
		return nil, e
	}
	if c.h.Roles == nil {
		return nil, c.internal("AssumeRoleWithWebIdentity", errors.New("sts: Handler has no Roles"))
	}
	out, err := c.h.Roles.AssumeRoleWithWebIdentity(c.r.Context(), in, c.r)
	if err != nil {
		if se := roleError(err); se != nil {
			return nil, se
		}
		return nil, c.internal("AssumeRoleWithWebIdentity", err)
	}
	// The audit trail names the session's provider and subject.
	c.principal.ARN, c.principal.UserID = out.AssumedRoleARN, out.Subject
	return webIdentityDoc(out, c.reqID), nil
}

type webIdentityResponse struct {
	XMLName xml.Name `xml:"AssumeRoleWithWebIdentityResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		SubjectFromWebIdentityToken string
		Audience                    string
		AssumedRoleUser             struct {
			Arn           string
			AssumedRoleID string `xml:"AssumedRoleId"`
		}
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		PackedPolicySize int `xml:",omitempty"`
		Provider         string
		SourceIdentity   string `xml:",omitempty"`
	} `xml:"AssumeRoleWithWebIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

func webIdentityDoc(o iam.WebIdentityOutput, reqID string) any {
	var d webIdentityResponse
	d.NS = Namespace
	r := &d.Result
	r.SubjectFromWebIdentityToken, r.Audience, r.Provider = o.Subject, o.Audience, o.Provider
	r.AssumedRoleUser.Arn, r.AssumedRoleUser.AssumedRoleID = o.AssumedRoleARN, o.AssumedRoleID
	c := &r.Credentials
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = o.AccessKeyID, o.SecretAccessKey, o.SessionToken
	c.Expiration = timestamp(o.Expiration)
	r.PackedPolicySize = o.PackedPolicySize
	d.Metadata.RequestID = reqID
	return &d
}
