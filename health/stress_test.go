package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Every public method of a Checker and a Prober, at once, from many
// goroutines, in both modes: the race detector and goleak watch, and
// everything must return.
func TestConcurrentUse(t *testing.T) {
	for _, interval := range []time.Duration{0, time.Millisecond} {
		t.Run(fmt.Sprint("checker/interval=", interval), func(t *testing.T) {
			var c *Checker
			c = newTestChecker(t, CheckerOptions{Interval: interval, CacheTTL: -1, Timeout: 50 * time.Millisecond,
				OnTransition: func(Transition) { c.Status() }})
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 50 {
						switch i % 5 {
						case 0:
							_ = c.Add(Check{Name: fmt.Sprint(g, "-", i), NonCritical: i%2 == 0, Func: func(ctx context.Context) error {
								if i%3 == 0 {
									return errors.New("x")
								}
								return nil
							}})
						case 1, 2:
							c.Report(context.Background())
						case 3:
							c.Status()
						case 4:
							if g == 7 && i > 40 {
								c.Shutdown()
							}
						}
					}
				})
			}
			within(t, "concurrent Checker use", func() {
				wg.Wait()
				c.Close()
			})
		})
	}
	t.Run("prober", func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Interval: time.Millisecond, Timeout: 20 * time.Millisecond, Rise: 1, Fall: 1})
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				pr := &scripted{}
				for i := range 100 {
					name := fmt.Sprint("t", i%4)
					switch i % 4 {
					case 0:
						_ = p.Add(name, pr)
					case 1:
						pr.fail.Store(!pr.fail.Load())
						p.Status(name)
					case 2:
						ch, unsub := p.Subscribe(g % 2)
						if g%2 == 0 {
							select {
							case <-ch:
							default:
							}
						}
						if i%8 == 2 {
							unsub()
						}
					case 3:
						p.Remove(name)
					}
				}
			})
		}
		within(t, "concurrent Prober use", func() {
			wg.Wait()
			p.Close()
		})
	})
}
