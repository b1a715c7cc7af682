package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// DefaultBackoff is the delay before retry number attempt when a handler's
// HandlerOptions.Backoff is nil: 1s·2^(attempt-1), capped at 1 h (before
// jitter).
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 13 { // 2^12 s > 1 h
		return time.Hour
	}
	return min(time.Second<<(attempt-1), time.Hour)
}

// jitter spreads d by ±20% with r, a uniform random value.
func jitter(d time.Duration, r uint64) time.Duration {
	if d <= 0 {
		return 0
	}
	// d·(0.8 + 0.4·u) with u = r/2^64, in integer arithmetic on 53 bits.
	u := float64(r>>11) / (1 << 53)
	return time.Duration(float64(d) * (0.8 + 0.4*u))
}

// outcomeOf turns a handler's result into the Outcome a Worker settles.
// hd is nil for an unknown kind.
func outcomeOf(j *Job, hd *handler, err error, now func() time.Time, rnd func() uint64) Outcome {
	if hd == nil {
		return Outcome{Job: j, Kind: Dead, Err: unknownKind(j.Kind)}
	}
	if err == nil {
		return Outcome{Job: j, Kind: Done}
	}
	var (
		sn *snoozeError
		cn *cancelError
		ml *malformedError
	)
	switch {
	case errors.As(err, &sn):
		return Outcome{Job: j, Kind: Snooze, At: now().Add(sn.d)}
	case errors.As(err, &cn):
		return Outcome{Job: j, Kind: Dead, Err: cn.Error()}
	case errors.As(err, &ml):
		return Outcome{Job: j, Kind: Dead, Err: ml.Error()}
	}
	msg := err.Error()
	if msg == "" {
		msg = fmt.Sprintf("%T with an empty message", err)
	}
	if j.Attempt >= j.MaxAttempts {
		return Outcome{Job: j, Kind: Dead, Err: msg}
	}
	return Outcome{Job: j, Kind: Retry, At: now().Add(hd.retryDelay(j.Attempt, rnd)), Err: msg}
}

func unknownKind(kind string) string {
	return fmt.Sprintf("unknown kind %q (%v)", kind, ErrUnknownKind)
}

func (hd *handler) retryDelay(attempt int, rnd func() uint64) time.Duration {
	var d time.Duration
	if hd.backoff != nil {
		d = safeBackoff(hd.backoff, attempt)
	} else {
		d = DefaultBackoff(attempt)
	}
	return jitter(d, rnd())
}

// safeBackoff survives a user Backoff that panics (1 s then) or returns a
// negative delay (0).
func safeBackoff(f func(int) time.Duration, attempt int) (d time.Duration) {
	defer func() {
		if recover() != nil {
			d = time.Second
		}
	}()
	return max(f(attempt), 0)
}

// timeoutOf is the bound on one attempt of j: the shorter of the job's and
// the handler's timeout.
func timeoutOf(j *Job, hd *handler) time.Duration {
	t := j.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	if hd != nil && hd.timeout > 0 && hd.timeout < t {
		t = hd.timeout
	}
	return t
}

// Run runs job once through its kind's handler in the calling goroutine,
// as a Worker does (arguments decoded, timeout applied, a panic recovered),
// and returns the Outcome a Worker would settle, with retry and snooze
// times counted from now. It is for tests (queuetest) and custom runners;
// it touches no backend.
func (h *Handlers) Run(ctx context.Context, job *Job, now time.Time) Outcome {
	clock := func() time.Time { return now }
	hd := h.get(job.Kind)
	if hd == nil {
		return outcomeOf(job, nil, nil, clock, rand.Uint64)
	}
	ctx, cancel := context.WithTimeout(ctx, timeoutOf(job, hd))
	defer cancel()
	return outcomeOf(job, hd, hd.call(ctx, job, nil), clock, rand.Uint64)
}
