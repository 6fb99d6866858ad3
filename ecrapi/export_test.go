package ecrapi

import (
	"slices"
	"time"

	"golang.org/x/sync/semaphore"
)

// SetBodyBudget replaces a's body budget and how long calls wait for it.
func SetBodyBudget(a *API, n int64, wait time.Duration) {
	a.bodies = semaphore.NewWeighted(n)
	budgetWait = wait
}

// BodyLimit is bodyLimit, for the tests.
func BodyLimit(op string) int64 { return bodyLimit(op) }

// Operations lists the registered operations, sorted.
func Operations() []string {
	a := New(Deps{})
	ops := make([]string, 0, len(a.ops))
	for name := range a.ops {
		ops = append(ops, name)
	}
	slices.Sort(ops)
	return ops
}
