package s3

import (
	"context"
	"path"
	"slices"
	"strings"

	storagedriver "github.com/distribution/distribution/v3/registry/storage/driver"
	"github.com/minio/minio-go/v7"
)

// skipAfter sorts after every key below a directory: keys are UTF-8, and no
// code point is above U+10FFFF.
const skipAfter = "/\U0010FFFF"

// Walk implements storage.Backend with recursive listings (no delimiter):
// one request per 1000 keys instead of one List per directory. Directories
// are inferred from the keys, which S3 returns sorted, so every directory's
// keys are contiguous and each directory is reported once, just before its
// first entry.
//
// Order is S3's key order, as in distribution's s3-aws driver: depth-first,
// but "a-b" and "a.b" come before "a" because '-' and '.' sort before '/'.
// StartAfterHint uses the same order (it becomes ListObjectsV2's
// StartAfter), so hint-based pagination is consistent with the walk.
//
// ErrSkipDir on directory D: the rest of the current page is filtered, and
// if the page ends inside D the next listing starts after everything below
// D (StartAfter = D+"/\U0010FFFF") instead of paging through it. Skipping
// the repositories of a catalog or the tags of a repository so costs about
// one request per skipped directory with many keys, not one per 1000 keys
// below it.
//
// A walk below a directory that does not exist (other than the root) is a
// PathNotFoundError, as in the List-based walk of distribution's other
// drivers; tag listing turns it into "repository unknown".
func (b *Backend) Walk(ctx context.Context, from string, fn storagedriver.WalkFn, opts ...func(*storagedriver.WalkOptions)) error {
	if err := checkPath(from, true); err != nil {
		return err
	}
	var wo storagedriver.WalkOptions
	for _, o := range opts {
		o(&wo)
	}
	w := walker{b: b, ctx: ctx, fn: fn, prevDir: from}
	prefix := b.dirKey(from)
	cursor := ""
	if wo.StartAfterHint != "" {
		cursor = b.objKey(wo.StartAfterHint)
	}
	seen := false
	for {
		n, restart := 0, false
		for obj := range b.core.Client.ListObjectsIter(ctx, b.bucket, minio.ListObjectsOptions{
			Prefix: prefix, Recursive: true, StartAfter: cursor, MaxKeys: b.listMax, FetchOwner: &noOwner,
		}) {
			if obj.Err != nil {
				return wrap("walk", from, obj.Err)
			}
			seen = true
			n++
			cursor = obj.Key
			stop, err := w.visit(obj)
			if err != nil || stop {
				return err
			}
			if n == b.listMax {
				// End of a page: continue with a fresh listing from the
				// cursor, which may jump past a skipped directory.
				if w.skipDir != "" && isSubpath(b.regPath(obj.Key), w.skipDir) {
					cursor = max(cursor, b.objKey(w.skipDir)+skipAfter)
				}
				restart = true
				break
			}
		}
		if err := ctx.Err(); err != nil {
			return wrap("walk", from, err)
		}
		if !restart {
			break
		}
	}
	if !seen && from != "/" {
		// Nothing listed: either from does not exist, or the hint is past
		// its last key.
		found := false
		if wo.StartAfterHint != "" {
			var err error
			if found, err = b.anyBelow(ctx, prefix); err != nil {
				return wrap("walk", from, err)
			}
		}
		if !found {
			return storagedriver.PathNotFoundError{Path: from}
		}
	}
	return nil
}

// walker is the state of one Walk across listing pages.
type walker struct {
	b       *Backend
	ctx     context.Context
	fn      storagedriver.WalkFn
	prevDir string // the last directory reported (or the walk's root)
	skipDir string // the last directory the callback skipped
}

// visit reports the directories new with obj and then obj itself. stop
// means the walk is over (ErrFilledBuffer, or err from the callback).
func (w *walker) visit(obj minio.ObjectInfo) (stop bool, err error) {
	p := w.b.regPath(obj.Key)
	if w.skipDir != "" && isSubpath(p, w.skipDir) {
		return false, nil
	}
	for _, d := range newDirs(w.prevDir, p) {
		w.prevDir = d
		fi := storagedriver.FileInfoInternal{FileInfoFields: storagedriver.FileInfoFields{Path: d, IsDir: true}}
		switch err := w.fn(fi); err {
		case nil:
		case storagedriver.ErrSkipDir:
			// Everything still to report for obj is below d.
			w.skipDir = d
			return false, nil
		case storagedriver.ErrFilledBuffer:
			return true, nil
		default:
			return true, err
		}
	}
	if strings.HasSuffix(p, "/") {
		// A "folder marker" object (made by other tools, or left behind):
		// it stands for its directory, already reported above.
		return false, nil
	}
	size := obj.Size
	if size == 0 {
		// A pointer: its body's size is in its metadata.
		ptr, ok, err := w.b.pointerAt(w.ctx, obj.Key)
		if err != nil {
			return true, err
		}
		if ok {
			size = ptr.size
		}
	}
	fi := storagedriver.FileInfoInternal{FileInfoFields: storagedriver.FileInfoFields{
		Path: p, Size: size, ModTime: obj.LastModified,
	}}
	switch err := w.fn(fi); err {
	case nil, storagedriver.ErrSkipDir: // nothing to skip below a file
		return false, nil
	case storagedriver.ErrFilledBuffer:
		return true, nil
	default:
		return true, err
	}
}

// newDirs lists the directories above p, outermost first, that have not
// been reported yet: those that are neither prev nor above prev. Because
// keys arrive sorted, a directory above prev was reported before prev.
func newDirs(prev, p string) []string {
	var dirs []string
	for d := path.Dir(p); d != "/" && d != "." && !isSubpath(prev, d); d = path.Dir(d) {
		dirs = append(dirs, d)
	}
	slices.Reverse(dirs)
	return dirs
}

// isSubpath reports whether p is dir or below it.
func isSubpath(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}
