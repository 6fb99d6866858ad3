// Package sts answers the AWS Security Token Service API (version
// 2011-06-15, Query protocol) on berth's API endpoint, so that
// `aws sts get-caller-identity`, `aws sts assume-role` and profiles with
// role_arn/source_profile work against berth unchanged.
//
// Requests are form-encoded (POST body or GET query), signed with SigV4 for
// the signing name "sts", and answered in STS's XML with STS's error codes
// and messages. The package owns the wire: parsing, the API reference's
// parameter constraints, response and error documents. Whether a caller may
// assume a role, and the credentials it gets, are the Roles implementation's
// business.
//
// Operations: AssumeRole and GetCallerIdentity. Every other action
// (GetSessionToken, AssumeRoleWithWebIdentity, ...) is answered as AWS
// answers an action it does not know: InvalidAction.
package sts
