package s3

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestBigWritesSendBodies sends request bodies through the plain-HTTP
// transport berth gives minio-go: from memory (written straight from the
// bytes), a section of a file (through the copy buffer) and a file
// (sendfile), shorter and longer than a buffer, and checks the server got
// exactly the bytes; a body longer than its Content-Length fails.
func TestBigWritesSendBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil || n != r.ContentLength {
			http.Error(w, "short body", http.StatusBadRequest)
			return
		}
		_, _ = w.Write(h.Sum(nil))
	}))
	defer srv.Close()
	opts, err := Config{}.clientOptions(false, 0)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Transport: opts.Transport}
	for _, size := range []int{0, 1, bodyCopySize - 1, bodyCopySize, 3*bodyCopySize + 12345} {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		f := filepath.Join(t.TempDir(), "body")
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		open := func() *os.File {
			file, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { file.Close() })
			return file
		}
		// A bytes.Reader writes itself; a section of the file is copied
		// through the buffer; the file goes by sendfile.
		for name, body := range map[string]io.Reader{"memory": bytes.NewReader(data),
			// The transport closes an *os.File body once sent: a handle each.
			"section": io.NewSectionReader(open(), 0, int64(size)), "file": open()} {
			if size == 0 && name != "memory" {
				continue // net/http sends an empty file chunked, as a body of unknown length
			}
			req, err := http.NewRequest(http.MethodPut, srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = int64(size)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("%s %d: %v", name, size, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := sha256.Sum256(data)
			if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want[:]) {
				t.Fatalf("%s %d bytes: status %d, server's sha256 %x, want %x", name, size, resp.StatusCode, got, want)
			}
		}
	}
	data := make([]byte, 1000)
	req, err := http.NewRequest(http.MethodPut, srv.URL, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 999
	if resp, err := hc.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a body longer than its Content-Length was sent: %s", resp.Status)
	}
}
