package health_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/health/healthtest"
)

var quietLog = slog.New(slog.DiscardHandler)

func TestGoBreakerConformance(t *testing.T) {
	healthtest.RunBreaker(t, func(t *testing.T) health.Breaker {
		b, err := health.NewGoBreaker("conformance", health.GoBreakerOptions{Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestThrottleConformance(t *testing.T) {
	healthtest.RunBreaker(t, func(t *testing.T) health.Breaker {
		b, err := health.NewThrottle("conformance", health.ThrottleOptions{Logger: quietLog, Window: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
