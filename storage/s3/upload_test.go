package s3

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// uploadConfig is e.config with a spool directory of the test's own, so the
// test can check that no spool file outlives the upload that made it.
func uploadConfig(t *testing.T, e *env) Config {
	cfg := e.config(t)
	cfg.SpoolDir = t.TempDir()
	if e.spoolOnly {
		cfg.PartMemory = -1
	}
	return cfg
}

// smallParts is uploadConfig with the smallest part size S3 allows, for
// tests that send many parts.
func smallParts(t *testing.T, e *env) Config {
	cfg := uploadConfig(t, e)
	cfg.PartSize = minPartSize
	return cfg
}

// otherNode is cfg for another Backend instance, as on another node: the
// same bucket and prefix, a spool directory of its own.
func otherNode(t *testing.T, cfg Config) Config {
	cfg.SpoolDir = t.TempDir()
	return cfg
}

func wantSpoolEmpty(t *testing.T, when string, dirs ...string) {
	t.Helper()
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) > 0 {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			t.Fatalf("%s: spool files left in %s: %q", when, dir, names)
		}
	}
}

// pendingKeys lists the raw pending objects under cfg's prefix.
func (e *env) pendingKeys(t *testing.T, cfg Config) []string {
	t.Helper()
	return e.rawKeys(t, cfg.prefix()+"pending/")
}

// pendingKey is the raw key of the pending part of the upload at p.
func pendingKey(cfg Config, p string) string { return cfg.prefix() + "pending" + p }

// abortBehind aborts up's multipart upload directly in the bucket, as
// another node or an expiry rule would, leaving its pending object alone.
func abortBehind(t *testing.T, e *env, b *Backend, p string, up storage.Upload) {
	t.Helper()
	core := minio.Core{Client: e.m.Client(t)}
	if err := core.AbortMultipartUpload(ctx(t), e.bucket, up.(*upload).key, up.(*upload).id); err != nil {
		t.Fatal(err)
	}
}

// failParts makes b's S3 client fail the uploads of the parts whose number
// fail picks, after delay and with an error that is not retried, while the
// multipart upload itself stays alive (unlike abortBehind): whatever comes
// after would succeed, so only the upload's own bookkeeping can report the
// loss.
func failParts(t *testing.T, b *Backend, cfg Config, delay time.Duration, fail func(part int) bool) {
	t.Helper()
	host, secure, _ := cfg.endpoint()
	opts, err := cfg.clientOptions(secure, 1)
	if err != nil {
		t.Fatal(err)
	}
	opts.Transport = partFailer{opts.Transport, delay, fail}
	core, err := minio.NewCore(host, opts)
	if err != nil {
		t.Fatal(err)
	}
	b.core = core
}

type partFailer struct {
	rt    http.RoundTripper
	delay time.Duration
	fail  func(int) bool
}

func (f partFailer) RoundTrip(r *http.Request) (*http.Response, error) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("partNumber"))
	if err != nil || r.Method != http.MethodPut || q.Get("uploadId") == "" || !f.fail(n) {
		return f.rt.RoundTrip(r)
	}
	if r.Body != nil {
		r.Body.Close()
	}
	select {
	case <-time.After(f.delay):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	const body = `<?xml version="1.0" encoding="UTF-8"?>` +
		`<Error><Code>InvalidArgument</Code><Message>injected part failure</Message></Error>`
	return &http.Response{
		Status: "400 Bad Request", StatusCode: http.StatusBadRequest,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/xml"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}, nil
}

// stream writes random bytes to an upload and remembers them.
type stream struct {
	up   storage.Upload
	want []byte // every byte written, all sessions
	buf  []byte // reused for every Write, as the writer reuses its batch
}

// write makes one Write per size, each through buf, which it then
// scribbles on (the upload must not keep p), and checks Size after each.
func (s *stream) write(t *testing.T, sizes ...int) {
	t.Helper()
	for _, n := range sizes {
		data := random(t, n)
		s.buf = append(s.buf[:0], data...)
		if err := s.up.Write(ctx(t), s.buf); err != nil {
			t.Fatalf("Write of %d bytes at offset %d: %v", n, len(s.want), err)
		}
		for i := range s.buf {
			s.buf[i] ^= 0xff
		}
		s.want = append(s.want, data...)
		if got := s.up.Size(); got != int64(len(s.want)) {
			t.Fatalf("Size = %d after writing %d bytes", got, len(s.want))
		}
	}
}

// complete completes the upload with n random bytes as last.
func (s *stream) complete(t *testing.T, n int) {
	t.Helper()
	last := random(t, n)
	if n == 0 {
		last = nil
	}
	s.want = append(s.want, last...)
	if err := s.up.Complete(ctx(t), last); err != nil {
		t.Fatalf("Complete with %d last bytes: %v", n, err)
	}
}

// wantObject checks the object at p: header, body and Stat size.
func wantObject(t *testing.T, b *Backend, p string, hdr, body []byte) {
	t.Helper()
	gotHdr, gotBody := mustGet(t, b, p)
	wantEqual(t, p+" header", gotHdr, hdr)
	wantEqual(t, p+" body", gotBody, body)
	fi, err := b.Stat(ctx(t), p)
	if err != nil || fi.Size != int64(len(body)) {
		t.Fatalf("Stat(%s) = %+v, %v; want size %d", p, fi, err, len(body))
	}
}

func testUploadAbort(t *testing.T, e *env) {
	cfg := uploadConfig(t, e)
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	up, err := b.CreateUpload(ctx(t), "/up/abort", header(t))
	if err != nil {
		t.Fatal(err)
	}
	// Two parts (the second likely still in flight) and 100 bytes spooled.
	s := &stream{up: up}
	s.write(t, ps+1, ps+99)
	if got := up.Size(); got != 2*b.PartSize()+100 {
		t.Fatalf("Size = %d, want %d", got, 2*b.PartSize()+100)
	}
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSpoolEmpty(t, "after Abort", cfg.SpoolDir)
	_, err = b.ResumeUpload(ctx(t), "/up/abort")
	wantErrIs(t, err, storage.ErrNoUpload)
	_, err = b.Stat(ctx(t), "/up/abort")
	wantNotFound(t, err, "/up/abort")
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	if err := up.Write(ctx(t), []byte("x")); err == nil {
		t.Fatal("Write after Abort succeeded")
	}
	if err := up.Persist(ctx(t)); err == nil {
		t.Fatal("Persist after Abort succeeded")
	}
	if err := up.Complete(ctx(t), []byte("x")); err == nil {
		t.Fatal("Complete after Abort succeeded")
	}
	_, err = b.Stat(ctx(t), "/up/abort")
	wantNotFound(t, err, "/up/abort")
	wantSpoolEmpty(t, "after calls on an aborted upload", cfg.SpoolDir)

	// A persisted upload with a pending part, aborted from another node:
	// the pending object goes too.
	const p = "/up/abort2"
	up, err = b.CreateUpload(ctx(t), p, header(t))
	if err != nil {
		t.Fatal(err)
	}
	s = &stream{up: up}
	s.write(t, ps+10)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantList(t, "pending keys after Persist", e.pendingKeys(t, cfg), []string{pendingKey(cfg, p)})
	cfg2 := otherNode(t, cfg)
	up2, err := e.backendWith(t, cfg2).ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := up2.Size(); got != int64(ps+10) {
		t.Fatalf("resumed Size = %d, want %d", got, ps+10)
	}
	if err := up2.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantList(t, "pending keys after Abort", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "after Abort of a resumed upload", cfg.SpoolDir, cfg2.SpoolDir)
	_, err = b.ResumeUpload(ctx(t), p)
	wantErrIs(t, err, storage.ErrNoUpload)
}

// testUploadResume writes parts through one Backend, resumes the upload in
// a new Backend (listing parts one per page), and completes it there.
func testUploadResume(t *testing.T, e *env) {
	cfg := uploadConfig(t, e)
	b := e.backendWith(t, cfg)
	if b.PartSize()%crypt.SlotSize != 0 || b.PartSize() < minPartSize {
		t.Fatalf("PartSize %d is not whole slots of at least 5 MiB", b.PartSize())
	}
	ps := int(b.PartSize())
	hdr := header(t)
	const p = "/r/_uploads/id/data"
	// A longer key with the same prefix must not be taken for p's upload.
	other, err := b.CreateUpload(ctx(t), p+"2", header(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Abort(ctx(t))

	up, err := b.CreateUpload(ctx(t), p, hdr)
	if err != nil {
		t.Fatal(err)
	}
	// Three full parts and 1003 bytes pending, written across boundaries.
	s := &stream{up: up}
	s.write(t, 1, ps-1, 2*ps+3, 1000)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSpoolEmpty(t, "after Persist", cfg.SpoolDir)
	wantList(t, "pending keys", e.pendingKeys(t, cfg), []string{pendingKey(cfg, p)})

	cfg2 := otherNode(t, cfg)
	b2 := e.backendWith(t, cfg2)
	requests := countRequests(t, b2, cfg2)
	b2.partsMax = 1 // every part on its own ListParts page
	up2, err := b2.ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	// One GET of the upload record with its pending part and one ListParts
	// page per part (3): without part pagination it would be 2.
	if n := requests.Load(); n < 4 {
		t.Fatalf("ResumeUpload sent %d requests; pagination was not exercised", n)
	}
	if got := up2.Size(); got != int64(len(s.want)) {
		t.Fatalf("resumed Size = %d, want %d", got, len(s.want))
	}
	s.up = up2
	s.write(t, ps) // completes part 4 from the pending bytes, 1003 spooled
	s.complete(t, 1000)
	wantSpoolEmpty(t, "after Complete", cfg.SpoolDir, cfg2.SpoolDir)
	wantList(t, "pending keys after Complete", e.pendingKeys(t, cfg), nil)

	wantObject(t, b, p, hdr, s.want)
	want := s.want
	// A ranged read across a part boundary.
	_, size, rc, err := b.Get(ctx(t), p, int64(ps)-5)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 10)
	if _, err := rc.Read(head[:1]); err != nil || size != int64(len(want)) {
		t.Fatalf("ranged Get: size %d, %v", size, err)
	}
	rc.Close()
	if head[0] != want[ps-5] {
		t.Fatal("ranged Get returned the wrong byte")
	}
	_, err = b.ResumeUpload(ctx(t), p)
	wantErrIs(t, err, storage.ErrNoUpload)
}

// testUploadOddWrites writes sizes that straddle part boundaries; the
// object is their concatenation whatever the split.
func testUploadOddWrites(t *testing.T, e *env) {
	cfg := smallParts(t, e)
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	for i, tc := range []struct {
		name   string
		writes []int
		last   int
	}{
		// 4 parts exactly: last fills part 4, no final part of its own.
		{"straddle", []int{1, ps - 1, 2*ps + 3, 5}, ps - 8},
		{"one short", []int{ps - 1}, 2},
		{"small", []int{3, 0, 4}, 0},
		{"all in last", nil, 2*ps + 5},
	} {
		p := "/o/" + strconv.Itoa(i)
		hdr := header(t)
		up, err := b.CreateUpload(ctx(t), p, hdr)
		if err != nil {
			t.Fatal(err)
		}
		s := &stream{up: up}
		s.write(t, tc.writes...)
		s.complete(t, tc.last)
		wantObject(t, b, p, hdr, s.want)
		wantSpoolEmpty(t, tc.name+": after Complete", cfg.SpoolDir)
	}
	wantList(t, "pending keys", e.pendingKeys(t, cfg), nil)
}

// testUploadPersist persists and resumes one upload several times, each
// time in a new Backend with a spool of its own (another node).
func testUploadPersist(t *testing.T, e *env) {
	cfg := smallParts(t, e)
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	const p = "/pc/_uploads/id/data"
	hdr := header(t)
	up, err := b.CreateUpload(ctx(t), p, hdr)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{up: up}
	dirs := []string{cfg.SpoolDir}
	for i, writes := range [][]int{
		{10},           // pending only, no part yet
		nil,            // nothing new: the same pending bytes again
		{ps - 11, 3},   // part 1 and 2 bytes pending
		{ps - 2},       // ends part 2 exactly: nothing pending
		nil,            // still nothing
		{2*ps + 1, 0},  // parts 3 and 4, 1 byte pending
		{1, ps - 3, 2}, // part 5 from the pending byte, 1 byte pending
	} {
		s.write(t, writes...)
		if err := s.up.Persist(ctx(t)); err != nil {
			t.Fatalf("cycle %d: Persist: %v", i, err)
		}
		wantSpoolEmpty(t, "after Persist", dirs[len(dirs)-1])
		if err := s.up.Write(ctx(t), []byte("x")); err == nil {
			t.Fatalf("cycle %d: Write after Persist succeeded", i)
		}
		wantSpoolEmpty(t, "after Write to a persisted upload", dirs[len(dirs)-1])
		// The pending object is the upload's record: always there after
		// Persist, empty when the data ended on a part boundary.
		wantList(t, "pending keys after cycle "+strconv.Itoa(i), e.pendingKeys(t, cfg), []string{pendingKey(cfg, p)})

		c := otherNode(t, cfg)
		dirs = append(dirs, c.SpoolDir)
		up, err := e.backendWith(t, c).ResumeUpload(ctx(t), p)
		if err != nil {
			t.Fatalf("cycle %d: ResumeUpload: %v", i, err)
		}
		if got := up.Size(); got != int64(len(s.want)) {
			t.Fatalf("cycle %d: resumed Size = %d, want %d", i, got, len(s.want))
		}
		s.up = up
	}
	s.complete(t, 77)
	wantObject(t, b, p, hdr, s.want)
	wantList(t, "pending keys after Complete", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "after Complete", dirs...)
	_, err = b.ResumeUpload(ctx(t), p)
	wantErrIs(t, err, storage.ErrNoUpload)

	// DeleteSidecars takes the pending parts (the upload records) at and
	// below its path along, aborting their uploads, and nothing beside it.
	for _, q := range []string{"/pd/a/_uploads/x/data", "/pd/ab/data"} {
		up, err := b.CreateUpload(ctx(t), q, header(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := up.Write(ctx(t), []byte("pending")); err != nil {
			t.Fatal(err)
		}
		if err := up.Persist(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.DeleteSidecars(ctx(t), "/pd/a"); err != nil {
		t.Fatal(err)
	}
	wantList(t, "pending keys after DeleteSidecars", e.pendingKeys(t, cfg), []string{pendingKey(cfg, "/pd/ab/data")})
	_, err = b.ResumeUpload(ctx(t), "/pd/a/_uploads/x/data")
	wantErrIs(t, err, storage.ErrNoUpload)
	up, err = b.ResumeUpload(ctx(t), "/pd/ab/data")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantList(t, "pending keys after Abort", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "at the end", dirs...)
}

// testUploadForeignPending: a pending object left by another upload of
// the same path is not taken for the resumed upload's bytes.
func testUploadForeignPending(t *testing.T, e *env) {
	cfg := smallParts(t, e)
	b := e.backendWith(t, cfg)
	const p = "/fp/data"
	a, err := b.CreateUpload(ctx(t), p, header(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx(t), random(t, 100)); err != nil {
		t.Fatal(err)
	}
	if err := a.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// a goes away without its pending object (an expiry rule, a crash
	// between the two removals), and a new upload starts at the same path.
	abortBehind(t, e, b, p, a)
	hdr := header(t)
	fresh, err := b.CreateUpload(ctx(t), p, hdr)
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "pending keys", e.pendingKeys(t, cfg), []string{pendingKey(cfg, p)})
	// The record left names an upload that is gone: nothing to resume
	// (the writer above then starts over), never a's bytes.
	cfg2 := otherNode(t, cfg)
	_, err = e.backendWith(t, cfg2).ResumeUpload(ctx(t), p)
	wantErrIs(t, err, storage.ErrNoUpload)
	if err := fresh.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	up, err := e.backendWith(t, cfg2).ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if up.(*upload).id != fresh.(*upload).id {
		t.Fatal("did not resume the upload whose record is current")
	}
	if up.(*upload).id == a.(*upload).id {
		t.Fatal("resumed the aborted upload")
	}
	if got := up.Size(); got != 0 {
		t.Fatalf("Size = %d, want 0: another upload's pending bytes were taken", got)
	}
	wantSpoolEmpty(t, "after ResumeUpload", cfg2.SpoolDir)
	s := &stream{up: up}
	s.write(t, 50)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// Now the pending object is this upload's own.
	cfg3 := otherNode(t, cfg)
	up, err = e.backendWith(t, cfg3).ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := up.Size(); got != 50 {
		t.Fatalf("Size = %d, want 50", got)
	}
	s.up = up
	s.write(t, 20)
	s.complete(t, 5)
	wantObject(t, b, p, hdr, s.want)
	wantList(t, "pending keys after Complete", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "after Complete", cfg.SpoolDir, cfg2.SpoolDir, cfg3.SpoolDir)
}

func testUploadZeroParts(t *testing.T, e *env) {
	cfg := uploadConfig(t, e)
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	for i, tc := range []struct {
		name    string
		writes  []int
		persist bool // persist and resume before Complete
		last    int
	}{
		{"empty", nil, false, 0},
		{"only last", nil, false, 4},
		{"part, empty last", []int{ps}, false, 0},
		{"persisted empty", nil, true, 0},
		{"persisted pending only", []int{10}, true, 0},
		{"persisted part, empty last", []int{ps}, true, 0},
	} {
		p := "/z/" + strconv.Itoa(i)
		hdr := header(t)
		up, err := b.CreateUpload(ctx(t), p, hdr)
		if err != nil {
			t.Fatal(err)
		}
		s := &stream{up: up}
		s.write(t, tc.writes...)
		if tc.persist {
			if err := up.Persist(ctx(t)); err != nil {
				t.Fatalf("%s: Persist: %v", tc.name, err)
			}
			if s.up, err = b.ResumeUpload(ctx(t), p); err != nil {
				t.Fatalf("%s: ResumeUpload: %v", tc.name, err)
			}
			if got := s.up.Size(); got != int64(len(s.want)) {
				t.Fatalf("%s: resumed Size = %d, want %d", tc.name, got, len(s.want))
			}
		}
		s.complete(t, tc.last)
		wantObject(t, b, p, hdr, s.want)
		if err := s.up.Complete(ctx(t), nil); err == nil {
			t.Fatalf("%s: second Complete succeeded", tc.name)
		}
		wantObject(t, b, p, hdr, s.want)
		wantSpoolEmpty(t, tc.name+": after Complete", cfg.SpoolDir)
	}
	wantList(t, "pending keys", e.pendingKeys(t, cfg), nil)
}

func testUploadErrors(t *testing.T, e *env) {
	cfg := uploadConfig(t, e)
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	up, err := b.CreateUpload(ctx(t), "/e/x", header(t))
	if err != nil {
		t.Fatal(err)
	}
	// Writes of any length are taken.
	if err := up.Write(ctx(t), []byte("short")); err != nil {
		t.Fatalf("short Write: %v", err)
	}
	if got := up.Size(); got != 5 {
		t.Fatalf("Size = %d, want 5", got)
	}
	_, err = b.ResumeUpload(ctx(t), "/e/none")
	wantErrIs(t, err, storage.ErrNoUpload)

	// The upload disappears behind the writer's back (another node aborted
	// it): the failing background part must surface, and the object must
	// not appear.
	abortBehind(t, e, b, "/e/x", up)
	part := random(t, ps)
	err = up.Write(ctx(t), part) // may fail now or surface later
	if err == nil {
		err = up.Complete(ctx(t), []byte("last"))
	}
	if err == nil {
		t.Fatal("writing to an aborted upload succeeded")
	}
	_, err = b.Stat(ctx(t), "/e/x")
	wantNotFound(t, err, "/e/x")

	// A failed part poisons the upload: later calls keep failing.
	if err := up.Write(ctx(t), part); err == nil {
		t.Fatal("Write after a failure succeeded")
	}
	if err := up.Complete(ctx(t), nil); err == nil {
		t.Fatal("Complete after a failure succeeded")
	}
	wantSpoolEmpty(t, "after a failed Complete", cfg.SpoolDir)

	// The failure surfaces from a later Write once the part has failed…
	up, err = b.CreateUpload(ctx(t), "/e/w", header(t))
	if err != nil {
		t.Fatal(err)
	}
	abortBehind(t, e, b, "/e/w", up)
	if err := up.Write(ctx(t), part); err == nil {
		c, deadline := ctx(t), time.Now().Add(20*time.Second)
		for up.Write(c, []byte{1}) == nil {
			if time.Now().After(deadline) {
				t.Fatal("Write keeps succeeding after a part failed")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got := up.Size(); got > int64(ps) {
		t.Fatalf("Size = %d counts the failed part", got)
	}
	if err := up.Persist(ctx(t)); err == nil {
		t.Fatal("Persist after a failed part succeeded")
	}
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSpoolEmpty(t, "after Abort of a failed upload", cfg.SpoolDir)

	// …and from Persist while it is in flight: no pending object is stored
	// for an upload that lost a part.
	up, err = b.CreateUpload(ctx(t), "/e/p", header(t))
	if err != nil {
		t.Fatal(err)
	}
	abortBehind(t, e, b, "/e/p", up)
	if err := up.Write(ctx(t), append(part, "tail"...)); err != nil {
		t.Fatalf("Write before the part failed: %v", err)
	}
	if err := up.Persist(ctx(t)); err == nil {
		t.Fatal("Persist of an upload with a failed part succeeded")
	}
	wantList(t, "pending keys after a failed Persist", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "after a failed Persist", cfg.SpoolDir)

	// A final part that fails (there is no other).
	up, err = b.CreateUpload(ctx(t), "/e/c", header(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Write(ctx(t), []byte("head")); err != nil {
		t.Fatal(err)
	}
	abortBehind(t, e, b, "/e/c", up)
	if err := up.Complete(ctx(t), []byte("last")); err == nil {
		t.Fatal("Complete of an aborted upload succeeded")
	}
	_, err = b.Stat(ctx(t), "/e/c")
	wantNotFound(t, err, "/e/c")
	wantSpoolEmpty(t, "after a failed final part", cfg.SpoolDir)

	// A part fails while the upload lives on (a network error, a 4xx): later
	// parts, the final part and completing would all succeed, and S3 would
	// assemble an object without the lost part. The loss must surface.
	// The failure comes late enough that the calls below find no error yet
	// when they start, and must wait for it.
	bf := e.backendWith(t, cfg)
	failParts(t, bf, cfg, 300*time.Millisecond, func(n int) bool { return n == 1 })
	upf, err := bf.CreateUpload(ctx(t), "/e/f1", header(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := upf.Write(ctx(t), part); err == nil { // part 1 fails
		c, deadline := ctx(t), time.Now().Add(20*time.Second)
		for upf.Write(c, []byte{1}) == nil {
			if time.Now().After(deadline) {
				t.Fatal("Write keeps succeeding after a part failed")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if got := upf.Size(); got >= int64(ps) {
		t.Fatalf("Size = %d counts the failed part", got)
	}
	if err := upf.Persist(ctx(t)); err == nil {
		t.Fatal("Persist after a failed part succeeded")
	}
	if err := upf.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	upf, err = bf.CreateUpload(ctx(t), "/e/f2", header(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := upf.Write(ctx(t), append(part, "tail"...)); err != nil {
		t.Fatalf("Write before the part failed: %v", err)
	}
	if err := upf.Persist(ctx(t)); err == nil {
		t.Fatal("Persist with a failed part succeeded")
	}
	if err := upf.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	upf, err = bf.CreateUpload(ctx(t), "/e/f3", header(t))
	if err != nil {
		t.Fatal(err)
	}
	// Part 1 fails in the background while part 2 is written: the failure
	// surfaces at the Write when the send has already failed by then (a
	// busy machine), else at Complete; either way nothing is stored.
	if err := upf.Write(ctx(t), append(part[:len(part):len(part)], part...)); err == nil {
		if err := upf.Complete(ctx(t), []byte("last")); err == nil {
			t.Fatal("Complete with a failed part succeeded")
		}
	} else if err := upf.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_, err = b.Stat(ctx(t), "/e/f3")
	wantNotFound(t, err, "/e/f3")
	_, err = b.ResumeUpload(ctx(t), "/e/f3")
	wantErrIs(t, err, storage.ErrNoUpload)
	wantList(t, "pending keys after failed parts", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "after failed parts", cfg.SpoolDir)

	wantList(t, "pending keys at the end", e.pendingKeys(t, cfg), nil)
}

// testUploadSpoolRelease: a part's spool file is gone once the part is
// done, i.e. by the time Persist, Complete or Abort (which wait for parts
// in flight) go on, not some time later.
func testUploadSpoolRelease(t *testing.T, e *env) {
	cfg := smallParts(t, e)
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	up, err := b.CreateUpload(ctx(t), "/sr/data", header(t))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Abort(ctx(t))
	u := up.(*upload)
	buf := make([]byte, ps)
	for i := range 6 {
		if err := up.Write(ctx(t), buf); err != nil {
			t.Fatal(err)
		}
		u.mu.Lock()
		u.waitLocked()
		u.mu.Unlock()
		wantSpoolEmpty(t, "part "+strconv.Itoa(i+1)+" done", cfg.SpoolDir)
	}
}

// testUploadPartMemory: uploads share the pool's budget; past it a part
// goes to a spool file, and both kinds assemble into the right bytes. Every
// buffer is back in the pool once the uploads end, and no spool file is
// left.
func testUploadPartMemory(t *testing.T, e *env) {
	cfg := smallParts(t, e)
	cfg.PartMemory = 2 * minPartSize // rounded to slots, a part is a bit more: one buffer
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	if b.pool.budget/int64(ps) != 1 {
		t.Fatalf("budget %d holds %d parts of %d, want 1", b.pool.budget, b.pool.budget/int64(ps), ps)
	}
	bodies := [][]byte{random(t, 3*ps+100), random(t, 2*ps+7)}
	ups := make([]storage.Upload, len(bodies))
	for i := range ups {
		up, err := b.CreateUpload(ctx(t), "/pm/"+strconv.Itoa(i), header(t))
		if err != nil {
			t.Fatal(err)
		}
		ups[i] = up
	}
	// Interleave the uploads so they compete for the one buffer.
	sawSpool := false
	for off := 0; ; off += crypt.SlotSize {
		done := true
		for i, up := range ups {
			if off >= len(bodies[i]) {
				continue
			}
			done = false
			end := min(off+crypt.SlotSize, len(bodies[i]))
			if err := up.Write(ctx(t), bodies[i][off:end]); err != nil {
				t.Fatal(err)
			}
			if u := up.(*upload); u.cur != nil && u.cur.f != nil {
				sawSpool = true
			}
			b.pool.mu.Lock()
			alloc := b.pool.alloc
			b.pool.mu.Unlock()
			if alloc > b.pool.budget {
				t.Fatalf("pool allocated %d bytes, budget %d", alloc, b.pool.budget)
			}
		}
		if done {
			break
		}
	}
	if !sawSpool {
		t.Error("no part went to the spool although the budget holds one part")
	}
	for i, up := range ups {
		if err := up.Complete(ctx(t), nil); err != nil {
			t.Fatal(err)
		}
		_, got := mustGet(t, b, "/pm/"+strconv.Itoa(i))
		wantEqual(t, "upload "+strconv.Itoa(i), got, bodies[i])
	}
	b.pool.mu.Lock()
	inUse := b.pool.inUse
	b.pool.mu.Unlock()
	if inUse != 0 {
		t.Errorf("%d bytes of part buffers still in use after Complete", inUse)
	}
	wantSpoolEmpty(t, "after Complete", cfg.SpoolDir)
}
