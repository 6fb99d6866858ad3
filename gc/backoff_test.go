package gc

import (
	"testing"
	"time"
)

// A review failing again and again backs off per blob, up to the cap.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Collector{Now: func() time.Time { return now }}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{1, 2 * time.Minute}, {2, 4 * time.Minute}, {3, 8 * time.Minute}, {5, 32 * time.Minute}, {6, time.Hour}, {40, time.Hour}} {
		if got := c.retryAfter(tc.failures).Sub(now); got != tc.want {
			t.Errorf("after %d failures: %v, want %v", tc.failures, got, tc.want)
		}
	}
}
