package healthtest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/health"
)

var errBoom = errors.New("healthtest: backend failed")

// RunBreaker checks that the breakers newBreaker returns keep the
// health.Breaker contract. Each subtest gets a fresh breaker, which must trip
// (reject at least one call) within 1000 consecutive failures.
func RunBreaker(t *testing.T, newBreaker func(t *testing.T) health.Breaker) {
	for _, tc := range []struct {
		name string
		f    func(*testing.T, health.Breaker)
	}{
		{"SuccessesNeverReject", successesNeverReject},
		{"CancellationIsNotFailure", cancellationIsNotFailure},
		{"DoneContextIsNotRejection", doneContextIsNotRejection},
		{"FailuresTrip", failuresTrip},
		{"Concurrent", concurrent},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, newBreaker(t)) })
	}
}

func successesNeverReject(t *testing.T, b health.Breaker) {
	for i := range 1000 {
		done, err := b.Allow(context.Background())
		if err != nil {
			t.Fatalf("call %d of a healthy backend rejected: %v", i, err)
		}
		done(nil)
	}
	if b.Rejections() != 0 || b.State() != health.BreakerClosed {
		t.Fatalf("rejections %d, state %v", b.Rejections(), b.State())
	}
}

func cancellationIsNotFailure(t *testing.T, b health.Breaker) {
	for i := range 1000 {
		done, err := b.Allow(context.Background())
		if err != nil {
			t.Fatalf("call %d rejected after only cancellations: %v", i, err)
		}
		if i%2 == 0 {
			done(context.Canceled)
		} else {
			done(context.DeadlineExceeded)
		}
	}
	if b.State() != health.BreakerClosed {
		t.Fatalf("state %v", b.State())
	}
}

func doneContextIsNotRejection(t *testing.T, b health.Breaker) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Allow(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, health.ErrOpen) {
		t.Fatalf("Allow with a cancelled context: %v", err)
	}
	if b.Rejections() != 0 {
		t.Fatalf("rejections %d", b.Rejections())
	}
}

func failuresTrip(t *testing.T, b health.Breaker) {
	var rejected uint64
	for range 1000 {
		done, err := b.Allow(context.Background())
		if err != nil {
			if !errors.Is(err, health.ErrOpen) {
				t.Fatalf("rejection %v does not wrap health.ErrOpen", err)
			}
			rejected++
			continue
		}
		done(errBoom)
	}
	if rejected == 0 {
		t.Fatal("1000 consecutive failures never rejected a call")
	}
	if b.Rejections() != rejected {
		t.Fatalf("Rejections() = %d, saw %d", b.Rejections(), rejected)
	}
	if b.State() == health.BreakerClosed {
		t.Fatalf("state closed after tripping")
	}
}

func concurrent(t *testing.T, b health.Breaker) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				done, err := b.Allow(context.Background())
				if err != nil {
					continue
				}
				if (g+i)%3 == 0 {
					done(errBoom)
				} else {
					done(nil)
				}
				_ = b.State()
			}
		})
	}
	wg.Wait()
}
