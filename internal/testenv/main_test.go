package testenv

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain is the pattern every package that starts goroutines copies: the
// test binary fails if any goroutine outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
