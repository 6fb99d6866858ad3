package storage

import "testing"

// SetBigChunkMin makes reads of segs segments and more take big chunks
// for the rest of the test, so that tests reach them with small objects.
func SetBigChunkMin(t testing.TB, segs uint64) {
	old := bigMin
	bigMin = segs
	t.Cleanup(func() { bigMin = old })
}
