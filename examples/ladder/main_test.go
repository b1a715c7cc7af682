package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// envTestMain makes the test binary the ladder command (a test sends it
// Ctrl-C).
const envTestMain = "LADDER_TEST_AS_MAIN"

// TestMain serves a stage's child role when a stage re-executes the test
// binary (the stage is in EnvStage, as in the ladder binary), is the ladder
// command under envTestMain, and runs the tests otherwise.
func TestMain(m *testing.M) {
	if proc.Role() != "" || os.Getenv(envTestMain) != "" {
		stage.Main(run) // exits
	}
	goleak.VerifyTestMain(m)
}
