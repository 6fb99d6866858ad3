package sts

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"time"

	"github.com/berth-registry/berth/iam"
)

const (
	// Namespace is STS's XML namespace.
	Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	// faultNamespace is the one AWS's query front end uses for errors it
	// raises before reaching STS (InvalidAction).
	faultNamespace = "http://webservices.amazon.com/AWSFault/2005-15-09"
	// APIVersion is the only Version STS accepts.
	APIVersion = "2011-06-15"
)

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// assumeRoleResponse follows the element order AWS sends (AssumedRoleUser
// before Credentials); parsers do not care, people comparing do.
type assumeRoleResponse struct {
	XMLName xml.Name `xml:"AssumeRoleResponse"`
	NS      string   `xml:"xmlns,attr"`
	Result  struct {
		AssumedRoleUser struct {
			AssumedRoleID string `xml:"AssumedRoleId"`
			Arn           string
		}
		Credentials struct {
			AccessKeyID     string `xml:"AccessKeyId"`
			SecretAccessKey string
			SessionToken    string
			Expiration      string
		}
		PackedPolicySize int    `xml:",omitempty"`
		SourceIdentity   string `xml:",omitempty"`
	} `xml:"AssumeRoleResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	NS      string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// timestamp is ISO 8601 in UTC to the second, as STS prints Expiration.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func callerIdentityDoc(arn, userID, account, reqID string) any {
	var d getCallerIdentityResponse
	d.NS = Namespace
	d.Result.Arn, d.Result.UserID, d.Result.Account = arn, userID, account
	d.Metadata.RequestID = reqID
	return &d
}

func assumeRoleDoc(o iam.AssumeRoleOutput, reqID string) any {
	var d assumeRoleResponse
	d.NS = Namespace
	d.Result.AssumedRoleUser.AssumedRoleID = o.AssumedRoleID
	d.Result.AssumedRoleUser.Arn = o.AssumedRoleARN
	c := &d.Result.Credentials
	c.AccessKeyID, c.SecretAccessKey, c.SessionToken = o.AccessKeyID, o.SecretAccessKey, o.SessionToken
	c.Expiration = timestamp(o.Expiration)
	d.Result.PackedPolicySize = o.PackedPolicySize
	d.Result.SourceIdentity = o.SourceIdentity
	d.Metadata.RequestID = reqID
	return &d
}

func errorDoc(e *Error, reqID string) any {
	var d errorResponse
	d.NS = Namespace
	if e.Code == codeInvalidAction {
		d.NS = faultNamespace
	}
	d.Error.Type = "Sender"
	if e.HTTPStatus() >= 500 {
		d.Error.Type = "Receiver"
	}
	d.Error.Code, d.Error.Message = e.Code, e.Message
	d.RequestID = reqID
	return &d
}

// writeXML sends doc indented as AWS does. The documents are fixed structs
// of strings, so encoding cannot fail short of a bug; were it to, the
// client gets a bare 500 rather than half a document.
func writeXML(w http.ResponseWriter, status int, doc any) {
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
