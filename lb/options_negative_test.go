package lb_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
)

// Negative option values are errors unless documented as "off", and every
// error carries the package prefix once, the sentinel first.
func TestNegativeOptionsAreErrors(t *testing.T) {
	for _, opts := range []lb.PoolOptions{
		{Policy: lb.PeakEWMA(lb.PeakEWMAOptions{Decay: -time.Second})},
		{Policy: lb.PeakEWMA(lb.PeakEWMAOptions{Penalty: -1})},
		{MaxInFlight: -1},
		{Overprovisioning: -1},
		{Outlier: lb.OutlierOptions{BaseEjectionTime: -1}},
		{SlowStart: lb.SlowStartOptions{Window: -1}},
	} {
		_, err := lb.NewPool([]lb.Backend[string]{{Value: "a"}}, opts)
		if !errors.Is(err, lb.ErrInvalidOptions) {
			t.Errorf("%+v: %v, want ErrInvalidOptions", opts, err)
			continue
		}
		if msg := err.Error(); strings.Count(msg, "lb:") != 1 || !strings.HasPrefix(msg, "lb: invalid options: ") {
			t.Errorf("%q: want the prefix once, the sentinel first", msg)
		}
	}
	// Documented as "off": accepted.
	for _, opts := range []lb.PoolOptions{{PanicThreshold: -1}, {Outlier: lb.OutlierOptions{Consecutive: -1}}} {
		p, err := lb.NewPool([]lb.Backend[string]{{Value: "a"}}, opts)
		if err != nil {
			t.Errorf("%+v: %v", opts, err)
			continue
		}
		p.Close()
	}
	for _, r := range []lb.RetryOptions{{Budget: -1}, {StallTimeout: -1}} {
		if err := (&lb.Proxy{Retry: r}).Validate(); err != nil {
			t.Errorf("Proxy %+v: %v", r, err)
		}
		if err := (&lb.Transport{Retry: r}).Validate(); err != nil {
			t.Errorf("Transport %+v: %v", r, err)
		}
	}
}
