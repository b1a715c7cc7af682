package health

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

type fakeServer struct {
	mu       sync.Mutex
	at       time.Time
	deadline time.Time
	block    bool
}

func (f *fakeServer) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	f.at = time.Now()
	f.deadline, _ = ctx.Deadline()
	f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func TestDrainSteps(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		ready := newTestChecker(t, CheckerOptions{})
		srv := &fakeServer{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Drain(ctx, srv, ready, DrainOptions{Delay: 3 * time.Second, Timeout: 7 * time.Second, Signals: []os.Signal{}, Logger: quiet})
		}()
		synctest.Wait()
		if ready.Status() != StatusUp {
			t.Fatal("drained before it was asked to")
		}
		cancel()
		start := time.Now()
		synctest.Wait()
		if ready.Status() != StatusDown {
			t.Fatal("readiness still up after the drain started")
		}
		srv.mu.Lock()
		early := !srv.at.IsZero()
		srv.mu.Unlock()
		if early {
			t.Fatal("server shut down before Delay")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if srv.at.Sub(start) != 3*time.Second || srv.deadline.Sub(srv.at) != 7*time.Second {
			t.Fatalf("shutdown after %v with %v to go", srv.at.Sub(start), srv.deadline.Sub(srv.at))
		}
	})
}

// Bad input fails at once: a nil *http.Server used to panic after the
// signal, mid-drain, and a nil signal made signal.Stop spin forever.
func TestDrainBadInput(t *testing.T) {
	for _, tc := range []struct {
		srv  Shutdowner
		sigs []os.Signal
	}{{nil, nil}, {(*http.Server)(nil), nil}, {(*fakeServer)(nil), []os.Signal{}}, {&fakeServer{}, []os.Signal{syscall.SIGTERM, nil}}} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var err error
		within(t, "Drain", func() {
			err = Drain(ctx, tc.srv, nil, DrainOptions{Delay: 1, Logger: quiet, Signals: tc.sigs})
		})
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%T %v: %v", tc.srv, tc.sigs, err)
		}
	}
}

func TestDrainDeadline(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Drain(ctx, &fakeServer{block: true}, nil, DrainOptions{Delay: time.Second, Timeout: time.Second, Signals: []os.Signal{}, Logger: quiet})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
	})
	if err := Drain(context.Background(), nil, nil, DrainOptions{}); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("nil server: %v", err)
	}
}

func TestDrainOnSignal(t *testing.T) {
	ready := newTestChecker(t, CheckerOptions{})
	done := make(chan error, 1)
	go func() {
		// SIGWINCH is ignored by default, so a signal sent before Drain
		// listens harms nothing.
		done <- Drain(context.Background(), &fakeServer{}, ready, DrainOptions{Delay: time.Millisecond, Signals: []os.Signal{syscall.SIGWINCH}, Logger: quiet})
	}()
	for {
		if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil || ready.Status() != StatusDown {
				t.Fatalf("err %v, readiness %v", err, ready.Status())
			}
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

type liveBackend struct {
	addr   string
	cancel context.CancelFunc
	drain  chan error
	served chan struct{}
}

func startBackend(t *testing.T, addr string, hits *atomic.Int64) *liveBackend {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ready := newTestChecker(t, CheckerOptions{})
	mux := http.NewServeMux()
	mux.Handle("/readyz", Handler(ready, HandlerOptions{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		time.Sleep(time.Millisecond) // keep requests in flight while draining
		_, _ = io.WriteString(w, "ok")
	})
	srv := &http.Server{Handler: mux}
	ctx, cancel := context.WithCancel(context.Background())
	b := &liveBackend{addr: ln.Addr().String(), cancel: cancel, drain: make(chan error, 1), served: make(chan struct{})}
	go func() { _ = srv.Serve(ln); close(b.served) }()
	go func() {
		b.drain <- Drain(ctx, srv, ready, DrainOptions{Delay: time.Second, Timeout: 10 * time.Second, Signals: []os.Signal{}, Logger: quiet})
	}()
	return b
}

// Two real loopback servers are restarted one after the other behind a
// client that follows readiness through a Prober: no request fails. The one
// assumption is that the prober (every 10ms, fall 1) notices the failing
// readiness within the drain Delay (1s).
func TestDrainRollingRestartLosesNoRequest(t *testing.T) {
	var hits [2]atomic.Int64
	backends := []*liveBackend{startBackend(t, "127.0.0.1:0", &hits[0]), startBackend(t, "127.0.0.1:0", &hits[1])}
	names := []string{"b0", "b1"}
	addrs := []string{backends[0].addr, backends[1].addr} // the same across restarts
	t0 := time.Now()

	p := newTestProber(t, ProberOptions{Interval: 10 * time.Millisecond, Rise: 1, Fall: 1, Jitter: 0.1})
	defer p.Close()
	events, unsub := p.Subscribe(64)
	defer unsub()
	for i, b := range backends {
		probe, err := HTTPProbe("http://"+b.addr+"/readyz", HTTPProbeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Add(names[i], probe); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(name string, to Status) {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case tr := <-events:
				if tr.Name == name && tr.To == to {
					return
				}
			case <-deadline:
				t.Fatalf("%s never became %v", name, to)
			}
		}
	}
	waitFor("b0", StatusUp)
	if st, _ := p.Status("b1"); st != StatusUp {
		waitFor("b1", StatusUp)
	}

	lc := startReadinessClient(p, names, addrs)
	t.Cleanup(lc.stop)
	for i, b := range backends {
		for hits[i].Load() < 20 { // drain a backend that is carrying traffic
			time.Sleep(time.Millisecond)
		}
		t.Logf("%v drain %s", time.Since(t0), names[i])
		b.cancel()
		waitFor(names[i], StatusDown)
		t.Logf("%v %s down", time.Since(t0), names[i])
		if err := <-b.drain; err != nil {
			t.Fatalf("drain %s: %v", names[i], err)
		}
		<-b.served
		t.Logf("%v %s drained", time.Since(t0), names[i])
		backends[i] = startBackend(t, b.addr, &hits[i])
		waitFor(names[i], StatusUp)
		t.Logf("%v %s up", time.Since(t0), names[i])
	}
	// Both restarted backends take traffic again.
	base := [2]int64{hits[0].Load(), hits[1].Load()}
	deadline := time.Now().Add(30 * time.Second)
	for hits[0].Load() < base[0]+50 || hits[1].Load() < base[1]+50 {
		if time.Now().After(deadline) {
			t.Fatalf("restarted backends got %d and %d requests", hits[0].Load()-base[0], hits[1].Load()-base[1])
		}
		time.Sleep(time.Millisecond)
	}
	lc.stop()
	for _, b := range backends {
		b.cancel()
	}
	for _, b := range backends {
		<-b.drain
	}
	if lc.failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", lc.failed.Load(), lc.failed.Load()+lc.ok.Load(), lc.firstErr.Load())
	}
	t.Logf("%d requests, none lost", lc.ok.Load())
}

// readinessClient sends GETs from 4 workers, round robin over the backends
// the prober says are up, and counts outcomes.
type readinessClient struct {
	ok, failed atomic.Int64
	firstErr   atomic.Value
	done       chan struct{}
	once       sync.Once
	wg         sync.WaitGroup
	client     *http.Client
}

func startReadinessClient(p *Prober, names, addrs []string) *readinessClient {
	c := &readinessClient{done: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
	var next atomic.Int64
	for range 4 {
		c.wg.Go(func() {
			for {
				select {
				case <-c.done:
					return
				default:
				}
				n, i := next.Add(1), -1
				for k := range int64(len(names)) {
					if st, _ := p.Status(names[(n+k)%int64(len(names))]); st == StatusUp {
						i = int((n + k) % int64(len(names)))
						break
					}
				}
				if i < 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				c.record(c.get("http://" + addrs[i] + "/"))
			}
		})
	}
	return c
}

func (c *readinessClient) get(url string) error {
	resp, err := c.client.Get(url)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok" {
		return errors.New(resp.Status + " " + string(body))
	}
	return nil
}

func (c *readinessClient) record(err error) {
	if err != nil {
		c.failed.Add(1)
		c.firstErr.CompareAndSwap(nil, err)
	} else {
		c.ok.Add(1)
	}
}

func (c *readinessClient) stop() {
	c.once.Do(func() {
		close(c.done)
		c.wg.Wait()
		c.client.CloseIdleConnections()
	})
}
