package redisqueue_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(drillWorkerEnv); addr != "" {
		// The crash drill re-executed this binary as a worker process.
		os.Exit(runDrillWorker(addr))
	}
	goleak.VerifyTestMain(m)
}
