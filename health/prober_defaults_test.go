package health

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// A default Prober probes every second (±10%): four probes in 3.5 s, so a
// failing target is Down (Fall 3) within Drain's default 4 s Delay.
func TestProberDefaultInterval(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p, err := NewProber(ProberOptions{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		probes := make(chan struct{}, 100)
		if err := p.Add("t", ProbeFunc(func(context.Context) error { probes <- struct{}{}; return nil })); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		if n := len(probes); n != 4 {
			t.Errorf("%d probes in 3.5s, want 4 (every 1s ± 10%%)", n)
		}
	})
}
