package app_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/examples/app"
)

// A hash HashPassword makes must be one CheckPassword can check: an
// iteration count above what CheckPassword accepts (it bounds the work a
// stored hash may ask for) made users who could sign up but never log in.
func TestKDFIterationsAboveTheCheckableAreRefused(t *testing.T) {
	if _, err := app.HashPassword("pw-123456", app.MaxKDFIterations+1); !errors.Is(err, app.ErrInvalidOptions) {
		t.Errorf("HashPassword with %d iterations: %v, want ErrInvalidOptions", app.MaxKDFIterations+1, err)
	}
	cfg := app.Config{Store: newSQLite(t), KDFIterations: app.MaxKDFIterations + 1}
	if err := cfg.Validate(); !errors.Is(err, app.ErrInvalidOptions) {
		t.Errorf("Config.Validate with KDFIterations %d: %v, want ErrInvalidOptions", cfg.KDFIterations, err)
	}
}
