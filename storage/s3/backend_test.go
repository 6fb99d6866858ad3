package s3

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"

	"github.com/berth-registry/berth/storage"
	"github.com/berth-registry/berth/storage/crypt"
)

// TestBackend runs the Backend contract against a real MinIO. Every subtest
// has its own prefix in one bucket, so they run in parallel.
func TestBackend(t *testing.T) {
	e := newEnv(t)
	for name, fn := range map[string]func(*testing.T, *env){
		"PutGet":     testPutGet,
		"Header":     testHeader,
		"Stat":       testStat,
		"List":       testList,
		"Move":       testMove,
		"Delete":     testDelete,
		"Walk":       testWalk,
		"WalkSkip":   testWalkSkipJumps,
		"Sidecars":   testSidecars,
		"Namespace":  testNamespace,
		"UploadAbrt": testUploadAbort,
		"UploadRes":  testUploadResume,
		"UploadZero": testUploadZeroParts,
		"UploadErrs": testUploadErrors,
		"UploadOdd":  testUploadOddWrites,
		"UploadPers": testUploadPersist,
		"UploadFgn":  testUploadForeignPending,
		"UploadSpl":  testUploadSpoolRelease,
		"Pointers":   testPointers,
		"Payloads":   testPayloads,
		"UploadMem":  testUploadPartMemory,
		"UploadSize": testUploadPartSize,
		"UploadWait": testUploadPartWait,
		"UploadInst": testUploadInstrumented,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
		if strings.HasPrefix(name, "Upload") {
			// Again with every part through a spool file, the path taken
			// once the part pool's budget is spent.
			es := *e
			es.spoolOnly = true
			t.Run(name+"Spool", func(t *testing.T) {
				t.Parallel()
				fn(t, &es)
			})
		}
	}
}

func testPutGet(t *testing.T, e *env) {
	b := e.backend(t)
	hdr := header(t)
	body := random(t, 3*crypt.SlotSize+17)
	size := int64(len(body))
	mustPut(t, b, "/a/obj", hdr, body)
	mustPut(t, b, "/a/empty", hdr, nil)

	for _, tc := range []struct {
		path string
		off  int64
		want []byte
	}{
		{"/a/obj", 0, body},
		{"/a/obj", 1, body[1:]},
		{"/a/obj", crypt.SlotSize, body[crypt.SlotSize:]},
		{"/a/obj", size - 1, body[size-1:]},
		{"/a/obj", size, nil},
		{"/a/obj", size + 1, nil},
		{"/a/obj", size + 1<<20, nil},
		{"/a/empty", 0, nil},
		{"/a/empty", 1, nil},
	} {
		gotHdr, gotSize, rc, err := b.Get(ctx(t), tc.path, tc.off)
		if err != nil {
			t.Fatalf("Get(%s, %d): %v", tc.path, tc.off, err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("Get(%s, %d) read: %v", tc.path, tc.off, err)
		}
		wantEqual(t, "header", gotHdr, hdr)
		wantSize := size
		if tc.path == "/a/empty" {
			wantSize = 0
		}
		if gotSize != wantSize {
			t.Fatalf("Get(%s, %d) size %d, want %d", tc.path, tc.off, gotSize, wantSize)
		}
		wantEqual(t, "body", got, tc.want)
	}

	// Overwrite replaces header and body together.
	hdr2, body2 := header(t), []byte("short")
	mustPut(t, b, "/a/obj", hdr2, body2)
	gotHdr, got := mustGet(t, b, "/a/obj")
	wantEqual(t, "new header", gotHdr, hdr2)
	wantEqual(t, "new body", got, body2)

	_, _, _, err := b.Get(ctx(t), "/a/missing", 0)
	wantNotFound(t, err, "/a/missing")
	_, _, _, err = b.Get(ctx(t), "/a/missing", 10)
	wantNotFound(t, err, "/a/missing")
	_, _, _, err = b.Get(ctx(t), "/a/obj", -1)
	if _, ok := err.(storagedriver.InvalidOffsetError); !ok {
		t.Fatalf("negative offset: got %v, want InvalidOffsetError", err)
	}
}

func testHeader(t *testing.T, e *env) {
	b := e.backend(t)
	hdr, body := header(t), random(t, 1000)
	mustPut(t, b, "/h/obj", hdr, body)
	got, err := b.Header(ctx(t), "/h/obj")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "Header", got, hdr)

	// SetHeader through both copy paths: PUT-copy, and ComposeObject (used
	// above 5 GiB; forced here by lowering the threshold).
	for _, copyMax := range []int64{maxCopySize, 0} {
		b.copyMax = copyMax
		hdr2 := header(t)
		if err := b.SetHeader(ctx(t), "/h/obj", hdr2); err != nil {
			t.Fatalf("SetHeader (copyMax %d): %v", copyMax, err)
		}
		gotHdr, gotBody := mustGet(t, b, "/h/obj")
		wantEqual(t, "header after SetHeader", gotHdr, hdr2)
		wantEqual(t, "body after SetHeader", gotBody, body)
	}
	wantNotFound(t, b.SetHeader(ctx(t), "/h/missing", hdr), "/h/missing")
	_, err = b.Header(ctx(t), "/h/missing")
	wantNotFound(t, err, "/h/missing")
}

func testStat(t *testing.T, e *env) {
	b := e.backend(t)
	body := random(t, 4321)
	before := time.Now().Add(-time.Minute)
	mustPut(t, b, "/s/dir/file", header(t), body)
	mustPut(t, b, "/s/x/bc", header(t), []byte("x"))

	fi, err := b.Stat(ctx(t), "/s/dir/file")
	if err != nil {
		t.Fatal(err)
	}
	if fi.IsDir || fi.Size != int64(len(body)) || fi.Path != "/s/dir/file" || fi.ModTime.Before(before) {
		t.Fatalf("Stat(file) = %+v, want a file of %d bytes (header excluded)", fi, len(body))
	}
	for _, dir := range []string{"/s", "/s/dir", "/"} {
		fi, err := b.Stat(ctx(t), dir)
		if err != nil || !fi.IsDir || fi.Path != dir {
			t.Fatalf("Stat(%s) = %+v, %v; want a directory", dir, fi, err)
		}
	}
	// "/s/x/b" is a prefix of the key "/s/x/bc" but neither file nor dir.
	for _, p := range []string{"/s/missing", "/s/x/b", "/s/dir/fil"} {
		_, err := b.Stat(ctx(t), p)
		wantNotFound(t, err, p)
	}
}

func testList(t *testing.T, e *env) {
	b := e.backend(t)
	got, err := b.List(ctx(t), "/")
	if err != nil || len(got) != 0 {
		t.Fatalf("List(/) on an empty store = %q, %v; want empty, no error", got, err)
	}
	for _, p := range []string{"/top", "/l/a", "/l/b/c", "/l/b/d/e", "/l/bc", "/l/b-x/f"} {
		mustPut(t, b, p, header(t), []byte(p))
	}
	got, err = b.List(ctx(t), "/")
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "List(/)", sorted(got), []string{"/l", "/top"})
	got, err = b.List(ctx(t), "/l")
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "List(/l)", sorted(got), []string{"/l/a", "/l/b", "/l/b-x", "/l/bc"})

	// Pagination of the delimited listing.
	b.listMax = 2
	got, err = b.List(ctx(t), "/l")
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "List(/l) in pages of 2", sorted(got), []string{"/l/a", "/l/b", "/l/b-x", "/l/bc"})

	for _, p := range []string{"/nope", "/l/b/c/x", "/l/bcd"} {
		_, err := b.List(ctx(t), p)
		wantNotFound(t, err, p)
	}
}

func testMove(t *testing.T, e *env) {
	b := e.backend(t)
	for _, copyMax := range []int64{maxCopySize, 0} {
		b.copyMax = copyMax
		hdr, body := header(t), random(t, 70000)
		mustPut(t, b, "/m/src", hdr, body)
		mustPut(t, b, "/m/dst", header(t), []byte("old destination"))
		if err := b.Move(ctx(t), "/m/src", "/m/dst"); err != nil {
			t.Fatalf("Move (copyMax %d): %v", copyMax, err)
		}
		gotHdr, gotBody := mustGet(t, b, "/m/dst")
		wantEqual(t, "moved header", gotHdr, hdr)
		wantEqual(t, "moved body", gotBody, body)
		_, err := b.Stat(ctx(t), "/m/src")
		wantNotFound(t, err, "/m/src")
	}

	// Move to a new path, and a missing source leaves the destination.
	mustPut(t, b, "/m/a", header(t), []byte("a"))
	if err := b.Move(ctx(t), "/m/a", "/m/new/dir/a"); err != nil {
		t.Fatal(err)
	}
	hdr := header(t)
	mustPut(t, b, "/m/keep", hdr, []byte("keep"))
	wantNotFound(t, b.Move(ctx(t), "/m/missing", "/m/keep"), "/m/missing")
	gotHdr, gotBody := mustGet(t, b, "/m/keep")
	wantEqual(t, "untouched header", gotHdr, hdr)
	wantEqual(t, "untouched body", gotBody, []byte("keep"))
}

func testDelete(t *testing.T, e *env) {
	b := e.backend(t)
	b.listMax = 3 // remove in several batches
	// No file "/d/a" beside the directory: MinIO cannot hold an object and
	// a prefix of the same name (AWS can; the registry never does it).
	del := []string{"/d/a/b", "/d/a/c/d", "/d/a/c/e", "/d/a/f", "/d/a/g/h/i", "/d/a/j"}
	keep := []string{"/d/ab", "/d/a-x", "/d/a.y/z", "/d/b"}
	for _, p := range append(del, keep...) {
		mustPut(t, b, p, header(t), []byte(p))
	}
	// An upload in progress below the deleted path is aborted with it. It
	// has a sidecar, as every upload has after its first request: MinIO
	// finds uploads by exact key only, and the sidecars provide the keys.
	up, err := b.CreateUpload(ctx(t), "/d/a/_uploads/x/data", header(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := up.Write(ctx(t), make([]byte, b.PartSize())); err != nil {
		t.Fatal(err)
	}
	if err := up.Persist(ctx(t)); err != nil { // waits for the part
		t.Fatal(err)
	}
	if err := b.PutSidecar(ctx(t), "/d/a/_uploads/x/data", []byte("state")); err != nil {
		t.Fatal(err)
	}
	keepUp, err := b.CreateUpload(ctx(t), "/d/ab/data", header(t))
	if err != nil {
		t.Fatal(err)
	}
	defer keepUp.Abort(ctx(t))
	if err := keepUp.Persist(ctx(t)); err != nil {
		t.Fatal(err)
	}

	if err := b.Delete(ctx(t), "/d/a"); err != nil {
		t.Fatal(err)
	}
	for _, p := range del {
		_, err := b.Stat(ctx(t), p)
		wantNotFound(t, err, p)
	}
	for _, p := range keep {
		if _, err := b.Stat(ctx(t), p); err != nil {
			t.Fatalf("Stat(%s) after deleting /d/a: %v", p, err)
		}
	}
	_, err = b.ResumeUpload(ctx(t), "/d/a/_uploads/x/data")
	wantErrIs(t, err, storage.ErrNoUpload)
	if _, err := b.ResumeUpload(ctx(t), "/d/ab/data"); err != nil {
		t.Fatalf("upload at /d/ab/data should survive deleting /d/a: %v", err)
	}
	wantNotFound(t, b.Delete(ctx(t), "/d/a"), "/d/a")
	wantNotFound(t, b.Delete(ctx(t), "/nothing"), "/nothing")

	// A lone file, and a directory without a file of its name.
	if err := b.Delete(ctx(t), "/d/b"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx(t), "/d/a.y"); err != nil {
		t.Fatal(err)
	}
	got, err := b.List(ctx(t), "/d")
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "List(/d) after deletes", sorted(got), []string{"/d/a-x", "/d/ab"})
}

func testSidecars(t *testing.T, e *env) {
	b := e.backend(t)
	_, err := b.GetSidecar(ctx(t), "/u/a")
	wantErrIs(t, err, storage.ErrNoUpload)
	data := random(t, 300)
	// As in testDelete, no sidecar "/u/a" beside the directory "/u/a/".
	for _, p := range []string{"/u/x", "/u/a/b", "/u/a/c/d", "/u/ab"} {
		if err := b.PutSidecar(ctx(t), p, append([]byte(p), data...)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.GetSidecar(ctx(t), "/u/a/b")
	if err != nil {
		t.Fatal(err)
	}
	wantEqual(t, "sidecar", got, append([]byte("/u/a/b"), data...))
	// Empty sidecars round-trip too.
	if err := b.PutSidecar(ctx(t), "/u/empty", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetSidecar(ctx(t), "/u/empty"); err != nil || len(got) != 0 {
		t.Fatalf("empty sidecar: %q, %v", got, err)
	}

	if err := b.DeleteSidecars(ctx(t), "/u/a"); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteSidecars(ctx(t), "/u/x"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/u/x", "/u/a/b", "/u/a/c/d"} {
		_, err := b.GetSidecar(ctx(t), p)
		wantErrIs(t, err, storage.ErrNoUpload)
	}
	if _, err := b.GetSidecar(ctx(t), "/u/ab"); err != nil {
		t.Fatalf("sidecar /u/ab should survive DeleteSidecars(/u/a): %v", err)
	}
	if err := b.DeleteSidecars(ctx(t), "/u/none"); err != nil {
		t.Fatalf("DeleteSidecars of nothing: %v", err)
	}
}

// testNamespace checks the bucket layout: objects under <prefix>/data,
// sidecars and uploads invisible to List and Walk.
func testNamespace(t *testing.T, e *env) {
	cfg := e.config(t)
	b := e.backendWith(t, cfg)
	mustPut(t, b, "/n/obj", header(t), []byte("x"))
	if err := b.PutSidecar(ctx(t), "/n/up", []byte("state")); err != nil {
		t.Fatal(err)
	}
	up, err := b.CreateUpload(ctx(t), "/n/up", header(t))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Abort(ctx(t))

	wantList(t, "raw keys", e.rawKeys(t, cfg.prefix()), []string{cfg.prefix() + "data/n/obj", cfg.prefix() + "uploads/n/up"})
	got, err := b.List(ctx(t), "/n")
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "List(/n)", got, []string{"/n/obj"})
	var walked []string
	if err := b.Walk(ctx(t), "/", func(fi storagedriver.FileInfo) error {
		walked = append(walked, fi.Path())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantList(t, "Walk(/)", walked, []string{"/n", "/n/obj"})
}

func TestReadyOutage(t *testing.T) {
	e := newEnv(t)
	b := e.backend(t)
	if err := b.Ready(ctx(t)); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	e.m.Stop()
	start := time.Now()
	if err := b.Ready(ctx(t)); err == nil {
		t.Fatal("Ready succeeded while MinIO is down")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Ready took %s to fail; a probe must fail fast", d)
	}
	e.m.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := b.Ready(ctx(t))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ready still failing after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The data survived the restart and ordinary calls work again.
	mustPut(t, b, "/after", header(t), []byte("ok"))
	if _, body := mustGet(t, b, "/after"); !bytes.Equal(body, []byte("ok")) {
		t.Fatal("wrong body after restart")
	}

	cfg := e.config(t)
	cfg.Bucket = "no-such-bucket"
	if err := e.backendWith(t, cfg).Ready(ctx(t)); err == nil {
		t.Fatal("Ready succeeded for a missing bucket")
	}
}
