package health

import (
	"context"
	"errors"
	"fmt"
)

// Breaker decides whether a call to a dependency may proceed, and learns from
// its outcome. Both implementations, [GoBreaker] and [Throttle], are safe for
// concurrent use.
//
// A call whose error is the caller's cancelled or expired context
// (context.Canceled, context.DeadlineExceeded) counts neither as a failure
// nor as a success: the dependency did nothing wrong. The done function
// cannot tell that from a deadline of the call's own (an http.Client
// Timeout also matches context.DeadlineExceeded), so it ignores every
// context error; [Do] can, and counts the latter as a failure. Callers of
// Allow should pass done a non-context error when their own timeout fired.
type Breaker interface {
	// Allow asks to make one call. It returns ctx.Err() if ctx is done, an
	// error wrapping ErrOpen if the breaker rejects the call, and otherwise a
	// done function the caller must call exactly once with the call's error.
	Allow(ctx context.Context) (done func(err error), err error)
	// State is the breaker's current state.
	State() BreakerState
	// Rejections is the number of calls rejected so far.
	Rejections() uint64
}

// BreakerState is the state of a [Breaker].
type BreakerState int

const (
	// BreakerClosed lets every call through.
	BreakerClosed BreakerState = iota
	// BreakerHalfOpen lets a few trial calls through.
	BreakerHalfOpen
	// BreakerOpen rejects every call.
	BreakerOpen
	// BreakerThrottling rejects a fraction of calls ([Throttle]).
	BreakerThrottling
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	case BreakerOpen:
		return "open"
	case BreakerThrottling:
		return "throttling"
	}
	return fmt.Sprintf("BreakerState(%d)", int(s))
}

// Do runs fn through b: it returns b's rejection without calling fn, or fn's
// error after reporting it to b. A panic in fn is reported to b as a failure
// and re-raised.
//
// Do knows the caller's ctx, so it tells the caller giving up from the
// dependency being slow: an error of fn that is a context error while ctx
// is still live came from a deadline of fn's own (http.Client.Timeout, a
// context.WithTimeout inside fn) and is reported to b as a failure, as an
// error with the same text that no longer matches context.DeadlineExceeded
// (so IsSuccessful and IsFailure hooks see it as a plain error). Do returns
// fn's error unchanged.
func Do(ctx context.Context, b Breaker, fn func(ctx context.Context) error) (err error) {
	done, err := b.Allow(ctx)
	if err != nil {
		return err
	}
	reported := false
	defer func() {
		if !reported {
			done(ErrPanic)
		}
	}()
	err = fn(ctx)
	reported = true
	if err != nil && ctx.Err() == nil && isCtxErr(err) {
		done(ownDeadlineError{err})
	} else {
		done(err)
	}
	return err
}

// ownDeadlineError is how Do reports a call that failed on a deadline of its
// own while the caller still waited: a failure of the dependency, so it must
// not match context.DeadlineExceeded, which breakers ignore. It does not
// unwrap for that reason.
type ownDeadlineError struct{ err error }

func (e ownDeadlineError) Error() string { return e.err.Error() }

// isCtxErr reports whether err is a context's cancellation or deadline: not a
// failure of the dependency.
func isCtxErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
