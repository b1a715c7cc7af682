package lb

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrTryTimeout is the error of an attempt that exceeded
// RetryOptions.PerTryTimeout or was abandoned on a hung backend (see
// RetryOptions.StallTimeout).
var ErrTryTimeout = errors.New("lb: per-try timeout")

// RetryOptions configures retries on a different backend. Zero values mean
// the documented defaults.
//
// Two kinds of retry are made. A request that never reached a backend (the
// connection was refused or failed before the request's headers were
// written, or the backend closed an idle connection as it was reused) is
// always safe to send elsewhere, whatever its method: it is tried on each
// eligible backend at most once, outside Attempts and the budget. A request
// that did reach a backend is retried only if it is idempotent without a
// body (GET, HEAD, OPTIONS, TRACE, PUT, DELETE), after an error, a
// RetryStatus status or a per-try timeout, at most Attempts tries in all,
// within the retry budget. A try abandoned on a hung backend (StallTimeout)
// is retried without drawing on the budget.
//
// With IdempotencyKeyHeader set, a request of any method carrying that
// header (draft-ietf-httpapi-idempotency-key-header: the backend records
// the key with the work, so a repeat returns the first outcome instead of
// doing the work twice) is retried under the same rules, its body buffered
// for the replay up to ReplayBodyLimit. A request with a body, a PUT
// included, is resent after it reached a backend only this way: keyed and
// within the limit.
type RetryOptions struct {
	// Attempts is the number of tries per request, the first included, for
	// requests that reached a backend. Zero means 3; 1 disables those
	// retries.
	Attempts int
	// PerTryTimeout bounds the wait for each try's response headers; a try
	// exceeding it fails with ErrTryTimeout (504 if not retried). Zero means
	// 15s, Envoy's route timeout. The wait cannot be unbounded: for long
	// polls set a large value, such as 24h.
	PerTryTimeout time.Duration
	// StallTimeout detects a hung backend (a stopped process, a deadlocked
	// server: the kernel still accepts its connections, so nothing fails
	// fast). A try that has waited StallTimeout for its response headers,
	// while its backend has answered nothing since the try was sent, was
	// given a second try since its last answer, and another backend has
	// answered a request sent after that second one in less than half of
	// StallTimeout, marks the backend hung: it is ejected (within
	// OutlierOptions.MaxEjectedShare), and a try on it that can be retried
	// is abandoned and retried elsewhere at once. A backend that is merely
	// slow still answers something, one busy with a lone slow request at
	// low traffic was given nothing else, and a fleet that is slow
	// everywhere has nobody overtaking it quickly, so none is judged hung.
	// A client that gives up after StallTimeout on a backend that answered
	// nothing meanwhile also counts as a failure of it.
	// Zero means 1s; < 0 turns the detection off.
	StallTimeout time.Duration
	// Budget caps retries of requests that reached a backend at this ratio
	// of requests, so retries cannot multiply the load on a struggling
	// fleet (Finagle's retry budget): every request deposits Budget of a
	// retry, every retry spends one, and the balance holds at most
	// max(MinRetries, 1000×Budget) retries (200 by default), so a long
	// quiet spell cannot save up a retry storm. Zero means 0.2; at most
	// 1000; < 0 turns those retries off.
	Budget float64
	// MinRetries is the reserve of retries the budget starts with and
	// always allows, however few the requests. Zero means 10; at most one
	// million.
	MinRetries int
	// RetryStatus reports whether a response status is worth a retry on
	// another backend. Nil means 502, 503 and 504.
	RetryStatus func(status int) bool
	// IdempotencyKeyHeader, if set, names the header (normally
	// "Idempotency-Key") whose presence with a non-blank value makes a
	// request resendable after it reached a backend, whatever its method,
	// as an idempotent one is: within Attempts and the budget, and
	// abandoned on a hung backend. Its body, if any, is read into memory
	// before the first try (a cancellation of the request ends the wait)
	// and resent from there; a body larger than ReplayBodyLimit is
	// streamed as usual and the request not resent. Only the balancer
	// resends: the base transport's own resend of a body it sent (net/http
	// rewinds a keyed request's GetBody after a reused connection broke)
	// is refused, so Attempts and the budget bound every resend.
	// Set it only for backends that honour the key (record the outcome of
	// the first request with it and answer repeats from that record):
	// otherwise a resent POST is done twice. "" (the default) turns it off.
	IdempotencyKeyHeader string
	// ReplayBodyLimit bounds the body buffered per keyed request, in bytes,
	// like Envoy's per_request_buffer_limit_bytes. Zero means 64 KiB.
	ReplayBodyLimit int64
}

// Default retry timings.
const (
	defaultPerTryTimeout = 15 * time.Second
	defaultStallTimeout  = time.Second
)

func (o *RetryOptions) validate() error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: Retry.%s %v: %s", ErrInvalidOptions, field, v, why)
	}
	switch {
	case o.Attempts < 0:
		return bad("Attempts", o.Attempts, "must be ≥ 0")
	case o.PerTryTimeout < 0:
		return bad("PerTryTimeout", o.PerTryTimeout, "must be ≥ 0")
	case o.Budget != o.Budget:
		return bad("Budget", o.Budget, "must be a number")
	case o.MinRetries < 0:
		return bad("MinRetries", o.MinRetries, "must be ≥ 0")
	case o.Budget > 1000: // beyond, the budget's arithmetic overflows
		return bad("Budget", o.Budget, "must be ≤ 1000")
	case o.MinRetries > 1e6:
		return bad("MinRetries", o.MinRetries, "must be ≤ 1000000")
	case o.ReplayBodyLimit < 0:
		return bad("ReplayBodyLimit", o.ReplayBodyLimit, "must be ≥ 0")
	case !validHeaderName(o.IdempotencyKeyHeader):
		return bad("IdempotencyKeyHeader", fmt.Sprintf("%q", o.IdempotencyKeyHeader), "not a header name")
	}
	if o.ReplayBodyLimit == 0 {
		o.ReplayBodyLimit = defaultReplayBodyLimit
	}
	if o.Attempts == 0 {
		o.Attempts = 3
	}
	if o.PerTryTimeout == 0 {
		o.PerTryTimeout = defaultPerTryTimeout
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = defaultStallTimeout
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
	if o.Budget < 0 {
		return &budget{} // retries of requests that reached a backend are off
	}
	b := &budget{deposit: int64(o.Budget * 1000), limit: int64(o.MinRetries) * 1000}
	b.limit = max(b.limit, b.deposit*1000)
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

// unsentError reports whether err proves that the request never reached
// the backend: a failed dial, or an idle connection the server closed as it
// was reused (net/http's "server closed idle connection", which it returns
// only when the server closed before reading the request). Requests whose
// headers were never written are caught by the attempt's trace.
func unsentError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return strings.Contains(err.Error(), "server closed idle connection")
}

// refused reports whether err is a refused connection: nothing listens on
// the backend's port, as while it restarts.
func refused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
