package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

func testPolicies(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	for _, kind := range []metadata.PolicyKind{metadata.PolicyRepository, metadata.PolicyLifecycle} {
		_, err := s.GetPolicy(ctx, kind, reg, "app")
		wantKind(t, err, metadata.NotFound, "repository")
		_, err = s.PutPolicy(ctx, kind, reg, "app", "{}")
		wantKind(t, err, metadata.NotFound, "repository")
		_, err = s.DeletePolicy(ctx, kind, reg, "app")
		wantKind(t, err, metadata.NotFound, "repository")
	}
	mustRepo(t, s, reg, "app")
	mustRepo(t, s, reg, "other")

	cases := []struct {
		kind metadata.PolicyKind
		repo string
	}{
		{metadata.PolicyRepository, "app"},
		{metadata.PolicyLifecycle, "app"},
		{metadata.PolicyRegistry, ""},
	}
	for _, c := range cases {
		_, err := s.GetPolicy(ctx, c.kind, reg, c.repo)
		wantKind(t, err, metadata.NotFound, "policy")
		_, err = s.DeletePolicy(ctx, c.kind, reg, c.repo)
		wantKind(t, err, metadata.NotFound, "policy")

		for i, text := range []string{`{"v":1}`, `{"v":2}`} {
			p, err := s.PutPolicy(ctx, c.kind, reg, c.repo, text)
			must(t, err)
			if p.Kind != c.kind || p.RegistryID != reg || p.Repository != c.repo || p.Text != text ||
				time.Since(p.UpdatedAt) > time.Minute {
				t.Fatalf("%s put %d = %+v", c.kind, i, p)
			}
			got, err := s.GetPolicy(ctx, c.kind, reg, c.repo)
			must(t, err)
			if !reflect.DeepEqual(got, p) {
				t.Fatalf("%s: GetPolicy = %+v, want %+v", c.kind, got, p)
			}
		}
	}
	// Kinds are independent of each other and of other repositories.
	if _, err := s.GetPolicy(ctx, metadata.PolicyRepository, reg, "other"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("other repository has a policy: %v", err)
	}
	if _, err := s.GetPolicy(ctx, metadata.PolicyRegistry, other, ""); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("other registry has a policy: %v", err)
	}
	for _, c := range cases {
		p, err := s.DeletePolicy(ctx, c.kind, reg, c.repo)
		must(t, err)
		if p.Text != `{"v":2}` || p.Kind != c.kind {
			t.Fatalf("DeletePolicy = %+v", p)
		}
		_, err = s.GetPolicy(ctx, c.kind, reg, c.repo)
		wantKind(t, err, metadata.NotFound, "policy")
	}

	_, err := s.PutPolicy(ctx, "other", reg, "app", "{}")
	wantKind(t, err, metadata.Invalid, "")
	_, err = s.PutPolicy(ctx, metadata.PolicyRegistry, reg, "app", "{}")
	wantKind(t, err, metadata.Invalid, "")
	_, err = s.GetPolicy(ctx, metadata.PolicyLifecycle, reg, "")
	wantKind(t, err, metadata.Invalid, "")
}

func testLifecyclePreview(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	pv := metadata.LifecyclePreview{RegistryID: reg, Repository: "app", PolicyText: `{"rules":[]}`,
		Status: "IN_PROGRESS", StartedAt: time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)}
	wantKind(t, s.PutLifecyclePreview(ctx, pv), metadata.NotFound, "repository")
	_, err := s.GetLifecyclePreview(ctx, reg, "app")
	wantKind(t, err, metadata.NotFound, "repository")
	mustRepo(t, s, reg, "app")
	_, err = s.GetLifecyclePreview(ctx, reg, "app")
	wantKind(t, err, metadata.NotFound, "")

	must(t, s.PutLifecyclePreview(ctx, pv))
	got, err := s.GetLifecyclePreview(ctx, reg, "app")
	must(t, err)
	if !reflect.DeepEqual(got, pv) {
		t.Fatalf("GetLifecyclePreview = %+v, want %+v", got, pv)
	}
	pv.Status, pv.Results, pv.PolicyText = "COMPLETE", `[{"imageDigest":"x"}]`, `{"rules":[1]}`
	pv.StartedAt = pv.StartedAt.Add(time.Hour)
	must(t, s.PutLifecyclePreview(ctx, pv))
	got, err = s.GetLifecyclePreview(ctx, reg, "app")
	must(t, err)
	if !reflect.DeepEqual(got, pv) {
		t.Fatalf("replaced preview = %+v, want %+v", got, pv)
	}
}

func testTemplates(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	tp := metadata.Template{
		RegistryID:           reg,
		Prefix:               "ROOT",
		Description:          "everything",
		AppliedFor:           []string{"CREATE_ON_PUSH", "PULL_THROUGH_CACHE"},
		TagMutability:        metadata.ImmutableWithExclusion,
		MutabilityExclusions: []string{"latest"},
		EncryptionType:       "AES256",
		ResourceTags:         []metadata.ResourceTag{{Key: "team", Value: "a"}},
		RepositoryPolicy:     `{"Version":"2012-10-17"}`,
		LifecyclePolicy:      `{"rules":[]}`,
		CustomRoleArn:        "arn:aws:iam::123456789012:role/r",
	}
	created, err := s.CreateTemplate(ctx, tp)
	must(t, err)
	if created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("times = %v, %v", created.CreatedAt, created.UpdatedAt)
	}
	_, err = s.CreateTemplate(ctx, tp)
	wantKind(t, err, metadata.AlreadyExists, "template")
	got, err := s.GetTemplate(ctx, reg, "ROOT")
	must(t, err)
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("GetTemplate =\n%+v\nwant\n%+v", got, created)
	}
	_, err = s.GetTemplate(ctx, reg, "nope")
	wantKind(t, err, metadata.NotFound, "template")
	_, err = s.GetTemplate(ctx, other, "ROOT")
	wantKind(t, err, metadata.NotFound, "template")

	want := []string{"ROOT"}
	for i := range 24 {
		p := fmt.Sprintf("team-%02d", i)
		_, err := s.CreateTemplate(ctx, metadata.Template{RegistryID: reg, Prefix: p, AppliedFor: []string{"CREATE_ON_PUSH"}})
		must(t, err)
		want = append(want, p)
	}
	var prefixes []string
	walk(t, "templates", 10, func(p metadata.Page) (int, string, string) {
		list, next, err := s.ListTemplates(ctx, reg, p)
		must(t, err)
		for _, tp := range list {
			prefixes = append(prefixes, tp.Prefix)
		}
		return len(list), next, prefixes[len(prefixes)-1]
	})
	if !reflect.DeepEqual(prefixes, want) {
		t.Fatalf("ListTemplates = %v", prefixes)
	}

	up, err := s.UpdateTemplate(ctx, reg, "ROOT", func(tp *metadata.Template) error {
		tp.Prefix, tp.RegistryID = "moved", other
		tp.Description = "changed"
		tp.AppliedFor = []string{"REPLICATION"}
		return nil
	})
	must(t, err)
	got, err = s.GetTemplate(ctx, reg, "ROOT")
	must(t, err)
	if got.Description != "changed" || !reflect.DeepEqual(got.AppliedFor, []string{"REPLICATION"}) ||
		got.Prefix != "ROOT" || !got.CreatedAt.Equal(created.CreatedAt) || got.UpdatedAt.Before(created.UpdatedAt) ||
		!reflect.DeepEqual(got, up) {
		t.Fatalf("updated template = %+v (returned %+v)", got, up)
	}
	sentinel := errors.New("stop")
	if _, err := s.UpdateTemplate(ctx, reg, "ROOT", func(*metadata.Template) error { return sentinel }); err != sentinel {
		t.Fatalf("err = %v, want the callback's", err)
	}
	_, err = s.UpdateTemplate(ctx, reg, "nope", func(*metadata.Template) error { return nil })
	wantKind(t, err, metadata.NotFound, "template")

	del, err := s.DeleteTemplate(ctx, reg, "ROOT")
	must(t, err)
	if del.Description != "changed" {
		t.Fatalf("DeleteTemplate = %+v", del)
	}
	_, err = s.DeleteTemplate(ctx, reg, "ROOT")
	wantKind(t, err, metadata.NotFound, "template")
}

func testSettings(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	if v, ok, err := s.GetSetting(ctx, reg, "BASIC_SCAN_TYPE_VERSION"); err != nil || ok || v != "" {
		t.Fatalf("unset setting = %q, %v, %v", v, ok, err)
	}
	must(t, s.PutSetting(ctx, reg, "BASIC_SCAN_TYPE_VERSION", "AWS_NATIVE"))
	must(t, s.PutSetting(ctx, reg, "empty", ""))
	must(t, s.PutSetting(ctx, reg, "BASIC_SCAN_TYPE_VERSION", "CLAIR"))
	for _, c := range []struct {
		registry, name, value string
		ok                    bool
	}{
		{reg, "BASIC_SCAN_TYPE_VERSION", "CLAIR", true},
		{reg, "empty", "", true},
		{other, "BASIC_SCAN_TYPE_VERSION", "", false},
	} {
		v, ok, err := s.GetSetting(ctx, c.registry, c.name)
		must(t, err)
		if v != c.value || ok != c.ok {
			t.Fatalf("GetSetting(%s, %s) = %q, %v", c.registry, c.name, v, ok)
		}
	}
}

func testAccessKeys(t *testing.T, s metadata.Store) {
	ctx := ctxFor(t)
	alice := "arn:aws:iam::123456789012:user/alice"
	keys := []metadata.AccessKey{
		{ID: "AKIAB", Secret: []byte{0, 1, 2, 255}, Principal: alice, Account: reg, Status: metadata.KeyActive,
			CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "AKIAA", Secret: []byte("sealed"), Principal: alice, Account: reg, Status: metadata.KeyInactive,
			CreatedAt: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{ID: "AKIAC", Secret: []byte("x"), Principal: "arn:aws:iam::123456789012:user/bob", Account: reg,
			Status: metadata.KeyActive, CreatedAt: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)},
	}
	for _, k := range keys {
		must(t, s.CreateAccessKey(ctx, k))
	}
	wantKind(t, s.CreateAccessKey(ctx, keys[0]), metadata.AlreadyExists, "access key")
	got, err := s.GetAccessKey(ctx, "AKIAB")
	must(t, err)
	if !reflect.DeepEqual(got, keys[0]) || !bytes.Equal(got.Secret, []byte{0, 1, 2, 255}) {
		t.Fatalf("GetAccessKey = %+v", got)
	}
	_, err = s.GetAccessKey(ctx, "AKIANOPE")
	wantKind(t, err, metadata.NotFound, "access key")

	ids := func(principal string) []string {
		list, err := s.ListAccessKeys(ctx, principal)
		must(t, err)
		var out []string
		for _, k := range list {
			out = append(out, k.ID)
		}
		return out
	}
	if got := ids(alice); !reflect.DeepEqual(got, []string{"AKIAA", "AKIAB"}) {
		t.Fatalf("alice's keys = %v", got)
	}
	if got := ids(""); !reflect.DeepEqual(got, []string{"AKIAA", "AKIAB", "AKIAC"}) {
		t.Fatalf("all keys = %v", got)
	}
	if got := ids("arn:aws:iam::123456789012:user/nobody"); got != nil {
		t.Fatalf("nobody's keys = %v", got)
	}

	must(t, s.SetAccessKeyStatus(ctx, "AKIAB", metadata.KeyInactive))
	if k, _ := s.GetAccessKey(ctx, "AKIAB"); k.Status != metadata.KeyInactive {
		t.Fatalf("status = %q", k.Status)
	}
	wantKind(t, s.SetAccessKeyStatus(ctx, "AKIAB", "Paused"), metadata.Invalid, "")
	wantKind(t, s.SetAccessKeyStatus(ctx, "AKIANOPE", metadata.KeyActive), metadata.NotFound, "access key")

	must(t, s.DeleteAccessKey(ctx, "AKIAB"))
	wantKind(t, s.DeleteAccessKey(ctx, "AKIAB"), metadata.NotFound, "access key")
	_, err = s.GetAccessKey(ctx, "AKIAB")
	wantKind(t, err, metadata.NotFound, "access key")
}
