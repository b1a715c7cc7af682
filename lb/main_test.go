package lb_test

import (
	"context"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(drillBackendEnv); mode != "" {
		// A drill re-executed this binary to act as a backend process.
		os.Exit(runDrillBackend(mode))
	}
	goleak.VerifyTestMain(m)
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
