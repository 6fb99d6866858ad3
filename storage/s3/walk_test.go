package s3

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
)

// testWalk is the Walk table of distribution's s3-aws driver test (same
// files, same expectations: S3 key order, hints as StartAfter), run with
// the normal page size and with pages of 2 keys to cross page boundaries.
func testWalk(t *testing.T, e *env) {
	b := e.backend(t)
	files := []string{
		"/file1",
		"/folder1-suffix/file1",
		"/folder1/file1",
		"/folder2/file1",
		"/folder3/subfolder1/subfolder1/file1",
		"/folder3/subfolder2/subfolder1/file1",
		"/folder4/file1",
	}
	for _, p := range files {
		mustPut(t, b, p, header(t), []byte("content "+p))
	}
	all := []string{
		"/file1",
		"/folder1-suffix", "/folder1-suffix/file1",
		"/folder1", "/folder1/file1",
		"/folder2", "/folder2/file1",
		"/folder3", "/folder3/subfolder1", "/folder3/subfolder1/subfolder1", "/folder3/subfolder1/subfolder1/file1",
		"/folder3/subfolder2", "/folder3/subfolder2/subfolder1", "/folder3/subfolder2/subfolder1/file1",
		"/folder4", "/folder4/file1",
	}
	noop := func(storagedriver.FileInfo) error { return nil }
	hint := storagedriver.WithStartAfterHint
	errFoo := errors.New("foo")
	cases := []struct {
		name    string
		from    string
		fn      storagedriver.WalkFn
		opts    []func(*storagedriver.WalkOptions)
		want    []string
		wantErr error
	}{
		{name: "walk all", fn: noop, want: all},
		{name: "skip directory", fn: func(fi storagedriver.FileInfo) error {
			if fi.Path() == "/folder3" {
				return storagedriver.ErrSkipDir
			}
			return nil
		}, want: []string{"/file1", "/folder1-suffix", "/folder1-suffix/file1", "/folder1", "/folder1/file1",
			"/folder2", "/folder2/file1", "/folder3", "/folder4", "/folder4/file1"}},
		{name: "skip nested directory", fn: func(fi storagedriver.FileInfo) error {
			if fi.Path() == "/folder3/subfolder1" {
				return storagedriver.ErrSkipDir
			}
			return nil
		}, from: "/folder3", want: []string{"/folder3/subfolder1", "/folder3/subfolder2",
			"/folder3/subfolder2/subfolder1", "/folder3/subfolder2/subfolder1/file1"}},
		{name: "skip on a file is ignored", fn: func(storagedriver.FileInfo) error { return storagedriver.ErrSkipDir },
			from: "/folder1", want: []string{"/folder1/file1"}},
		{name: "start late without from", fn: noop, opts: []func(*storagedriver.WalkOptions){hint("/folder3/subfolder1/subfolder1/file1")},
			want: []string{"/folder3", "/folder3/subfolder2", "/folder3/subfolder2/subfolder1",
				"/folder3/subfolder2/subfolder1/file1", "/folder4", "/folder4/file1"}},
		{name: "start late with from", from: "/folder3", fn: noop, opts: []func(*storagedriver.WalkOptions){hint("/folder3/subfolder1/subfolder1/file1")},
			want: []string{"/folder3/subfolder2", "/folder3/subfolder2/subfolder1", "/folder3/subfolder2/subfolder1/file1"}},
		{name: "start after from", from: "/folder1", fn: noop, opts: []func(*storagedriver.WalkOptions){hint("/folder2")}, want: nil},
		{name: "start matches from", from: "/folder3", fn: noop, opts: []func(*storagedriver.WalkOptions){hint("/folder3")},
			want: all[8:14]},
		{name: "start doesn't exist", from: "/folder3", fn: noop, opts: []func(*storagedriver.WalkOptions){hint("/folder3/notafolder/notafile")},
			want: all[8:14]},
		{name: "stop early", fn: func(fi storagedriver.FileInfo) error {
			if fi.Path() == "/folder1/file1" {
				return storagedriver.ErrFilledBuffer
			}
			return nil
		}, want: all[:5]},
		{name: "error", fn: func(storagedriver.FileInfo) error { return errFoo }, want: all[:1], wantErr: errFoo},
		{name: "from folder", from: "/folder1", fn: noop, want: []string{"/folder1/file1"}},
	}
	for _, pageSize := range []int{listMax, 2} {
		b.listMax = pageSize
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/pages-of-%d", tc.name, pageSize), func(t *testing.T) {
				from := tc.from
				if from == "" {
					from = "/"
				}
				var walked []string
				err := b.Walk(ctx(t), from, func(fi storagedriver.FileInfo) error {
					walked = append(walked, fi.Path())
					if !fi.IsDir() && fi.Size() != int64(len("content "+fi.Path())) {
						t.Errorf("%s: size %d", fi.Path(), fi.Size())
					}
					if fi.IsDir() != !strings.Contains(fi.Path(), "file1") {
						t.Errorf("%s: IsDir %v", fi.Path(), fi.IsDir())
					}
					return tc.fn(fi)
				}, tc.opts...)
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				wantList(t, "walked", walked, tc.want)
			})
		}
	}

	t.Run("missing", func(t *testing.T) {
		err := b.Walk(ctx(t), "/nope", noop)
		wantNotFound(t, err, "/nope")
		err = b.Walk(ctx(t), "/nope", noop, hint("/nope/a"))
		wantNotFound(t, err, "/nope")
		// A walk of the root of an empty store is not an error.
		if err := e.backendWith(t, e.config(t)).Walk(ctx(t), "/", noop); err != nil {
			t.Fatalf("Walk(/) on an empty store: %v", err)
		}
	})
}

// testWalkSkipJumps checks that ErrSkipDir on a big directory restarts the
// listing past it instead of paging through its keys.
func testWalkSkipJumps(t *testing.T, e *env) {
	cfg := e.config(t)
	b := e.backendWith(t, cfg)
	// Non-empty bodies, as every encrypted body is: a 0-byte object is a
	// pointer, which Walk HEADs for its size.
	body := []byte("sealed")
	mustPut(t, b, "/w/a/x", header(t), body)
	for i := range 40 {
		mustPut(t, b, fmt.Sprintf("/w/big/%02d/data", i), header(t), body)
	}
	mustPut(t, b, "/w/c/y", header(t), body)
	requests := countRequests(t, b, cfg)
	b.listMax = 5

	var walked []string
	err := b.Walk(ctx(t), "/w", func(fi storagedriver.FileInfo) error {
		walked = append(walked, fi.Path())
		if fi.Path() == "/w/big" {
			return storagedriver.ErrSkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantList(t, "walked", walked, []string{"/w/a", "/w/a/x", "/w/big", "/w/c", "/w/c/y"})
	// Paging through everything would take 9 listings of 5 keys.
	if n := requests.Load(); n > 3 {
		t.Fatalf("walk skipping /w/big sent %d requests, want at most 3", n)
	}
}

func TestNewDirs(t *testing.T) {
	for _, tc := range []struct {
		prev, p string
		want    []string
	}{
		{"/", "/a/b/c", []string{"/a", "/a/b"}},
		{"/a", "/a/b/c", []string{"/a/b"}},
		{"/a/b", "/a/b/c", nil},
		{"/a/b", "/a/c/d", []string{"/a/c"}},
		{"/a/b-c", "/a/b/x", []string{"/a/b"}}, // "b-c" is not inside "b"
		{"/a/b/c", "/a/d/e/f", []string{"/a/d", "/a/d/e"}},
		{"/a", "/a/b/", []string{"/a/b"}}, // a folder marker key
		{"/", "/f", nil},
	} {
		got := newDirs(tc.prev, tc.p)
		wantList(t, fmt.Sprintf("newDirs(%s, %s)", tc.prev, tc.p), got, tc.want)
	}
}
