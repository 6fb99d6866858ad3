package sts

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/berth-registry/berth/iam"
)

const (
	arnPattern = `[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+`
	tagKeyPat  = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	tagValPat  = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
)

// assumeRoleForm is a valid AssumeRole form with edits applied: a value
// of "\x00" deletes the parameter.
func assumeRoleForm(edits map[string]string) string {
	v := url.Values{"Action": {"AssumeRole"}, "Version": {APIVersion}, "RoleArn": {roleARN}, "RoleSessionName": {"s1"}}
	for k, x := range edits {
		if x == "\x00" {
			v.Del(k)
		} else {
			v.Set(k, x)
		}
	}
	return v.Encode()
}

func one(value, field, constraint string) string {
	return "1 validation error detected: " + violation(value, field, constraint)
}

func violation(value, field, constraint string) string {
	if value != "null" && value != "" && value[0] != '\'' {
		value = "'" + value + "'"
	}
	if value == "" {
		return fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must %s", field, constraint)
	}
	return fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", value, field, constraint)
}

func many(vs ...string) string {
	return fmt.Sprintf("%d validation errors detected: %s", len(vs), strings.Join(vs, "; "))
}

func manyTags(n int, prefix string) map[string]string {
	m := map[string]string{}
	for i := 1; i <= n; i++ {
		m[fmt.Sprintf("%s.member.%d.Key", prefix, i)] = fmt.Sprintf("k%d", i)
		m[fmt.Sprintf("%s.member.%d.Value", prefix, i)] = "v"
	}
	return m
}

// TestAssumeRoleValidation checks each constraint of the API reference with
// AWS's message text (the role ARN cases are what AWS answered probes with).
func TestAssumeRoleValidation(t *testing.T) {
	x2049 := strings.Repeat("x", 2049)
	emoji2048 := strings.Repeat("😀", 2048)
	emoji2049 := strings.Repeat("😀", 2049)
	decomposed := strings.Repeat("e\u0301", 1025)
	policyArns11 := map[string]string{}
	for i := 1; i <= 11; i++ {
		policyArns11[fmt.Sprintf("PolicyArns.member.%d.arn", i)] = fmt.Sprintf("arn:aws:iam::123456789012:policy/p%d", i)
	}
	transitive51 := map[string]string{}
	for i := 1; i <= 51; i++ {
		transitive51[fmt.Sprintf("TransitiveTagKeys.member.%d", i)] = "k"
	}
	cases := []struct {
		name  string
		edits map[string]string
		code  string
		msg   string
	}{
		{"missing role arn", map[string]string{"RoleArn": "\x00"}, "ValidationError",
			one("null", "roleArn", "not be null")},
		{"missing both", map[string]string{"RoleArn": "\x00", "RoleSessionName": "\x00"}, "ValidationError",
			many(violation("null", "roleArn", "not be null"), violation("null", "roleSessionName", "not be null"))},
		{"empty role arn", map[string]string{"RoleArn": ""}, "ValidationError",
			many(violation("''", "roleArn", "satisfy regular expression pattern: "+arnPattern),
				violation("''", "roleArn", "have length greater than or equal to 20"))},
		{"short role arn", map[string]string{"RoleArn": "not-an-arn"}, "ValidationError",
			one("not-an-arn", "roleArn", "have length greater than or equal to 20")},
		{"long role arn", map[string]string{"RoleArn": x2049}, "ValidationError",
			one(x2049, "roleArn", "have length less than or equal to 2048")},
		{"not an arn", map[string]string{"RoleArn": strings.Repeat("x", 20)}, "ValidationError",
			strings.Repeat("x", 20) + " is invalid"},
		{"2048 BMP characters are in length", map[string]string{"RoleArn": strings.Repeat("é", 2048)}, "ValidationError",
			strings.Repeat("é", 2048) + " is invalid"},
		{"supplementary characters fail the pattern", map[string]string{"RoleArn": emoji2048}, "ValidationError",
			one(emoji2048, "roleArn", "satisfy regular expression pattern: "+arnPattern)},
		{"pattern before length", map[string]string{"RoleArn": emoji2049}, "ValidationError",
			many(violation(emoji2049, "roleArn", "satisfy regular expression pattern: "+arnPattern),
				violation(emoji2049, "roleArn", "have length less than or equal to 2048"))},
		{"length counts code points", map[string]string{"RoleArn": decomposed}, "ValidationError",
			one(decomposed, "roleArn", "have length less than or equal to 2048")},
		{"missing session name", map[string]string{"RoleSessionName": "\x00"}, "ValidationError",
			one("null", "roleSessionName", "not be null")},
		{"empty session name", map[string]string{"RoleSessionName": ""}, "ValidationError",
			one("''", "roleSessionName", "have length greater than or equal to 2")},
		{"short session name", map[string]string{"RoleSessionName": "a"}, "ValidationError",
			one("a", "roleSessionName", "have length greater than or equal to 2")},
		{"session name pattern", map[string]string{"RoleSessionName": "bad/name"}, "ValidationError",
			one("bad/name", "roleSessionName", `satisfy regular expression pattern: [\w+=,.@-]*`)},
		{"long session name", map[string]string{"RoleSessionName": strings.Repeat("a", 65)}, "ValidationError",
			one(strings.Repeat("a", 65), "roleSessionName", "have length less than or equal to 64")},
		{"empty duration", map[string]string{"DurationSeconds": ""}, "MalformedInput", "missing value for decimal type"},
		{"non-numeric duration", map[string]string{"DurationSeconds": "abc"}, "MalformedInput",
			"Unable to parse value 'abc' of DurationSeconds as an integer"},
		{"decimal duration", map[string]string{"DurationSeconds": "900.0"}, "MalformedInput",
			"Unable to parse value '900.0' of DurationSeconds as an integer"},
		{"int32 overflow", map[string]string{"DurationSeconds": "2147483648"}, "MalformedInput",
			"Unable to parse value '2147483648' of DurationSeconds as an integer"},
		{"negative duration", map[string]string{"DurationSeconds": "-1"}, "ValidationError",
			one("-1", "durationSeconds", "have value greater than or equal to 900")},
		{"short duration", map[string]string{"DurationSeconds": "899"}, "ValidationError",
			one("899", "durationSeconds", "have value greater than or equal to 900")},
		{"long duration", map[string]string{"DurationSeconds": "43201"}, "ValidationError",
			one("43201", "durationSeconds", "have value less than or equal to 43200")},
		{"int32 max duration", map[string]string{"DurationSeconds": "2147483647"}, "ValidationError",
			one("2147483647", "durationSeconds", "have value less than or equal to 43200")},
		{"int32 min duration", map[string]string{"DurationSeconds": "-2147483648"}, "ValidationError",
			one("-2147483648", "durationSeconds", "have value greater than or equal to 900")},
		{"short external id", map[string]string{"ExternalId": "a"}, "ValidationError",
			one("a", "externalId", "have length greater than or equal to 2")},
		{"external id pattern", map[string]string{"ExternalId": "has space"}, "ValidationError",
			one("has space", "externalId", `satisfy regular expression pattern: [\w+=,.@:\/-]*`)},
		{"long external id", map[string]string{"ExternalId": strings.Repeat("e", 1225)}, "ValidationError",
			one(strings.Repeat("e", 1225), "externalId", "have length less than or equal to 1224")},
		{"empty policy", map[string]string{"Policy": ""}, "ValidationError",
			many(violation("''", "policy", `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`),
				violation("''", "policy", "have length greater than or equal to 1"))},
		{"long policy", map[string]string{"Policy": strings.Repeat("p", 2049)}, "ValidationError",
			one(strings.Repeat("p", 2049), "policy", "have length less than or equal to 2048")},
		{"policy beyond latin-1", map[string]string{"Policy": "{\"Version\":\"Ā\"}"}, "ValidationError",
			one("{\"Version\":\"Ā\"}", "policy", `satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`)},
		{"eleven policy arns", policyArns11, "ValidationError",
			one("", "policyArns", "have length less than or equal to 10")},
		{"short policy arn", map[string]string{"PolicyArns.member.1.arn": "arn:aws:iam::1:p"}, "ValidationError",
			one("arn:aws:iam::1:p", "policyArns.1.member.arn", "have length greater than or equal to 20")},
		{"51 tags", manyTags(51, "Tags"), "ValidationError",
			one("", "tags", "have length less than or equal to 50")},
		{"empty tag key", map[string]string{"Tags.member.1.Key": "", "Tags.member.1.Value": "v"}, "ValidationError",
			many(violation("''", "tags.1.member.key", "satisfy regular expression pattern: "+tagKeyPat),
				violation("''", "tags.1.member.key", "have length greater than or equal to 1"))},
		{"long tag key", map[string]string{"Tags.member.1.Key": strings.Repeat("k", 129), "Tags.member.1.Value": "v"}, "ValidationError",
			one(strings.Repeat("k", 129), "tags.1.member.key", "have length less than or equal to 128")},
		{"long tag value", map[string]string{"Tags.member.1.Key": "k", "Tags.member.1.Value": strings.Repeat("v", 257)}, "ValidationError",
			one(strings.Repeat("v", 257), "tags.1.member.value", "have length less than or equal to 256")},
		{"tag value pattern", map[string]string{"Tags.member.1.Key": "k", "Tags.member.1.Value": "a*b"}, "ValidationError",
			one("a*b", "tags.1.member.value", "satisfy regular expression pattern: "+tagValPat)},
		{"tag without value", map[string]string{"Tags.member.1.Key": "k"}, "ValidationError",
			one("null", "tags.1.member.value", "not be null")},
		{"second tag counted by position", map[string]string{"Tags.member.1.Key": "a", "Tags.member.1.Value": "",
			"Tags.member.2.Key": "b!", "Tags.member.2.Value": "v"}, "ValidationError",
			one("b!", "tags.2.member.key", "satisfy regular expression pattern: "+tagKeyPat)},
		{"51 transitive keys", transitive51, "ValidationError",
			one("", "transitiveTagKeys", "have length less than or equal to 50")},
		{"transitive key pattern", map[string]string{"TransitiveTagKeys.member.1": "a*"}, "ValidationError",
			one("a*", "transitiveTagKeys.1.member", "satisfy regular expression pattern: "+tagKeyPat)},
		{"short source identity", map[string]string{"SourceIdentity": "a"}, "ValidationError",
			one("a", "sourceIdentity", "have length greater than or equal to 2")},
		{"source identity pattern", map[string]string{"SourceIdentity": "aws:me"}, "ValidationError",
			one("aws:me", "sourceIdentity", `satisfy regular expression pattern: [\w+=,.@-]*`)},
		{"long source identity", map[string]string{"SourceIdentity": strings.Repeat("s", 65)}, "ValidationError",
			one(strings.Repeat("s", 65), "sourceIdentity", "have length less than or equal to 64")},
		{"short serial number", map[string]string{"SerialNumber": "GAHT1234"}, "ValidationError",
			one("GAHT1234", "serialNumber", "have length greater than or equal to 9")},
		{"serial number pattern", map[string]string{"SerialNumber": "GAHT 12345678"}, "ValidationError",
			one("GAHT 12345678", "serialNumber", `satisfy regular expression pattern: [\w+=/:,.@-]*`)},
		{"short token code", map[string]string{"TokenCode": "12345"}, "ValidationError",
			one("12345", "tokenCode", "have length greater than or equal to 6")},
		{"token code pattern", map[string]string{"TokenCode": "12345a"}, "ValidationError",
			one("12345a", "tokenCode", `satisfy regular expression pattern: [\d]*`)},
		{"errors across members, in model order", map[string]string{"RoleSessionName": "a", "DurationSeconds": "60", "ExternalId": "e"}, "ValidationError",
			many(violation("a", "roleSessionName", "have length greater than or equal to 2"),
				violation("60", "durationSeconds", "have value greater than or equal to 900"),
				violation("e", "externalId", "have length greater than or equal to 2"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			roles := &fakeRoles{expires: time.Now().Add(time.Hour)}
			h := &Handler{Authn: &fakeAuthn{p: alice}, Roles: roles}
			w := post(h, assumeRoleForm(c.edits))
			if w.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", w.Code)
			}
			e := readError(t, w)
			if e.Error.Code != c.code || e.Error.Message != c.msg || e.Error.Type != "Sender" {
				t.Errorf("got %s %s: %.300q\nwant %s: %.300q", e.Error.Type, e.Error.Code, e.Error.Message, c.code, c.msg)
			}
			if n := len(roles.recorded()); n != 0 {
				t.Errorf("Roles called %d times for an invalid request", n)
			}
		})
	}
}

// TestAssumeRoleInput checks what Roles receives from valid forms,
// including limits at their bounds.
func TestAssumeRoleInput(t *testing.T) {
	full := map[string]string{
		"DurationSeconds": "43200", "ExternalId": "ext:id/1", "Policy": `{"Version":"2012-10-17"}`,
		"SourceIdentity": "dev@example.com", "SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "123456",
		"PolicyArns.member.1.arn": "arn:aws:iam::123456789012:policy/a", "PolicyArns.member.2.arn": "arn:aws:iam::aws:policy/ReadOnlyAccess",
		"Tags.member.1.Key": "team", "Tags.member.1.Value": "blue green", "Tags.member.2.Key": "project", "Tags.member.2.Value": "",
		"TransitiveTagKeys.member.1": "team",
	}
	tags50 := manyTags(50, "Tags")
	tags50["Tags"] = "" // an SDK's empty-list marker alongside members is harmless
	cases := []struct {
		name  string
		edits map[string]string
		want  iam.AssumeRoleInput
	}{
		{"minimal", nil, iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "s1"}},
		{"every parameter", full, iam.AssumeRoleInput{
			RoleArn: roleARN, RoleSessionName: "s1", DurationSeconds: 43200, ExternalId: "ext:id/1",
			Policy: `{"Version":"2012-10-17"}`, SourceIdentity: "dev@example.com",
			SerialNumber: "arn:aws:iam::123456789012:mfa/alice", TokenCode: "123456",
			PolicyArns:        []string{"arn:aws:iam::123456789012:policy/a", "arn:aws:iam::aws:policy/ReadOnlyAccess"},
			Tags:              []iam.SessionTag{{Key: "team", Value: "blue green"}, {Key: "project", Value: ""}},
			TransitiveTagKeys: []string{"team"},
		}},
		{"empty lists", map[string]string{"PolicyArns": "", "Tags": "", "TransitiveTagKeys": ""},
			iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "s1"}},
		{"leading plus", map[string]string{"DurationSeconds": "+900"}, iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "s1", DurationSeconds: 900}},
		{"leading zero", map[string]string{"DurationSeconds": "0900"}, iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "s1", DurationSeconds: 900}},
		{"64-character session name", map[string]string{"RoleSessionName": strings.Repeat("b", 64)},
			iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: strings.Repeat("b", 64)}},
		{"list members in index order, gaps closed, non-canonical ignored", map[string]string{
			"TransitiveTagKeys.member.10": "c", "TransitiveTagKeys.member.2": "b", "TransitiveTagKeys.member.1": "a",
			"TransitiveTagKeys.member.01": "x", "TransitiveTagKeys.member.0": "x", "TransitiveTagKeys.member.3.x": "x",
		}, iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "s1", TransitiveTagKeys: []string{"a", "b", "c"}}},
		{"unknown parameters ignored", map[string]string{"Unknown": "v", "ProvidedContexts.member.1.ProviderArn": "x"},
			iam.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "s1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			roles := &fakeRoles{expires: time.Now().Add(time.Hour)}
			h := &Handler{Authn: &fakeAuthn{p: alice}, Roles: roles}
			w := post(h, assumeRoleForm(c.edits))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d:\n%s", w.Code, w.Body)
			}
			got := roles.recorded()
			if len(got) != 1 || !reflect.DeepEqual(got[0], c.want) {
				t.Errorf("Roles got %+v\nwant %+v", got, c.want)
			}
		})
	}
	t.Run("50 tags", func(t *testing.T) {
		roles := &fakeRoles{expires: time.Now().Add(time.Hour)}
		h := &Handler{Authn: &fakeAuthn{p: alice}, Roles: roles}
		if w := post(h, assumeRoleForm(tags50)); w.Code != http.StatusOK {
			t.Fatalf("status %d:\n%s", w.Code, w.Body)
		}
		if got := roles.recorded(); len(got) != 1 || len(got[0].Tags) != 50 || got[0].Tags[49] != (iam.SessionTag{Key: "k50", Value: "v"}) {
			t.Errorf("Roles got %+v", got)
		}
	})
}

func TestDuration(t *testing.T) {
	if d := (iam.AssumeRoleInput{}).Duration(); d != time.Hour {
		t.Errorf("default %v", d)
	}
	if d := (iam.AssumeRoleInput{DurationSeconds: 900}).Duration(); d != 15*time.Minute {
		t.Errorf("900 s is %v", d)
	}
}
