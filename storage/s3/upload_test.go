package s3

import (
	"bytes"
	"testing"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

func testUploadAbort(t *testing.T, e *env) {
	b := e.backend(t)
	up, err := b.CreateUpload(ctx(t), "/up/abort", header(t))
	if err != nil {
		t.Fatal(err)
	}
	part := random(t, int(b.PartSize()))
	for range 2 {
		if err := up.WritePart(ctx(t), part); err != nil {
			t.Fatal(err)
		}
	}
	if got := up.Size(); got != 2*b.PartSize() {
		t.Fatalf("Size = %d, want %d", got, 2*b.PartSize())
	}
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	_, err = b.ResumeUpload(ctx(t), "/up/abort")
	wantErrIs(t, err, storage.ErrNoUpload)
	_, err = b.Stat(ctx(t), "/up/abort")
	wantNotFound(t, err, "/up/abort")
	if err := up.Abort(ctx(t)); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	if err := up.WritePart(ctx(t), part); err == nil {
		t.Fatal("WritePart after Abort succeeded")
	}
}

// testUploadResume writes parts through one Backend, resumes the upload in
// a new Backend (listing parts one per page), and completes it there.
func testUploadResume(t *testing.T, e *env) {
	cfg := e.config(t)
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
	var want []byte
	buf := make([]byte, ps) // reused for every part, as the writer does
	for i := range 3 {
		copy(buf, random(t, ps))
		want = append(want, buf...)
		if err := up.WritePart(ctx(t), buf); err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		buf[0] ^= 0xff // the backend must have copied the part
	}
	if got := up.Size(); got != int64(3*ps) {
		t.Fatalf("Size = %d, want %d", got, 3*ps)
	}

	b2 := e.backendWith(t, cfg)
	requests := countRequests(t, b2, cfg)
	b2.partsMax = 1 // every part on its own ListParts page
	b2.uploadsMax = 1
	up2, err := b2.ResumeUpload(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	// One ListMultipartUploads and one ListParts page per part (3): proof
	// that every page was read.
	if n := requests.Load(); n < 4 {
		t.Fatalf("ResumeUpload sent %d requests; pagination was not exercised", n)
	}
	if got := up2.Size(); got != int64(3*ps) {
		t.Fatalf("resumed Size = %d, want %d", got, 3*ps)
	}
	part4 := random(t, ps)
	if err := up2.WritePart(ctx(t), part4); err != nil {
		t.Fatal(err)
	}
	last := random(t, 1000)
	want = append(append(want, part4...), last...)
	if err := up2.Complete(ctx(t), last); err != nil {
		t.Fatal(err)
	}

	gotHdr, gotBody := mustGet(t, b, p)
	wantEqual(t, "header", gotHdr, hdr)
	wantEqual(t, "body", gotBody, want)
	fi, err := b.Stat(ctx(t), p)
	if err != nil || fi.Size != int64(len(want)) {
		t.Fatalf("Stat = %+v, %v; want size %d", fi, err, len(want))
	}
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

func testUploadZeroParts(t *testing.T, e *env) {
	b := e.backend(t)
	for _, tc := range []struct {
		name  string
		parts int
		last  []byte
	}{
		{"empty", 0, nil},
		{"only last", 0, []byte("tail")},
		{"parts, empty last", 1, nil},
	} {
		p := "/z/" + tc.name[:4]
		hdr := header(t)
		up, err := b.CreateUpload(ctx(t), p, hdr)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		for range tc.parts {
			part := random(t, int(b.PartSize()))
			want = append(want, part...)
			if err := up.WritePart(ctx(t), part); err != nil {
				t.Fatal(err)
			}
		}
		want = append(want, tc.last...)
		if err := up.Complete(ctx(t), tc.last); err != nil {
			t.Fatalf("%s: Complete: %v", tc.name, err)
		}
		gotHdr, gotBody := mustGet(t, b, p)
		wantEqual(t, tc.name+" header", gotHdr, hdr)
		wantEqual(t, tc.name+" body", gotBody, want)
		if err := up.Complete(ctx(t), nil); err == nil {
			t.Fatalf("%s: second Complete succeeded", tc.name)
		}
	}
}

func testUploadErrors(t *testing.T, e *env) {
	b := e.backend(t)
	up, err := b.CreateUpload(ctx(t), "/e/x", header(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.WritePart(ctx(t), []byte("short")); err == nil {
		t.Fatal("WritePart of a short part succeeded")
	}
	_, err = b.ResumeUpload(ctx(t), "/e/none")
	wantErrIs(t, err, storage.ErrNoUpload)

	// The upload disappears behind the writer's back (another node aborted
	// it): the failing background part must surface, and the object must
	// not appear.
	other, err := e.backend(t).ResumeUpload(ctx(t), "/e/x")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Abort(ctx(t)); err != nil {
		t.Fatal(err)
	}
	part := random(t, int(b.PartSize()))
	err = up.WritePart(ctx(t), part) // may fail now or surface later
	if err == nil {
		err = up.Complete(ctx(t), []byte("last"))
	}
	if err == nil {
		t.Fatal("writing to an aborted upload succeeded")
	}
	_, err = b.Stat(ctx(t), "/e/x")
	wantNotFound(t, err, "/e/x")

	// A failed part poisons the upload: later calls keep failing.
	if err := up.WritePart(ctx(t), part); err == nil {
		t.Fatal("WritePart after a failure succeeded")
	}

	// Parts of another size (a changed part_size) are refused on resume.
	up3, err := b.CreateUpload(ctx(t), "/e/y", header(t))
	if err != nil {
		t.Fatal(err)
	}
	defer up3.Abort(ctx(t))
	if err := up3.WritePart(ctx(t), bytes.Repeat([]byte{1}, int(b.PartSize()))); err != nil {
		t.Fatal(err)
	}
	_ = up3.Size()
	cfg := e.config(t)
	cfg.PartSize = 2 * b.PartSize()
	if _, err := e.backendWith(t, cfg).ResumeUpload(ctx(t), "/e/y"); err == nil {
		t.Fatal("resuming with a different part size succeeded")
	}
}
