package ecrapi

import (
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
