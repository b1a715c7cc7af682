package bench

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/sony/gobreaker/v2"
)

var quiet = slog.New(slog.DiscardHandler)

// BenchmarkBreakerAllow measures one allowed call through a closed breaker:
// ask, then report success.
func BenchmarkBreakerAllow(b *testing.B) {
	ctx := context.Background()
	b.Run("ladder-gobreaker", func(b *testing.B) {
		br, err := health.NewGoBreaker("bench", health.GoBreakerOptions{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		benchBreaker(b, ctx, br)
	})
	b.Run("gobreaker-gobreaker", func(b *testing.B) {
		cb := gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{Name: "bench"})
		b.ReportAllocs()
		for b.Loop() {
			done, err := cb.Allow()
			if err != nil {
				b.Fatal(err)
			}
			done(nil)
		}
	})
	// An open breaker rejecting every call.
	trip := gobreaker.Settings{Name: "bench", Timeout: time.Hour,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }}
	b.Run("ladder-gobreaker-open", func(b *testing.B) {
		br, err := health.NewGoBreaker("bench", health.GoBreakerOptions{Settings: trip, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		done, _ := br.Allow(ctx)
		done(errors.New("trip"))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := br.Allow(ctx); err == nil {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("gobreaker-gobreaker-open", func(b *testing.B) {
		cb := gobreaker.NewTwoStepCircuitBreaker[struct{}](trip)
		done, _ := cb.Allow()
		done(errors.New("trip"))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cb.Allow(); err == nil {
				b.Fatal("allowed")
			}
		}
	})
	b.Run("ladder-sre", func(b *testing.B) {
		th, err := health.NewThrottle("bench", health.ThrottleOptions{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		benchBreaker(b, ctx, th)
	})
	b.Run("ladder-sre-parallel", func(b *testing.B) {
		th, err := health.NewThrottle("bench", health.ThrottleOptions{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		parallel(b, func(_ uint64, n int) {
			for range n {
				done, err := th.Allow(ctx)
				if err != nil {
					b.Error(err)
					return
				}
				done(nil)
			}
		})
	})
}

func benchBreaker(b *testing.B, ctx context.Context, br health.Breaker) {
	b.ReportAllocs()
	for b.Loop() {
		done, err := br.Allow(ctx)
		if err != nil {
			b.Fatal(err)
		}
		done(nil)
	}
}
