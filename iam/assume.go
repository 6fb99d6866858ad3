package iam

import "time"

// The AssumeRole service call, in the service's own types: the STS edge
// parses requests into them and words the answers and errors.

// SessionTag is a session tag (STS Tags.member.N).
type SessionTag struct{ Key, Value string }

// DefaultDuration is the session length when DurationSeconds is absent.
const DefaultDuration = 3600 * time.Second

// AssumeRoleInput is an AssumeRole request's parameters.
type AssumeRoleInput struct {
	RoleArn, RoleSessionName string
	// DurationSeconds is 0 when absent; Duration applies the default. The
	// difference matters to role chaining, where only an explicit value
	// above one hour fails.
	DurationSeconds int32
	ExternalId      string
	// Policy is the inline session policy, unparsed: a malformed document
	// is the Roles implementation's MalformedPolicyDocument.
	Policy                                  string
	SourceIdentity, SerialNumber, TokenCode string
	// PolicyArns are PolicyArns.member.N.arn, in order.
	PolicyArns []string
	// Tags are Tags.member.N.Key/Value, in order.
	Tags              []SessionTag
	TransitiveTagKeys []string
}

// Duration is the requested session length, DefaultDuration when absent.
func (in AssumeRoleInput) Duration() time.Duration {
	if in.DurationSeconds == 0 {
		return DefaultDuration
	}
	return time.Duration(in.DurationSeconds) * time.Second
}

// AssumeRoleOutput is what AssumeRole answers.
type AssumeRoleOutput struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	// AssumedRoleID is AROA…:session.
	AssumedRoleID string
	// AssumedRoleARN is arn:aws:sts::ACCT:assumed-role/ROLE/SESSION.
	AssumedRoleARN string
	// PackedPolicySize is omitted from the answer when 0.
	PackedPolicySize int
	// SourceIdentity is omitted from the answer when "".
	SourceIdentity string
}

// String hides the secret parts, should an output reach a log.
func (o AssumeRoleOutput) String() string {
	return "AssumeRoleOutput{AccessKeyID:" + o.AccessKeyID + " AssumedRoleARN:" + o.AssumedRoleARN +
		" Expiration:" + o.Expiration.UTC().Format(time.RFC3339) + "}"
}

// GoString hides them from %#v too.
func (o AssumeRoleOutput) GoString() string { return o.String() }
