//go:build unix

package s3

import "syscall"

// allocPartBuf returns an empty buffer of capacity n for the part pool,
// mapped outside the Go heap: the pool keeps its buffers for good, and on
// the heap they would also raise the garbage collector's target by as much
// again (GOGC), which put 32 concurrent pushes over their RSS goal. Pages
// cost RSS only once touched.
func allocPartBuf(n int64) []byte {
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, 0, n)
	}
	return b[:0]
}

// freePartBuf unmaps a buffer allocPartBuf returned.
func freePartBuf(b []byte) {
	if err := syscall.Munmap(b[:cap(b)]); err != nil {
		_ = err // a heap buffer (allocPartBuf's fallback): the GC has it
	}
}
