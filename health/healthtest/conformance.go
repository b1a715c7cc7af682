package healthtest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/health"
)

// RunBreaker checks that the breakers newBreaker returns keep the
// health.Breaker contract. Each subtest gets a fresh breaker, which must trip
// (reject at least one call) within 1000 consecutive failures.
func RunBreaker(t *testing.T, newBreaker func(t *testing.T) health.Breaker) {
	boom := errors.New("healthtest: backend failed")
	t.Run("SuccessesNeverReject", func(t *testing.T) {
		b := newBreaker(t)
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
	})
	t.Run("CancellationIsNotFailure", func(t *testing.T) {
		b := newBreaker(t)
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
	})
	t.Run("DoneContextIsNotRejection", func(t *testing.T) {
		b := newBreaker(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.Allow(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, health.ErrOpen) {
			t.Fatalf("Allow with a cancelled context: %v", err)
		}
		if b.Rejections() != 0 {
			t.Fatalf("rejections %d", b.Rejections())
		}
	})
	t.Run("FailuresTrip", func(t *testing.T) {
		b := newBreaker(t)
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
			done(boom)
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
	})
	t.Run("Concurrent", func(t *testing.T) {
		b := newBreaker(t)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 500 {
					done, err := b.Allow(context.Background())
					if err != nil {
						continue
					}
					if (g+i)%3 == 0 {
						done(boom)
					} else {
						done(nil)
					}
					_ = b.State()
				}
			})
		}
		wg.Wait()
	})
}
