package lb_test

// The fault drills' harness: backends are real OS processes (this test
// binary re-executed, see TestMain) on 127.0.0.1, stopped, killed and
// restarted with real signals, and the proxy is driven by 64 keep-alive
// clients through its public API only.
//
// LADDER_DRILL=full runs the full-size drills (longer phases, more
// clients, several runs): scripts/drill, or
//
//	LADDER_DRILL=full go test -run Drill -v ./lb/

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/lb"
)

const (
	drillBackendEnv = "LADDER_LB_DRILL_BACKEND" // mode: plain, graceful or drain
	drillPortEnv    = "LADDER_LB_DRILL_PORT"
	drillDelayEnv   = "LADDER_LB_DRILL_DELAY" // each answer waits this long
)

// drillSize is the load of one drill: CI runs a small one, LADDER_DRILL=full
// the full-size one.
type drillSize struct {
	clients int
	phase   time.Duration // one measured phase
	runs    int
}

func drillLoad(t *testing.T) drillSize {
	if os.Getenv("LADDER_DRILL") == "full" {
		return drillSize{clients: 128, phase: 3 * time.Second, runs: 3}
	}
	if testing.Short() {
		t.Skip("fault drill: real processes; skipped in -short mode")
	}
	return drillSize{clients: 64, phase: 700 * time.Millisecond, runs: 1}
}

// runDrillBackend is the backend process: it answers every path with its
// pid, /ready with its readiness (mode drain), and prints its port.
func runDrillBackend(mode string) int {
	port := os.Getenv(drillPortEnv)
	var ln net.Listener
	var err error
	for range 200 { // the previous process on this port may still be exiting
		if ln, err = net.Listen("tcp", "127.0.0.1:"+port); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill backend:", err)
		return 2
	}
	ready, _ := health.NewChecker(health.CheckerOptions{})
	mux := http.NewServeMux()
	mux.Handle("/ready", health.Handler(ready, health.HandlerOptions{}))
	pid := strconv.Itoa(os.Getpid())
	delay, _ := time.ParseDuration(os.Getenv(drillDelayEnv))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(delay)
		io.WriteString(w, pid)
	})
	srv := &http.Server{Handler: mux, ErrorLog: nil}
	done := make(chan error, 1)
	switch mode {
	case "graceful":
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM)
		go func() {
			<-sigs
			done <- srv.Shutdown(context.Background())
		}()
	case "drain":
		go func() {
			done <- health.Drain(context.Background(), srv, ready, health.DrainOptions{Logger: quietLogger})
		}()
	}
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	os.Stdout.Close()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return 1
	}
	if err := <-done; err != nil {
		return 1
	}
	return 0
}

// backendProc is one backend process.
type backendProc struct {
	t      *testing.T
	mode   string
	delay  time.Duration // of each answer
	port   int
	url    *url.URL
	cmd    *exec.Cmd
	exited chan struct{}
}

// startBackends starts a backend process in mode on a free port per delay,
// each answering after its delay.
func startBackends(t *testing.T, mode string, delays ...time.Duration) []*backendProc {
	bs := make([]*backendProc, len(delays))
	for i := range bs {
		// A port below the ephemeral range: a port the kernel picks could be
		// taken as an outgoing connection's source port while the backend
		// restarts, and the new process could not bind it.
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		bs[i] = &backendProc{t: t, mode: mode, delay: delays[i], port: port}
		bs[i].start()
	}
	return bs
}

// start starts the process, on b.port if set, and waits for it to listen.
func (b *backendProc) start() {
	t := b.t
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), drillBackendEnv+"="+b.mode, drillPortEnv+"="+strconv.Itoa(b.port),
		drillDelayEnv+"="+b.delay.String())
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.cmd, b.exited = cmd, exited
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(r).ReadString('\n')
	port, perr := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "port "))
	if err != nil || perr != nil {
		t.Fatalf("backend process: no port: %q %v", line, err)
	}
	b.port = port
	b.url = &url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(port)}
}

func (b *backendProc) signal(sig syscall.Signal) {
	b.t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		b.t.Fatalf("signal %v: %v", sig, err)
	}
}

// restart sends SIGTERM, waits for the process to exit and starts a new one
// on the same port.
func (b *backendProc) restart() {
	b.t.Helper()
	b.signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		b.t.Fatal("backend did not exit within 30s of SIGTERM")
	}
	b.start()
}

var quietLogger = slog.New(slog.DiscardHandler)

// proxyLog keeps the first proxy errors of a drill, to show with its failures.
type proxyLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *proxyLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *proxyLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *proxyLog) WithGroup(string) slog.Handler            { return l }
func (l *proxyLog) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	l.mu.Lock()
	if len(l.lines) < 10 {
		l.lines = append(l.lines, line)
	}
	l.mu.Unlock()
	return nil
}

// drillProxy is a zero-value proxy over pool, but for its logger, which
// keeps its first errors for the drill's report.
func drillProxy(pool *lb.Pool[*url.URL]) (*lb.Proxy, *proxyLog) {
	l := &proxyLog{}
	return &lb.Proxy{Pool: pool, Logger: slog.New(l)}, l
}

// drillPool is a pool of the backends with the given options.
func drillPool(t *testing.T, bs []*backendProc, opts lb.PoolOptions) *lb.Pool[*url.URL] {
	var members []lb.Backend[*url.URL]
	for i, b := range bs {
		members = append(members, lb.Backend[*url.URL]{Name: fmt.Sprint("b", i), Value: b.url})
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger
	}
	pool, err := lb.NewPool(members, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return pool
}

// serveProxy serves proxy on 127.0.0.1 and returns its URL.
func serveProxy(t *testing.T, proxy http.Handler) string {
	srv := httptest.NewUnstartedServer(proxy)
	srv.Config.ErrorLog = nil
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// load is clients keep-alive clients sending GETs in a loop with a 2s
// timeout each, as a drill's users.
type load struct {
	ok, failed atomic.Int64
	slow       atomic.Int64 // answered after more than a second
	lastErr    atomic.Value
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	tr         *http.Transport
}

func startLoad(t *testing.T, target string, clients int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{cancel: cancel, tr: &http.Transport{MaxIdleConnsPerHost: clients, DisableCompression: true}}
	client := &http.Client{Transport: l.tr, Timeout: 2 * time.Second}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target+"/work", nil)
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				switch {
				case ctx.Err() != nil: // the drill is over: not counted
				case err != nil:
					l.failed.Add(1)
					l.lastErr.Store(err.Error())
				case resp.StatusCode != http.StatusOK:
					l.failed.Add(1)
					l.lastErr.Store(resp.Status)
				default:
					l.ok.Add(1)
					if time.Since(start) > time.Second {
						l.slow.Add(1)
					}
				}
			}
		}()
	}
	t.Cleanup(l.stop)
	return l
}

func (l *load) stop() {
	l.cancel()
	l.wg.Wait()
	l.tr.CloseIdleConnections()
}

// phase runs the load for d and returns the requests answered per second.
func (l *load) phase(d time.Duration) float64 {
	ok := l.ok.Load()
	start := time.Now()
	time.Sleep(d)
	return float64(l.ok.Load()-ok) / time.Since(start).Seconds()
}

func (l *load) failures(t *testing.T, log *proxyLog) {
	t.Helper()
	if n := l.failed.Load(); n > 0 {
		log.mu.Lock()
		defer log.mu.Unlock()
		t.Errorf("%d of %d requests failed (last: %v); proxy log:\n%s", n, n+l.ok.Load(), l.lastErr.Load(), strings.Join(log.lines, "\n"))
	}
}

// awaitHealthy polls the pool until healthy members is want, at most bound.
func awaitHealthy(t *testing.T, pool *lb.Pool[*url.URL], want int, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if h, _ := pool.Healthy(); h == want {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			h, n := pool.Healthy()
			t.Fatalf("pool %d/%d healthy after %v, want %d", h, n, bound, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
