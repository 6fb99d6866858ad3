package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/berth-registry/berth/metadata"
)

func testPullThroughRules(t *testing.T, s metadata.Store) {
	ctx := context.Background()
	errLimit := errors.New("limit")
	atMost := func(n int) func(int) error {
		return func(existing int) error {
			if existing >= n {
				return errLimit
			}
			return nil
		}
	}
	r, err := s.CreatePullThroughRule(ctx, metadata.PullThroughRule{RegistryID: reg, Prefix: "docker-hub",
		UpstreamURL: "registry-1.docker.io", UpstreamRegistry: "docker-hub", UpstreamPrefix: "ROOT",
		CredentialArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/x"}, atMost(3))
	if err != nil {
		t.Fatal(err)
	}
	if r.CreatedAt.IsZero() || !r.UpdatedAt.Equal(r.CreatedAt) {
		t.Fatalf("created %+v", r)
	}
	if _, err := s.CreatePullThroughRule(ctx, metadata.PullThroughRule{RegistryID: reg, Prefix: "docker-hub", UpstreamURL: "x"}, atMost(3)); !metadata.Is(err, metadata.AlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for i := range 2 {
		if _, err := s.CreatePullThroughRule(ctx, metadata.PullThroughRule{RegistryID: reg, Prefix: fmt.Sprintf("p%d", i), UpstreamURL: "quay.io"}, atMost(3)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreatePullThroughRule(ctx, metadata.PullThroughRule{RegistryID: reg, Prefix: "p9", UpstreamURL: "quay.io"}, atMost(3)); !errors.Is(err, errLimit) {
		t.Fatalf("over the limit: %v", err)
	}
	// Another registry has its own rules.
	if _, err := s.CreatePullThroughRule(ctx, metadata.PullThroughRule{RegistryID: "210987654321", Prefix: "docker-hub", UpstreamURL: "x"}, atMost(3)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPullThroughRule(ctx, reg, "docker-hub")
	if err != nil || got.UpstreamURL != "registry-1.docker.io" || got.CredentialArn != r.CredentialArn || got.UpstreamPrefix != "ROOT" {
		t.Fatalf("get: %+v %v", got, err)
	}
	if _, err := s.GetPullThroughRule(ctx, reg, "nope"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("get missing: %v", err)
	}
	page, next, err := s.ListPullThroughRules(ctx, reg, metadata.Page{Limit: 2})
	if err != nil || len(page) != 2 || page[0].Prefix != "docker-hub" || next == "" {
		t.Fatalf("page 1: %+v %q %v", page, next, err)
	}
	page, next, err = s.ListPullThroughRules(ctx, reg, metadata.Page{Limit: 2, After: next})
	if err != nil || len(page) != 1 || page[0].Prefix != "p1" || next != "" {
		t.Fatalf("page 2: %+v %q %v", page, next, err)
	}
	time.Sleep(2 * time.Millisecond)
	up, err := s.UpdatePullThroughRule(ctx, reg, "docker-hub", func(r *metadata.PullThroughRule) error {
		r.CredentialArn = "new"
		r.UpstreamURL = "ignored"
		return nil
	})
	if err != nil || up.CredentialArn != "new" || up.UpstreamURL != "registry-1.docker.io" || !up.UpdatedAt.After(up.CreatedAt) {
		t.Fatalf("update: %+v %v", up, err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdatePullThroughRule(ctx, reg, "docker-hub", func(*metadata.PullThroughRule) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("update fn error: %v", err)
	}
	del, err := s.DeletePullThroughRule(ctx, reg, "docker-hub")
	if err != nil || del.CredentialArn != "new" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	if _, err := s.DeletePullThroughRule(ctx, reg, "docker-hub"); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("delete again: %v", err)
	}

	if _, ok, err := s.TagCheckedAt(ctx, reg, "docker-hub/library/a", "v1"); ok || err != nil {
		t.Fatalf("unchecked tag: %v %v", ok, err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Microsecond)
	for _, when := range []time.Time{at.Add(-time.Hour), at} {
		if err := s.MarkTagChecked(ctx, reg, "docker-hub/library/a", "v1", when); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := s.TagCheckedAt(ctx, reg, "docker-hub/library/a", "v1"); !ok || err != nil || !got.Equal(at) {
		t.Fatalf("checked at: %v %v %v, want %v", got, ok, err, at)
	}
}

func testSecrets(t *testing.T, s metadata.Store) {
	ctx := context.Background()
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf"
	sec, err := s.CreateSecret(ctx, metadata.Secret{Account: reg, Name: "ecr-pullthroughcache/hub", ARN: arn,
		Value: []byte{0, 1, 2, 255}, VersionID: "v1", Tags: []metadata.ResourceTag{{Key: "k", Value: "v"}}})
	if err != nil || sec.CreatedAt.IsZero() {
		t.Fatalf("create: %+v %v", sec, err)
	}
	if _, err := s.CreateSecret(ctx, metadata.Secret{Account: reg, Name: "ecr-pullthroughcache/hub", ARN: arn + "x"}); !metadata.Is(err, metadata.AlreadyExists) {
		t.Fatalf("duplicate: %v", err)
	}
	for _, id := range []string{"ecr-pullthroughcache/hub", arn} {
		got, err := s.GetSecret(ctx, reg, id)
		if err != nil || string(got.Value) != "\x00\x01\x02\xff" || got.ARN != arn || len(got.Tags) != 1 {
			t.Fatalf("get %s: %+v %v", id, got, err)
		}
	}
	if _, err := s.GetSecret(ctx, "210987654321", arn); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("another account's: %v", err)
	}
	up, err := s.UpdateSecret(ctx, reg, arn, func(x *metadata.Secret) error { x.Value, x.VersionID = []byte("new"), "v2"; return nil })
	if err != nil || string(up.Value) != "new" || up.VersionID != "v2" {
		t.Fatalf("update: %+v %v", up, err)
	}
	list, next, err := s.ListSecrets(ctx, reg, false, metadata.Page{})
	if err != nil || len(list) != 1 || next != "" {
		t.Fatalf("list: %+v %q %v", list, next, err)
	}
	// A scheduled deletion hides the secret from plain listings; past its
	// date the secret is gone and its name free again.
	sched, err := s.UpdateSecret(ctx, reg, arn, func(x *metadata.Secret) error {
		x.PreviousValue, x.PreviousVersionID = x.Value, x.VersionID
		x.DeletionDate = time.Now().Add(time.Hour)
		return nil
	})
	if err != nil || sched.DeletionDate.IsZero() || sched.PreviousVersionID != "v2" || string(sched.PreviousValue) != "new" {
		t.Fatalf("schedule: %+v %v", sched, err)
	}
	if list, _, _ := s.ListSecrets(ctx, reg, false, metadata.Page{}); len(list) != 0 {
		t.Fatalf("plain list shows a scheduled secret: %+v", list)
	}
	if list, _, _ := s.ListSecrets(ctx, reg, true, metadata.Page{}); len(list) != 1 || list[0].DeletionDate.IsZero() {
		t.Fatalf("list with scheduled: %+v", list)
	}
	if _, err := s.UpdateSecret(ctx, reg, arn, func(x *metadata.Secret) error {
		x.DeletionDate = time.Now().Add(-time.Second)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSecret(ctx, reg, arn); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("past its deletion date: %v", err)
	}
	if list, _, _ := s.ListSecrets(ctx, reg, true, metadata.Page{}); len(list) != 0 {
		t.Fatalf("list shows a secret past its deletion date: %+v", list)
	}
	if _, err := s.CreateSecret(ctx, metadata.Secret{Account: reg, Name: "ecr-pullthroughcache/hub", ARN: arn + "2", VersionID: "v1"}); err != nil {
		t.Fatalf("re-create after the recovery window: %v", err)
	}
	if _, err := s.DeleteSecret(ctx, reg, "ecr-pullthroughcache/hub"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSecret(ctx, reg, arn); !metadata.Is(err, metadata.NotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
