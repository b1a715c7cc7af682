package health

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// A negative Delay or Timeout is an error, never silently the default, and
// the message carries the package prefix once.
func TestDrainNegativeOptions(t *testing.T) {
	for _, o := range []DrainOptions{{Delay: -time.Second}, {Timeout: -1}} {
		o.Logger, o.Signals = quiet, []os.Signal{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var err error
		within(t, "Drain", func() { err = Drain(ctx, &fakeServer{}, nil, o) })
		if !errors.Is(err, ErrInvalidOptions) || strings.Count(err.Error(), "health:") != 1 {
			t.Errorf("Delay %v Timeout %v: %v, want one ErrInvalidOptions", o.Delay, o.Timeout, err)
		}
	}
	if err := Drain(context.Background(), nil, nil, DrainOptions{}); strings.Count(err.Error(), "health:") != 1 {
		t.Errorf("nil server: %q repeats the prefix", err)
	}
}
