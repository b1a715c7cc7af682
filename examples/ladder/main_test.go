package main

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// TestMain serves a stage's child role when a stage re-executes the test
// binary (the stage is in EnvStage, as in the ladder binary), and runs the
// tests otherwise.
func TestMain(m *testing.M) {
	if proc.Role() != "" {
		stage.Main(run) // exits
	}
	goleak.VerifyTestMain(m)
}
