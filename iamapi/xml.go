package iamapi

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/berth-registry/berth/metadata"
)

// Namespace is IAM's XML namespace.
const Namespace = "https://iam.amazonaws.com/doc/2010-05-08/"

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// doc is an answer: <ActionResponse><ActionResult>…</ActionResult>
// <ResponseMetadata/></ActionResponse>, the result omitted when nil.
type doc struct {
	action string
	result any
	reqID  string
}

func responseDoc(action string, result any, reqID string) doc { return doc{action, result, reqID} }

func (d doc) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	start := xml.StartElement{Name: xml.Name{Local: d.action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: Namespace}}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if d.result != nil {
		if err := e.EncodeElement(d.result, xml.StartElement{Name: xml.Name{Local: d.action + "Result"}}); err != nil {
			return err
		}
	}
	if err := e.EncodeElement(responseMetadata{d.reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	NS      string   `xml:"xmlns,attr"`
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

func errorDoc(e *Error, reqID string) any {
	var d errorResponse
	d.NS = Namespace
	d.Error.Type = "Sender"
	if e.status() >= 500 {
		d.Error.Type = "Receiver"
	}
	d.Error.Code, d.Error.Message, d.RequestID = e.Code, e.Message, reqID
	return &d
}

func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func sprintf(format string, a ...any) string {
	if len(a) == 0 {
		return format
	}
	return fmt.Sprintf(format, a...)
}

// timestamp is ISO 8601 in UTC, as IAM prints dates.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// encodeDoc URL-encodes a policy document as IAM answers it: botocore
// unquotes (%XX only) and Terraform QueryUnescapes ('+' is a space), so
// spaces are %20 and '+' is %2B, which both read back exactly.
func encodeDoc(d string) string { return strings.ReplaceAll(url.QueryEscape(d), "+", "%20") }

type tagXML struct{ Key, Value string }

type tagsXML struct {
	Member []tagXML `xml:"member"`
}

func tags(ts []metadata.ResourceTag) *tagsXML {
	if len(ts) == 0 {
		return nil
	}
	out := &tagsXML{}
	for _, t := range ts {
		out.Member = append(out.Member, tagXML{t.Key, t.Value})
	}
	return out
}

type roleXML struct {
	Path, RoleName, RoleId, Arn, CreateDate string
	AssumeRolePolicyDocument                string       `xml:",omitempty"`
	Description                             string       `xml:",omitempty"`
	MaxSessionDuration                      int          `xml:",omitempty"`
	PermissionsBoundary                     *boundaryXML `xml:",omitempty"`
	Tags                                    *tagsXML     `xml:",omitempty"`
	// RoleLastUsed is GetRole's alone (nil elsewhere, as IAM answers).
	RoleLastUsed *lastUsedXML `xml:",omitempty"`
}

// lastUsedXML is empty for a role never used.
type lastUsedXML struct {
	LastUsedDate string `xml:",omitempty"`
	Region       string `xml:",omitempty"`
}

func lastUsed(p metadata.Principal) *lastUsedXML {
	if p.LastUsed.IsZero() {
		return &lastUsedXML{}
	}
	return &lastUsedXML{timestamp(p.LastUsed), p.LastUsedRegion}
}

func role(p metadata.Principal) roleXML {
	return roleXML{Path: p.Path, RoleName: p.Name, RoleId: p.ID, Arn: p.ARN, CreateDate: timestamp(p.CreatedAt),
		AssumeRolePolicyDocument: encodeDoc(p.TrustPolicy), Description: p.Description, MaxSessionDuration: p.MaxSessionSeconds,
		PermissionsBoundary: boundaryOf(p.PermissionsBoundary), Tags: tags(p.Tags)}
}

type userXML struct {
	Path, UserName, UserId, Arn, CreateDate string
	PermissionsBoundary                     *boundaryXML `xml:",omitempty"`
	Tags                                    *tagsXML     `xml:",omitempty"`
}

func user(p metadata.Principal) userXML {
	return userXML{Path: p.Path, UserName: p.Name, UserId: p.ID, Arn: p.ARN, CreateDate: timestamp(p.CreatedAt),
		PermissionsBoundary: boundaryOf(p.PermissionsBoundary), Tags: tags(p.Tags)}
}

// members is a list of <member> elements.
type members[T any] struct {
	Member []T `xml:"member"`
}
