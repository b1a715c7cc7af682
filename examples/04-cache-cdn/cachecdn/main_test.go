package cachecdn

import (
	"context"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/examples/app/proc"
)

// TestMain runs the example's child roles when the test binary is started
// as one (the example re-executes its own binary), and the tests otherwise.
func TestMain(m *testing.M) {
	if proc.Role() != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
