package lb

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// ErrTryTimeout is the error of an attempt that exceeded RetryOptions.PerTryTimeout.
var ErrTryTimeout = errors.New("lb: per-try timeout")

// RetryOptions configures retries of idempotent requests on a different
// backend. Zero values mean the documented defaults.
type RetryOptions struct {
	// Attempts is the number of tries per request, the first included. Zero
	// means 3; 1 disables retries.
	Attempts int
	// PerTryTimeout bounds the wait for each try's response headers. Zero
	// means no bound other than the request's context.
	PerTryTimeout time.Duration
	// Budget caps retries at this ratio of requests, so retries cannot
	// multiply the load on a struggling fleet (Finagle's retry budget).
	// Zero means 0.2; at most 1000.
	Budget float64
	// MinRetries is the reserve of retries always allowed, however few the
	// requests. Zero means 10; at most one million.
	MinRetries int
	// RetryStatus reports whether a response status is worth a retry on
	// another backend. Nil means 502, 503 and 504.
	RetryStatus func(status int) bool
}

func (o *RetryOptions) validate() error {
	bad := func(field string, v any) error {
		return fmt.Errorf("%w: Retry.%s %v: must be ≥ 0", ErrInvalidOptions, field, v)
	}
	switch {
	case o.Attempts < 0:
		return bad("Attempts", o.Attempts)
	case o.PerTryTimeout < 0:
		return bad("PerTryTimeout", o.PerTryTimeout)
	case o.Budget < 0 || o.Budget != o.Budget:
		return bad("Budget", o.Budget)
	case o.MinRetries < 0:
		return bad("MinRetries", o.MinRetries)
	case o.Budget > 1000: // beyond, the budget's arithmetic overflows
		return fmt.Errorf("%w: Retry.Budget %v: must be ≤ 1000", ErrInvalidOptions, o.Budget)
	case o.MinRetries > 1e6:
		return fmt.Errorf("%w: Retry.MinRetries %v: must be ≤ 1000000", ErrInvalidOptions, o.MinRetries)
	}
	if o.Attempts == 0 {
		o.Attempts = 3
	}
	if o.Budget == 0 {
		o.Budget = 0.2
	}
	if o.MinRetries == 0 {
		o.MinRetries = 10
	}
	if o.RetryStatus == nil {
		o.RetryStatus = func(s int) bool {
			return s == http.StatusBadGateway || s == http.StatusServiceUnavailable || s == http.StatusGatewayTimeout
		}
	}
	return nil
}

// budget is a token bucket in thousandths of a retry: every request
// deposits Budget, every retry withdraws one, the balance is capped so a
// quiet period cannot save up a retry storm.
type budget struct {
	balance atomic.Int64
	deposit int64
	limit   int64
}

func newBudget(o RetryOptions) *budget {
	b := &budget{deposit: int64(o.Budget * 1000), limit: int64(o.MinRetries) * 1000}
	b.limit = max(b.limit, b.deposit*100)
	b.balance.Store(int64(o.MinRetries) * 1000)
	return b
}

func (b *budget) request() {
	// A CAS loop rather than Add then Store(limit): the Store could erase a
	// concurrent withdrawal and grant a retry the budget never had.
	for {
		v := b.balance.Load()
		if v >= b.limit {
			return
		}
		if b.balance.CompareAndSwap(v, min(v+b.deposit, b.limit)) {
			return
		}
	}
}

func (b *budget) withdraw() bool {
	for {
		v := b.balance.Load()
		if v < 1000 {
			return false
		}
		if b.balance.CompareAndSwap(v, v-1000) {
			return true
		}
	}
}

// replayable reports whether r may be sent again: an idempotent method and
// no body to replay.
func replayable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return r.Body == nil || r.Body == http.NoBody
	}
	return false
}
