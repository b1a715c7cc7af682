package lb

import (
	"fmt"
	"net/url"
	"sync"

	"github.com/ladder-go/ladder/health"
)

// HealthSource is what [Pool.Watch] needs from an active health checker;
// *health.Prober satisfies it.
type HealthSource interface {
	Subscribe(buffer int) (<-chan health.Transition, func())
	Status(name string) (health.Status, bool)
}

var _ HealthSource = (*health.Prober)(nil)

// Watch follows an active health checker whose target names are the
// backends' names: a backend goes out of rotation while its status is
// Down and comes back, through slow start, when it is Up (or Degraded)
// again. It runs until stop is called or the pool is closed.
func (p *Pool[T]) Watch(src HealthSource) (stop func()) {
	if p == nil {
		return func() {}
	}
	ch, unsubscribe := src.Subscribe(64)
	quit := make(chan struct{})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(quit) // the watcher ends even if unsubscribe leaves ch open
			unsubscribe()
		})
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		stop()
		return func() {}
	}
	p.stops = append(p.stops, stop)
	names := make([]string, len(p.members))
	for i, e := range p.members {
		names[i] = e.name
	}
	p.watchers.Add(1)
	p.mu.Unlock()
	// Subscribed first, so a transition racing this read is not lost.
	for _, n := range names {
		if s, ok := src.Status(n); ok && s != health.StatusUnknown {
			p.SetDown(n, s == health.StatusDown)
		}
	}
	go func() {
		defer p.watchers.Done()
		for {
			select {
			case <-quit:
				return
			case tr, ok := <-ch:
				if !ok {
					return
				}
				if tr.To != health.StatusUnknown {
					p.SetDown(tr.Name, tr.To == health.StatusDown)
				}
			}
		}
	}()
	return stop
}

// ProbeHTTP adds an HTTP probe of path on every backend of a URL pool to
// prober, under the backend's name, and watches it. Backends added to the
// pool later need their own prober.Add.
func ProbeHTTP(pool *Pool[*url.URL], prober *health.Prober, path string, opts health.HTTPProbeOptions) (stop func(), err error) {
	s := pool.load()
	if s == nil {
		return func() {}, nil
	}
	for i, e := range s.all {
		if s.vals[i] == nil {
			return nil, fmt.Errorf("lb: backend %q: nil URL: %w", e.name, ErrInvalidOptions)
		}
		u := s.vals[i].JoinPath(path)
		probe, err := health.HTTPProbe(u.String(), opts)
		if err != nil {
			return nil, fmt.Errorf("lb: backend %q: %w", e.name, err)
		}
		if err := prober.Add(e.name, probe); err != nil {
			return nil, fmt.Errorf("lb: backend %q: %w", e.name, err)
		}
	}
	return pool.Watch(prober), nil
}
