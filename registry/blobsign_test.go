package registry

import (
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

func TestBlobURLSigner(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := &BlobURLSigner{Key: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return now }}
	const reg, repo, dgst = "123456789012", "team/app", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	q := s.Sign(reg, repo, dgst)
	if got := q.Get(blobExpiresParam); got != "1700003600" {
		t.Fatalf("expires = %s, want now + 1h", got)
	}
	other := s.Sign(reg, repo, "sha256:ffff")
	tampered := url.Values{blobExpiresParam: {"1700009999"}, blobSignatureParam: q[blobSignatureParam]}
	padded := url.Values{blobExpiresParam: {"01700003600"}, blobSignatureParam: q[blobSignatureParam]}
	for _, c := range []struct {
		name            string
		q               url.Values
		reg, repo, dgst string
		at              time.Time
		key             string
		want            bool
	}{
		{"valid", q, reg, repo, dgst, now, "", true},
		{"valid at expiry", q, reg, repo, dgst, now.Add(time.Hour), "", true},
		{"expired", q, reg, repo, dgst, now.Add(time.Hour + time.Second), "", false},
		{"other digest", q, reg, repo, "sha256:ffff", now, "", false},
		{"signature of another digest", other, reg, repo, dgst, now, "", false},
		{"other repository", q, reg, "team/other", dgst, now, "", false},
		{"other registry", q, "210987654321", repo, dgst, now, "", false},
		{"expiry moved", tampered, reg, repo, dgst, now, "", false},
		{"expiry not canonical", padded, reg, repo, dgst, now, "", false},
		{"no signature", url.Values{blobExpiresParam: q[blobExpiresParam]}, reg, repo, dgst, now, "", false},
		{"garbage signature", url.Values{blobExpiresParam: q[blobExpiresParam], blobSignatureParam: {"%%%"}}, reg, repo, dgst, now, "", false},
		{"other key", q, reg, repo, dgst, now, "another-key-another-key-another-k", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := *s
			v.Now = func() time.Time { return c.at }
			if c.key != "" {
				v.Key = []byte(c.key)
			}
			r := httptest.NewRequest("GET", "/v2/"+repo+"/blobs/"+dgst+"?"+c.q.Encode(), nil)
			if got := v.Verify(r, c.reg, c.repo, c.dgst); got != c.want {
				t.Fatalf("Verify = %v, want %v", got, c.want)
			}
		})
	}
	t.Run("empty key verifies nothing", func(t *testing.T) {
		empty := &BlobURLSigner{Now: s.Now}
		r := httptest.NewRequest("GET", "/v2/x/blobs/y?"+empty.Sign(reg, repo, dgst).Encode(), nil)
		if empty.Verify(r, reg, repo, dgst) {
			t.Fatal("a URL signed with no key verified")
		}
		var nilSigner *BlobURLSigner
		if nilSigner.Verify(r, reg, repo, dgst) {
			t.Fatal("a nil signer verified")
		}
	})
	t.Run("custom TTL", func(t *testing.T) {
		short := &BlobURLSigner{Key: s.Key, TTL: time.Minute, Now: s.Now}
		if got := short.Sign(reg, repo, dgst).Get(blobExpiresParam); got != "1700000060" {
			t.Fatalf("expires = %s", got)
		}
	})
}
