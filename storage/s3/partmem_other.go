//go:build !unix

package s3

// allocPartBuf returns an empty buffer of capacity n for the part pool.
func allocPartBuf(n int64) []byte { return make([]byte, 0, n) }

// freePartBuf lets the garbage collector have b.
func freePartBuf([]byte) {}
