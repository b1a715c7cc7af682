// Package healthtest helps test code that uses package health: a Probe whose
// result the test sets, a Breaker whose decisions the test makes, and an HTTP
// backend whose health endpoint the test flips.
package healthtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/health"
)

// ErrUnhealthy is what an unhealthy Probe returns.
var ErrUnhealthy = errors.New("healthtest: unhealthy")

// Probe is a health.Probe whose result the test sets. Its zero value is
// healthy.
type Probe struct {
	err   atomic.Pointer[error]
	calls atomic.Int64
}

var _ health.Probe = (*Probe)(nil)

// Probe returns ctx.Err() if ctx is done, else the error last set.
func (p *Probe) Probe(ctx context.Context) error {
	p.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

// SetHealthy makes the next probes succeed (true) or fail with ErrUnhealthy.
func (p *Probe) SetHealthy(ok bool) {
	if ok {
		p.err.Store(nil)
	} else {
		p.SetErr(ErrUnhealthy)
	}
}

// SetErr makes the next probes return err (nil: succeed).
func (p *Probe) SetErr(err error) {
	if err == nil {
		p.err.Store(nil)
		return
	}
	p.err.Store(&err)
}

// Calls is the number of probes so far.
func (p *Probe) Calls() int64 { return p.calls.Load() }

// Breaker is a health.Breaker whose state the test sets and which records
// every outcome reported to it. Its zero value is closed.
type Breaker struct {
	mu         sync.Mutex
	state      health.BreakerState
	outcomes   []error
	rejections uint64
}

var _ health.Breaker = (*Breaker)(nil)

// Allow rejects with health.ErrOpen when the state is open, otherwise lets
// the call through and records its outcome.
func (b *Breaker) Allow(ctx context.Context) (func(error), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == health.BreakerOpen {
		b.rejections++
		return nil, health.ErrOpen
	}
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			b.mu.Lock()
			b.outcomes = append(b.outcomes, err)
			b.mu.Unlock()
		})
	}, nil
}

// SetState sets what State returns; BreakerOpen makes Allow reject.
func (b *Breaker) SetState(s health.BreakerState) {
	b.mu.Lock()
	b.state = s
	b.mu.Unlock()
}

// State implements health.Breaker.
func (b *Breaker) State() health.BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Rejections implements health.Breaker.
func (b *Breaker) Rejections() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rejections
}

// Outcomes returns the errors reported through done, in order.
func (b *Breaker) Outcomes() []error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]error(nil), b.outcomes...)
}

// Server is a loopback HTTP backend with a health endpoint the test flips.
type Server struct {
	*httptest.Server
	healthy atomic.Bool
	hits    atomic.Int64
}

// NewServer starts a backend on 127.0.0.1, closed at the end of the test.
// GET /healthz answers 200 while healthy (the start) and 503 otherwise; every
// other path answers 200 with the body "ok" and counts a hit.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	s.healthy.Store(true)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !s.healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
			return
		}
		s.hits.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(s.Close)
	return s
}

// SetHealthy flips the health endpoint.
func (s *Server) SetHealthy(ok bool) { s.healthy.Store(ok) }

// Hits is the number of non-health requests served.
func (s *Server) Hits() int64 { return s.hits.Load() }

// HealthURL is the URL of the health endpoint, for health.HTTPProbe.
func (s *Server) HealthURL() string { return s.URL + "/healthz" }
