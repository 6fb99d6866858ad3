package s3

import "testing"

// TestPartPoolSizes: buffers of two part sizes share one budget; a free
// buffer of one size is given up to make room for the other, and the pool
// never holds more than its budget.
func TestPartPoolSizes(t *testing.T) {
	const unit = 64 << 10
	p := &partPool{budget: 10 * unit}
	check := func(what string) {
		t.Helper()
		if p.alloc > p.budget || p.nfree < 0 || p.inUse < 0 || p.inUse+p.nfree != p.alloc {
			t.Fatalf("%s: alloc %d, free %d, in use %d, budget %d", what, p.alloc, p.nfree, p.inUse, p.budget)
		}
	}
	a, b := p.get(4*unit), p.get(4*unit)
	if a == nil || b == nil || cap(a) != 4*unit || len(a) != 0 {
		t.Fatal("two buffers within the budget were refused or misshapen")
	}
	if p.get(4*unit) != nil {
		t.Fatal("a third buffer past the budget was handed out")
	}
	check("full")
	p.put(a)
	p.put(b)
	check("two free")
	c := p.get(6 * unit)
	if c == nil || cap(c) != 6*unit {
		t.Fatal("no room made for a buffer of another size")
	}
	check("after making room")
	if d := p.get(4 * unit); d == nil {
		t.Fatal("the free buffer left was not reused")
	} else {
		p.put(d)
	}
	if p.get(6*unit) != nil {
		t.Fatal("a buffer past the budget was handed out")
	}
	p.put(c)
	check("end")
	if p.inUse != 0 {
		t.Fatalf("%d bytes still in use", p.inUse)
	}
}
