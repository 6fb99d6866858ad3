package registry

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Query parameters of a signed blob URL.
const (
	blobExpiresParam   = "X-Berth-Expires"
	blobSignatureParam = "X-Berth-Signature"
)

// DefaultBlobURLTTL is how long a GetDownloadUrlForLayer URL works. ECR
// hands out pre-signed S3 URLs whose lifetime it does not document; the
// ECR proxy and containerd's resolver fetch a URL right after asking for
// it. An hour covers a client that collects the URLs of a large image
// before pulling its layers one by one on a slow link (expiry is checked
// when a download starts, not while it streams), and keeps a URL leaked to
// a log or proxy useful for no longer than an ordinary session.
const DefaultBlobURLTTL = time.Hour

// BlobURLSigner signs and verifies download URLs for one blob of one
// repository: what GetDownloadUrlForLayer returns and what the /v2 gate
// accepts instead of registry credentials for GET and HEAD of that blob.
type BlobURLSigner struct {
	// Key is the HMAC-SHA256 key (≥ 32 bytes; every node of a registry
	// needs the same one). An empty key verifies nothing.
	Key []byte
	// TTL is the URL lifetime (0: DefaultBlobURLTTL).
	TTL time.Duration
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Sign returns the query parameters that authorize GET and HEAD of blob
// digest in repo of registryID until the TTL runs out.
func (s *BlobURLSigner) Sign(registryID, repo, digest string) url.Values {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultBlobURLTTL
	}
	expires := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	return url.Values{
		blobExpiresParam:   {expires},
		blobSignatureParam: {base64.RawURLEncoding.EncodeToString(s.mac(registryID, repo, digest, expires))},
	}
}

// Verify reports whether r carries a valid, unexpired signature for blob
// digest of repo in registryID. The method is not signed: a URL serves
// GET and HEAD alike, and the gate lets nothing else through with it.
func (s *BlobURLSigner) Verify(r *http.Request, registryID, repo, digest string) bool {
	if s == nil || len(s.Key) == 0 {
		return false
	}
	q := r.URL.Query()
	expires, sig := q.Get(blobExpiresParam), q.Get(blobSignatureParam)
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil || expires != strconv.FormatInt(exp, 10) {
		return false // only the canonical form was signed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	if !hmac.Equal(got, s.mac(registryID, repo, digest, expires)) {
		return false
	}
	return !s.now().After(time.Unix(exp, 0))
}

// mac covers every field a URL binds, newline-separated: none of them can
// contain a newline (registry ids are digits, names and digests follow
// their grammars), so no two field lists share a message.
func (s *BlobURLSigner) mac(registryID, repo, digest, expires string) []byte {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte("blob\n" + registryID + "\n" + repo + "\n" + digest + "\n" + expires))
	return m.Sum(nil)
}

func (s *BlobURLSigner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
