package s3

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// storedParts lists the sizes of the parts an upload has stored so far.
func storedParts(t *testing.T, b *Backend, p string) []int64 {
	t.Helper()
	_, _, h, err := b.core.GetObject(ctx(t), b.bucket, b.pendKey(p), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := uploadRecordOf(h)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.core.ListObjectParts(ctx(t), b.bucket, b.targetKey(rec.target), rec.uploadID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, pt := range res.ObjectParts {
		sizes = append(sizes, pt.Size)
	}
	return sizes
}

func wantSizes(t *testing.T, what string, got []int64, want ...int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: parts of %v bytes, want %v", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: parts of %v bytes, want %v", what, got, want)
		}
	}
}

// rewriteRecord stores the pending object at p again with its record
// changed by edit (as an older version, or a damaged store, left it).
func rewriteRecord(t *testing.T, b *Backend, p string, edit func(*uploadRecord)) {
	t.Helper()
	rc, _, h, err := b.core.GetObject(ctx(t), b.bucket, b.pendKey(p), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := uploadRecordOf(h)
	if err != nil {
		t.Fatal(err)
	}
	edit(&rec)
	meta, err := rec.meta()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.core.Client.PutObject(ctx(t), b.bucket, b.pendKey(p), bytes.NewReader(body), int64(len(body)),
		b.putOpts(meta)); err != nil {
		t.Fatal(err)
	}
}

// testUploadPartSize: an upload's part size is its own, decided by its
// first part, and every node that resumes it keeps it, whatever its own
// part_size says; records of older versions (no size) keep the size of
// their stored parts.
func testUploadPartSize(t *testing.T, e *env) {
	const slot = crypt.SlotSize
	cfg := uploadConfig(t, e)
	cfg.PartSize = 160 * slot
	b := e.backendWith(t, cfg)
	small := otherNode(t, cfg)
	small.PartSize = minPartSize // 80 slots
	bs := e.backendWith(t, small)

	// A first request that ends short of a part but past S3's minimum
	// (a mid-size layer in one PATCH) sends what it holds as part 1: its
	// whole segments; the pending object keeps only the rest.
	const p = "/ps/_uploads/a/data"
	hdr := header(t)
	up, err := b.CreateUpload(ctx(t), p, hdr)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{up: up}
	s.write(t, 100*slot, 7)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSizes(t, "after the first Persist", storedParts(t, b, p), 100*slot)
	if st, err := b.core.StatObject(ctx(t), b.bucket, b.pendKey(p), minio.StatObjectOptions{}); err != nil || st.Size != 7 {
		t.Fatalf("pending object: %d bytes, %v; want 7", st.Size, err)
	}
	// Another node with smaller parts continues at 100 slots.
	up, err = bs.ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	s.up = up
	s.write(t, 250*slot)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSizes(t, "after the second Persist", storedParts(t, b, p), 100*slot, 100*slot, 100*slot)
	up, err = b.ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	s.up = up
	s.complete(t, 3*slot)
	wantObject(t, b, p, hdr, s.want)

	// Short of S3's minimum nothing is decided yet: the node that sends
	// the first part decides, here by streaming past its own part size.
	const q = "/ps/_uploads/b/data"
	up, err = b.CreateUpload(ctx(t), q, hdr)
	if err != nil {
		t.Fatal(err)
	}
	s = &stream{up: up}
	s.write(t, 3*slot)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSizes(t, "after a small Persist", storedParts(t, b, q))
	if up, err = bs.ResumeUpload(ctx(t), q); err != nil {
		t.Fatal(err)
	}
	s.up = up
	s.write(t, 200*slot)
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSizes(t, "parts streamed by the small node", storedParts(t, b, q), 80*slot, 80*slot)

	// A record from before sizes were recorded: the stored parts say it.
	rewriteRecord(t, b, q, func(r *uploadRecord) { r.partSize = 0 })
	if up, err = b.ResumeUpload(ctx(t), q); err != nil {
		t.Fatal(err)
	}
	s.up = up
	s.write(t, 120*slot) // 43 slots pending before: two parts more
	if err := up.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wantSizes(t, "after resuming an old record", storedParts(t, b, q), 80*slot, 80*slot, 80*slot, 80*slot)

	// A record whose size its parts contradict is refused, not trusted.
	rewriteRecord(t, b, q, func(r *uploadRecord) { r.partSize = 90 * slot })
	if _, err := b.ResumeUpload(ctx(t), q); err == nil {
		t.Fatal("resuming parts of 80 slots recorded as 90 succeeded")
	}
	rewriteRecord(t, b, q, func(r *uploadRecord) { r.partSize = 80 * slot })
	if up, err = bs.ResumeUpload(ctx(t), q); err != nil {
		t.Fatal(err)
	}
	s.up = up
	s.complete(t, 11)
	wantObject(t, b, q, hdr, s.want)
	wantList(t, "pending keys at the end", e.pendingKeys(t, cfg), nil)
	wantSpoolEmpty(t, "at the end", cfg.SpoolDir, small.SpoolDir)
}

// testUploadPartWait: alone on a budget of one part, an upload waits for
// its part in flight to give the buffer back rather than spool.
func testUploadPartWait(t *testing.T, e *env) {
	if e.spoolOnly {
		t.Skip("no part memory")
	}
	cfg := smallParts(t, e)
	cfg.PartMemory = 2 * minPartSize // one part's buffer
	b := e.backendWith(t, cfg)
	ps := int(b.PartSize())
	hdr := header(t)
	up, err := b.CreateUpload(ctx(t), "/pw/x", hdr)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{up: up}
	for range 4 * ps / crypt.SlotSize {
		s.write(t, crypt.SlotSize)
		if u := up.(*upload); u.cur != nil && u.cur.f != nil {
			t.Fatalf("part %d went to a spool file", u.next)
		}
	}
	s.complete(t, 5)
	wantObject(t, b, "/pw/x", hdr, s.want)
	wantSpoolEmpty(t, "after Complete", cfg.SpoolDir)
}

// testUploadInstrumented: the node's latency instrumentation keeps the
// upload's Appender, so the writer seals straight into the part through it.
func testUploadInstrumented(t *testing.T, e *env) {
	b := storage.Instrument(e.backendWith(t, uploadConfig(t, e)), func(string, time.Duration) {})
	for _, open := range []func() (storage.Upload, error){
		func() (storage.Upload, error) { return b.CreateUpload(ctx(t), "/in/x", header(t)) },
		func() (storage.Upload, error) { return b.ResumeUpload(ctx(t), "/in/x") },
	} {
		up, err := open()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := up.(storage.Appender); !ok {
			t.Fatalf("the instrumented upload %T is not an Appender", up)
		}
		if err := up.Persist(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	up, err := b.ResumeUpload(ctx(t), "/in/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
}
