package multidc

// The network between the clients and the regions: the front door (an lb
// proxy preferring the nearest region), the delaying proxy that stands for
// the distance between regions, and the ledger, a client that remembers
// which region acknowledged each of its writes.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/shard"
)

func keyOf(name string) uint64 { return shard.KeyString(name) }

// delayer runs TCP proxies that hold every chunk for lag before passing it
// on, each way: a round trip across costs 2×lag more (per chunk, not per
// byte: no bandwidth limit).
type delayer struct {
	lag time.Duration

	mu     sync.Mutex
	lns    []net.Listener
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

func (d *delayer) start(target string) (string, error) {
	ln, _, err := proc.Listen("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	d.mu.Lock()
	if d.conns == nil {
		d.conns = map[net.Conn]bool{}
	}
	d.lns = append(d.lns, ln)
	d.mu.Unlock()
	d.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d.wg.Go(func() { d.serve(c, target) })
		}
	})
	return ln.Addr().String(), nil
}

func (d *delayer) track(c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		c.Close()
		return false
	}
	d.conns[c] = true
	return true
}

func (d *delayer) serve(c net.Conn, target string) {
	if !d.track(c) {
		return
	}
	defer c.Close()
	up, err := net.DialTimeout("tcp", target, time.Second)
	if err != nil {
		return
	}
	if !d.track(up) {
		return
	}
	defer up.Close()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				time.Sleep(d.lag)
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	wg.Go(func() { pipe(up, c) })
	pipe(c, up)
	wg.Wait()
	d.mu.Lock()
	delete(d.conns, c)
	delete(d.conns, up)
	d.mu.Unlock()
}

func (d *delayer) Close() error {
	d.mu.Lock()
	d.closed = true
	for _, ln := range d.lns {
		ln.Close()
	}
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}

// frontDoor is the clients' entry, in the east: an lb.Proxy over every web
// server of both regions, zones [east west], with active probes; it counts
// who answered.
type frontDoor struct {
	url       string
	westAddrs []string // the west's web servers as the east reaches them
	pool      *lb.Pool[*url.URL]
	prober    *health.Prober
	stopProbe func()
	srv       *http.Server
	wg        sync.WaitGroup

	mu       sync.Mutex
	ok       map[string]int // 2xx by region
	wrote    map[string]int // acknowledged writes (201) by region
	killAt   time.Time
	firstW   time.Time // first west answer after killAt
	lastFail time.Time
}

func newFrontDoor(ctx context.Context, east, west *region, delays *delayer, stderr io.Writer) (*frontDoor, error) {
	fd := &frontDoor{ok: map[string]int{}, wrote: map[string]int{}}
	var backends []lb.Backend[*url.URL]
	for _, w := range east.webs {
		u, _ := url.Parse(w.URL())
		backends = append(backends, lb.Backend[*url.URL]{Name: w.Name(), Value: u, Zone: "east"})
	}
	for _, w := range west.webs {
		addr, err := delays.start(w.Addr())
		if err != nil {
			return nil, err
		}
		fd.westAddrs = append(fd.westAddrs, addr)
		u, _ := url.Parse("http://" + addr)
		backends = append(backends, lb.Backend[*url.URL]{Name: w.Name(), Value: u, Zone: "west"})
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	var err error
	fd.pool, err = lb.NewPool(backends, lb.PoolOptions{
		Policy: lb.LeastRequest(), Zones: []string{"east", "west"}, PanicThreshold: -1,
		Outlier: lb.OutlierOptions{Consecutive: 3, MaxEjectedShare: 1}, Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	fd.prober, err = health.NewProber(health.ProberOptions{Interval: 100 * time.Millisecond, Timeout: 500 * time.Millisecond, Fall: 2, Logger: logger})
	if err != nil {
		fd.pool.Close()
		return nil, err
	}
	fd.stopProbe, err = lb.ProbeHTTP(fd.pool, fd.prober, "/readyz", health.HTTPProbeOptions{})
	if err != nil {
		fd.prober.Close()
		fd.pool.Close()
		return nil, err
	}
	proxy := &lb.Proxy{Pool: fd.pool, Logger: logger, Retry: lb.RetryOptions{PerTryTimeout: 3 * time.Second}}
	if err := proxy.Validate(); err != nil {
		fd.Close()
		return nil, err
	}
	ln, _, err := proc.Listen("127.0.0.1:0")
	if err != nil {
		fd.Close()
		return nil, err
	}
	fd.url = "http://" + ln.Addr().String()
	fd.srv = proc.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		proxy.ServeHTTP(cw, r)
		fd.count(r, cw)
	}))
	fd.wg.Go(func() { fd.srv.Serve(ln) })
	return fd, nil
}

type countingWriter struct {
	http.ResponseWriter
	code int
}

func (c *countingWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

func (fd *frontDoor) count(r *http.Request, cw *countingWriter) {
	reg := cw.Header().Get("X-Region")
	now := time.Now()
	fd.mu.Lock()
	defer fd.mu.Unlock()
	switch {
	case cw.code >= 200 && cw.code < 300:
		fd.ok[reg]++
		if cw.code == http.StatusCreated && r.Method == http.MethodPost {
			fd.wrote[reg]++ // a signup or a post: one store write
		}
		if reg == "west" && !fd.killAt.IsZero() && fd.firstW.IsZero() {
			fd.firstW = now
		}
	case cw.code >= 500:
		fd.lastFail = now
	}
}

func (fd *frontDoor) markKill(t time.Time) {
	fd.mu.Lock()
	fd.killAt = t
	fd.mu.Unlock()
}

func (fd *frontDoor) served(region string) int {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return fd.ok[region]
}

func (fd *frontDoor) writes(region string) int64 {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return int64(fd.wrote[region])
}

func (fd *frontDoor) firstWestAfterKill() time.Time {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return fd.firstW
}

func (fd *frontDoor) lastFailure() time.Time {
	fd.mu.Lock()
	defer fd.mu.Unlock()
	return fd.lastFail
}

func (fd *frontDoor) Close() error {
	if fd.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fd.srv.Shutdown(ctx)
		cancel()
		fd.srv.Close()
		fd.wg.Wait()
	}
	if fd.stopProbe != nil {
		fd.stopProbe()
	}
	if fd.prober != nil {
		fd.prober.Close()
	}
	return fd.pool.Close()
}

// ledger posts numbered bodies as a few users of its own, through the front
// door, and remembers which region acknowledged each: the client's record of
// acknowledged writes, checked against what a region holds afterwards.
type ledger struct {
	base, prefix string
	users        []string
	clients      []*http.Client

	mu    sync.Mutex
	ack   map[string]string // body → region that acknowledged it
	sent  atomic.Int64
	fails atomic.Int64
}

func newLedger(ctx context.Context, base, tag string, n int) (*ledger, error) {
	run := time.Now().UnixNano() % 1e6
	l := &ledger{base: base, prefix: fmt.Sprintf("%s-%d-", tag, run), ack: map[string]string{}}
	for i := range n {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 3 * time.Second}
		name := fmt.Sprintf("%s%d-%d", tag, run, i)
		code, _, err := l.post(ctx, c, "/api/signup", map[string]string{"name": name, "password": "ledger-password-0123"})
		if err != nil || code != http.StatusCreated {
			return nil, fmt.Errorf("ledger signup %s: HTTP %d %v", name, code, err)
		}
		l.users = append(l.users, name)
		l.clients = append(l.clients, c)
	}
	return l, nil
}

func (l *ledger) post(ctx context.Context, c *http.Client, path string, v any) (int, string, error) {
	b, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Region"), nil
}

// run posts until ctx ends (at most 20,000 posts per user).
func (l *ledger) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i, c := range l.clients {
		wg.Go(func() {
			for n := 0; n < 20_000 && ctx.Err() == nil; n++ {
				body := fmt.Sprintf("%s%d-%d", l.prefix, i, n)
				code, reg, err := l.post(ctx, c, "/api/posts", map[string]string{"body": body})
				if errors.Is(err, context.Canceled) || ctx.Err() != nil {
					return
				}
				l.sent.Add(1)
				if err != nil || code != http.StatusCreated {
					l.fails.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				l.mu.Lock()
				l.ack[body] = reg
				l.mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func (l *ledger) acked() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.ack))
	for k, v := range l.ack {
		out[k] = v
	}
	return out
}

func (l *ledger) total() int  { return int(l.sent.Load()) }
func (l *ledger) failed() int { return int(l.fails.Load()) }
