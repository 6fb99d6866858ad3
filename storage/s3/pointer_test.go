package s3

import (
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
)

// testPointers: an uploaded object's body sits behind a pointer, so Move
// copies no data, SetHeader keeps the body, Walk and Stat report the body's
// size, and every way a pointer goes away takes its body along.
func testPointers(t *testing.T, e *env) {
	cfg := uploadConfig(t, e)
	b := e.backendWith(t, cfg)
	bodies := func() []string { t.Helper(); return e.rawKeys(t, cfg.prefix()+"objects/") }
	upload := func(p string, body []byte) []byte {
		t.Helper()
		hdr := header(t)
		up, err := b.CreateUpload(ctx(t), p, hdr)
		if err != nil {
			t.Fatal(err)
		}
		if err := up.Complete(ctx(t), body); err != nil {
			t.Fatal(err)
		}
		return hdr
	}

	body := random(t, 3*int(b.PartSize())/2)
	hdr := upload("/pt/_uploads/u1/data", body)
	if n := len(bodies()); n != 1 {
		t.Fatalf("%d bodies after one upload", n)
	}
	before := bodies()[0]
	if err := b.Move(ctx(t), "/pt/_uploads/u1/data", "/pt/blobs/x/data"); err != nil {
		t.Fatal(err)
	}
	if got := bodies(); len(got) != 1 || got[0] != before {
		t.Fatalf("Move touched the body: %v, was %s", got, before)
	}
	wantObject(t, b, "/pt/blobs/x/data", hdr, body)
	// Ranged reads go through the pointer.
	_, size, rc, err := b.Get(ctx(t), "/pt/blobs/x/data", 1000)
	if err != nil || size != int64(len(body)) {
		t.Fatalf("ranged Get: %d %v", size, err)
	}
	rc.Close()

	// SetHeader on a pointer keeps it pointing at the body.
	hdr2 := header(t)
	if err := b.SetHeader(ctx(t), "/pt/blobs/x/data", hdr2); err != nil {
		t.Fatal(err)
	}
	wantObject(t, b, "/pt/blobs/x/data", hdr2, body)

	// Walk reports the body's size, not the pointer's.
	var walked int64 = -1
	if err := b.Walk(ctx(t), "/pt/blobs", func(fi storagedriver.FileInfo) error {
		if fi.Path() == "/pt/blobs/x/data" {
			walked = fi.Size()
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if walked != int64(len(body)) {
		t.Fatalf("Walk size %d, want %d", walked, len(body))
	}

	// A Move onto a pointer and a Complete onto one leave no orphan body.
	upload("/pt/_uploads/u2/data", random(t, 10))
	if err := b.Move(ctx(t), "/pt/_uploads/u2/data", "/pt/blobs/x/data"); err != nil {
		t.Fatal(err)
	}
	if n := len(bodies()); n != 1 {
		t.Fatalf("%d bodies after overwriting by Move, want 1", n)
	}
	upload("/pt/blobs/x/data", random(t, 20))
	if n := len(bodies()); n != 1 {
		t.Fatalf("%d bodies after overwriting by Complete, want 1", n)
	}
	// Delete of the object, or of a directory above it, removes the body.
	upload("/pt/blobs/y/data", random(t, 30))
	if err := b.Delete(ctx(t), "/pt/blobs/x/data"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx(t), "/pt"); err != nil {
		t.Fatal(err)
	}
	if got := bodies(); len(got) != 0 {
		t.Fatalf("bodies left after Delete: %v", got)
	}
}
