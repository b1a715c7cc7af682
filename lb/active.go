package lb

import (
	"context"
	"errors"
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
// again; a transition to Up also readmits a passively ejected backend. It
// runs until stop is called or the pool is closed.
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
				if tr.To == health.StatusUp || tr.To == health.StatusDegraded {
					p.passed(tr.Name)
				}
			}
		}
	}()
	return stop
}

// ProbeHTTP adds an HTTP probe of path on every backend of a URL pool to
// prober, under the backend's name, and watches it. It follows the pool:
// a backend added by Update is probed from then on (unknown, so in
// rotation, until its first result), one removed stops being probed, and
// one whose URL changed is probed at the new URL. stop ends all of that
// (the probes already added stay with prober). A backend with a nil or
// unusable URL fails the call, which then adds no probe; one that gets
// such a URL later is logged and no longer probed.
//
// Every passing probe readmits a backend that passive health ejected (as
// Envoy does by default), so a backend restarted on its address takes
// traffic again at its first good probe, not when its ejection ends.
func ProbeHTTP(pool *Pool[*url.URL], prober *health.Prober, path string, opts health.HTTPProbeOptions) (stop func(), err error) {
	if pool.load() == nil {
		return func() {}, nil
	}
	probed := map[string]string{} // name → probe URL; only the hook touches it, under hookMu
	off, err := pool.onMembers(func(names []string, vals []*url.URL) error {
		var errs []error
		keep := make(map[string]bool, len(names))
		for i, name := range names {
			keep[name] = true
			u, probe, err := httpProbeFor(vals[i], path, opts)
			if err == nil {
				probe = readmitting(pool, name, probe)
			}
			if err == nil && probed[name] == u {
				continue
			}
			if _, had := probed[name]; had { // its URL changed: the old probe must not judge it
				prober.Remove(name)
				delete(probed, name)
			}
			if err == nil {
				err = prober.Add(name, probe)
			}
			if err != nil {
				errs = append(errs, backendErr(name, err))
				continue
			}
			probed[name] = u
		}
		for name := range probed {
			if !keep[name] {
				prober.Remove(name)
				delete(probed, name)
			}
		}
		return errors.Join(errs...)
	})
	if err != nil {
		for name := range probed { // leave prober as it was, so a corrected call can succeed
			prober.Remove(name)
		}
		return nil, err
	}
	unwatch := pool.Watch(prober)
	return func() { off(); unwatch() }, nil
}

// readmitting wraps probe so that each pass readmits the backend name if
// passive health ejected it.
func readmitting(pool *Pool[*url.URL], name string, probe health.Probe) health.Probe {
	return &readmitProbe{pool: pool, name: name, probe: probe}
}

type readmitProbe struct {
	pool  *Pool[*url.URL]
	name  string
	probe health.Probe
}

func (r *readmitProbe) Probe(ctx context.Context) error {
	err := r.probe.Probe(ctx)
	if err == nil {
		r.pool.passed(r.name)
	}
	return err
}

// CloseIdleConnections lets the prober close the wrapped probe's connections.
func (r *readmitProbe) CloseIdleConnections() {
	if c, ok := r.probe.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// httpProbeFor is the probe of path on backend u, and its URL.
func httpProbeFor(u *url.URL, path string, opts health.HTTPProbeOptions) (string, health.Probe, error) {
	if u == nil {
		return "", nil, errNilURL
	}
	s := u.JoinPath(path).String()
	probe, err := health.HTTPProbe(s, opts)
	return s, probe, err
}

var errNilURL = errors.New("nil URL")

// backendErr names the backend in err, with the package prefix once.
func backendErr(name string, err error) error {
	if err == errNilURL {
		return fmt.Errorf("%w: backend %q: %v", ErrInvalidOptions, name, err)
	}
	return fmt.Errorf("lb: backend %q: %w", name, err)
}
