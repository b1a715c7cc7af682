// Command edgebench measures ladder's edge cache (cache/edge) against
// nginx proxy_cache and Varnish (both from Debian) on the same objects
// over loopback, in the same run:
//
//   - requests/s and p50/p99 for cached objects of 1 KiB, 16 KiB and
//     256 KiB (Cache-Control: public, max-age=3600, strong ETags), each
//     cache warmed, then driven by wrk for a bounded time at the same
//     connection count;
//   - the collapse figure: N concurrent clients ask one cold key whose
//     origin answers after a delay; the origin counts the requests it got
//     (target: 1).
//
// It prints benchmark-format lines (BenchmarkEdgeCache/<peer>-hit-<size>
// with req/s, p50-µs, p99-µs; BenchmarkEdgeCollapse/<peer>-cold with
// origin-req) and "note:" lines, which `go run ./cmd/results` turns into
// the "Edge cache" tables of RESULTS.md (scripts/bench pipes one into the
// other). Not run by CI (like cmd/proxybench); -quick is a short smoke run.
//
//	cd bench && go run ./cmd/edgebench | go run ./cmd/results -count 1
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/bench/internal/edgeh"
	"github.com/ladder-go/ladder/bench/internal/peers"
	"go.opentelemetry.io/otel/metric/noop"
)

var (
	duration = flag.Duration("d", 10*time.Second, "wrk time per cache and object, split into -rounds (bounded: at most 30s)")
	rounds   = flag.Int("rounds", 5, "rounds per object: each cache gets -d/-rounds of wrk per round, in turn")
	conns    = flag.Int("c", 64, "wrk connections")
	clients  = flag.Int("n", 1000, "concurrent clients in the collapse burst")
	delay    = flag.Duration("delay", 200*time.Millisecond, "origin delay for the collapse key")
	quick    = flag.Bool("quick", false, "smoke run: 1s per measurement, 100 clients")
	only     = flag.String("only", "", "comma-separated caches to run (ladder,nginx,varnish); empty: all")
	serve    = flag.String("serve", "", "internal: run as a child: origin or ladder")
	listen   = flag.String("listen", "", "internal: child listen address")
	originF  = flag.String("origin", "", "internal: origin address for the ladder child")
)

func main() {
	flag.Parse()
	if *serve != "" {
		log.SetOutput(io.Discard) // wrk closing connections at the end is not news
		if err := child(*serve, *listen, *originF); err != nil {
			fmt.Fprintln(os.Stderr, "edgebench child:", err)
			os.Exit(1)
		}
		return
	}
	fmt.Println("cmd: edgebench")
	if *quick {
		*duration, *rounds, *clients = time.Second, 1, 100
	}
	*rounds = max(1, *rounds)
	*duration = min(*duration, 30*time.Second)
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "edgebench:", err)
		os.Exit(1)
	}
}

// child runs one server process: the origin, or ladder's edge in front of it.
func child(kind, addr, origin string) error {
	var h http.Handler
	switch kind {
	case "origin":
		h = edgeh.NewOrigin(*delay)
	case "ladder":
		u := &url.URL{Scheme: "http", Host: origin}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 1024
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.Out.Host = pr.In.Host }, Transport: t}
		c, closer, err := edgeh.New(rp, noop.NewMeterProvider())
		if err != nil {
			return err
		}
		defer closer.Close()
		h = c
	default:
		return fmt.Errorf("unknown -serve %q", kind)
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

// cache is one cache under test: how to start it on addr in front of the origin.
type cache struct {
	name  string
	start func(addr string) (*peers.Proc, error)
}

func run() error {
	peers.RaiseFDLimit()
	missing := peers.Ensure("nginx", "varnishd", "wrk", "taskset")
	if missing["wrk"] {
		return errors.New("wrk is missing (Debian package wrk; run as root to install it)")
	}
	// Pinning: wrk (one thread) on CPU 0; the cache under test and the
	// origin on the other CPUs, one cache at a time; nginx gets as many
	// workers as it has CPUs, ladder GOMAXPROCS follows its affinity.
	wrkCPU, srvCPUs, srvN := "", "", runtime.NumCPU()
	if !missing["taskset"] && runtime.NumCPU() >= 2 {
		wrkCPU, srvCPUs, srvN = "0", fmt.Sprintf("1-%d", runtime.NumCPU()-1), runtime.NumCPU()-1
		if srvN == 1 {
			srvCPUs = "1"
		}
		fmt.Printf("note: %d cores: wrk (1 thread, %d connections) pinned to CPU 0 with taskset; the caches and the origin pinned to CPU(s) %s (nginx worker_processes %d, ladder GOMAXPROCS %d from its affinity, Varnish default thread pools).\n",
			runtime.NumCPU(), *conns, srvCPUs, srvN, srvN)
	} else {
		fmt.Printf("note: %d core(s), no pinning (taskset missing or one core): wrk and the caches share every core.\n", runtime.NumCPU())
	}
	slice := max(time.Second, *duration/time.Duration(*rounds))
	fmt.Printf("note: all caches run at once, each idle while another is measured; each object is fetched through each until stored, then per object wrk -t1 -c%d for 1s of warm-up per cache, then %d rounds of wrk -t1 -c%d -d%s --latency per cache in turn (a load that comes and goes on this shared machine falls on all alike); each figure is the median of the rounds, and ladder ÷ peer is the median of the rounds' ratios (each round's ladder req/s over the peer's, measured seconds apart; each round starts with the next cache). Figures are noisy: compare ratios from one run.\n", *conns, *rounds, *conns, durArg(slice))
	fmt.Printf("note: ladder's edge: %s, served by net/http in its own process in front of an httputil.ReverseProxy to the origin.\n", edgeh.Name)

	dir, err := os.MkdirTemp("", "edgebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	var ps peers.Procs
	defer ps.Stop()
	ps.StopOnSignal()
	ps.RemoveOnStop(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	oaddr, err := peers.FreeAddr()
	if err != nil {
		return err
	}
	name, args := peers.Pin(srvCPUs, self, "-serve", "origin", "-listen", oaddr, "-delay", delay.String())
	op, err := ps.Start(name, args...)
	if err != nil {
		return err
	}
	if err := peers.WaitTCP(oaddr, op); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	caches := []cache{
		{"ladder", func(addr string) (*peers.Proc, error) {
			name, args := peers.Pin(srvCPUs, self, "-serve", "ladder", "-listen", addr, "-origin", oaddr)
			return ps.Start(name, args...)
		}},
		{"nginx", func(addr string) (*peers.Proc, error) {
			p, _, err := peers.Nginx(&ps, dir, addr, oaddr, srvN, srvCPUs)
			return p, err
		}},
		{"varnish", func(addr string) (*peers.Proc, error) {
			p, _, err := peers.Varnish(&ps, dir, addr, oaddr, srvCPUs)
			return p, err
		}},
	}
	var live []*running
	for _, c := range caches {
		if *only != "" && !strings.Contains(","+*only+",", ","+c.name+",") {
			continue
		}
		r, err := startAndWarm(c, oaddr)
		if err != nil {
			fmt.Printf("note: %s skipped: %v\n", c.name, err)
			continue
		}
		defer r.proc.Stop(5 * time.Second)
		live = append(live, r)
	}
	if err := measure(live, wrkCPU); err != nil {
		return err
	}
	for _, r := range live {
		if err := collapse(r.name, r.addr, oaddr); err != nil {
			fmt.Printf("note: %s collapse burst: %v\n", r.name, err)
		}
	}
	fmt.Println("note: bars (shared/BENCH.md): ladder ≥ 0.5× nginx proxy_cache requests/s on the same objects (ladder ÷ peer (req/s) ≥ 0.50); 1 origin request per burst of concurrent misses.")
	return nil
}

// running is a started, warmed cache.
type running struct {
	name, addr string
	proc       *peers.Proc
}

// startAndWarm starts one cache and fetches each object through it until
// it is stored: the first request fills, the next ones must be hits (the
// origin's count for the path moves by one at most).
func startAndWarm(c cache, oaddr string) (*running, error) {
	addr, err := peers.FreeAddr()
	if err != nil {
		return nil, err
	}
	p, err := c.start(addr)
	if err != nil {
		return nil, err
	}
	r := &running{name: c.name, addr: addr, proc: p}
	if err := peers.WaitTCP(addr, p); err != nil {
		p.Stop(5 * time.Second)
		return nil, fmt.Errorf("did not start: %w", err)
	}
	for _, ob := range edgeh.Objects {
		before, err := originCount(oaddr, ob.Path)
		if err != nil {
			p.Stop(5 * time.Second)
			return nil, err
		}
		for range 3 {
			if err := get("http://"+addr+ob.Path, ob.Size); err != nil {
				p.Stop(5 * time.Second)
				return nil, fmt.Errorf("warming %s: %w", ob.Path, err)
			}
		}
		if after, _ := originCount(oaddr, ob.Path); after-before > 1 {
			fmt.Printf("note: %s: %s reached the origin %d times while warming (1 expected): its hits are not all hits.\n", c.name, ob.Path, after-before)
		}
	}
	return r, nil
}

// measure drives every running cache with wrk, object by object, in
// rounds: each round gives each cache an equal slice of time, one after
// the other, so load that comes and goes on a shared machine falls on
// every cache alike; each round prints one line (cmd/results takes the
// median of the rounds).
func measure(live []*running, wrkCPU string) error {
	slice := max(time.Second, *duration/time.Duration(*rounds))
	for _, ob := range edgeh.Objects {
		for _, r := range live { // warm keep-alive connections and paths
			_, _ = wrkRun(wrkCPU, "-t1", "-c"+strconv.Itoa(*conns), "-d1s", "http://"+r.addr+ob.Path)
		}
		for round := range *rounds {
			// each round starts with the next cache, so none always runs first
			got := map[string]wrkResult{}
			for i := range live {
				r := live[(i+round)%len(live)]
				out, err := wrkRun(wrkCPU, "-t1", "-c"+strconv.Itoa(*conns), "-d"+durArg(slice), "--latency", "http://"+r.addr+ob.Path)
				if err != nil {
					return err
				}
				w, err := parseWrk(out)
				if err != nil {
					return err
				}
				got[r.name] = w
				if w.non2xx+w.sockErrs+w.timeouts > 0 {
					fmt.Fprintf(os.Stderr, "edgebench: %s %s: wrk reported errors:\n%s\n", r.name, ob.Path, out)
				}
			}
			for _, r := range live {
				w := got[r.name]
				// ladder÷peer: ladder's req/s over this cache's in the same
				// round; cmd/results prints the median of the rounds' ratios
				ratio := ""
				if l, ok := got["ladder"]; ok && r.name != "ladder" && w.rps > 0 {
					ratio = fmt.Sprintf(" \t %.4f ladder÷peer", l.rps/w.rps)
				}
				fmt.Printf("BenchmarkEdgeCache/%s-hit-%s \t %d \t %.0f req/s \t %.0f p50-µs \t %.0f p99-µs \t %d non-2xx \t %d sock-err \t %d timeouts%s\n",
					r.name, ob.Name, w.requests, w.rps, w.p50, w.p99, w.non2xx, w.sockErrs, w.timeouts, ratio)
			}
		}
	}
	return nil
}

// collapse sends *clients concurrent GETs for one cold key and reports how
// many reached the origin.
func collapse(name, addr, oaddr string) error {
	path := fmt.Sprintf("/slow/%s-%d", name, time.Now().UnixNano())
	tr := &http.Transport{MaxIdleConnsPerHost: *clients, MaxIdleConns: *clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	startGate := make(chan struct{})
	for range *clients {
		wg.Go(func() {
			<-startGate
			resp, err := cl.Get("http://" + addr + path)
			if err != nil {
				failed.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			} else {
				failed.Add(1)
			}
		})
	}
	t0 := time.Now()
	close(startGate)
	wg.Wait()
	wall := time.Since(t0)
	n, err := originCount(oaddr, path)
	if err != nil {
		return err
	}
	fmt.Printf("BenchmarkEdgeCollapse/%s-cold \t 1 \t %d origin-req \t %d clients \t %d ok \t %d failed \t %.0f wall-ms\n",
		name, n, *clients, ok.Load(), failed.Load(), float64(wall.Microseconds())/1000)
	return nil
}

func get(u string, size int) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || n != int64(size) {
		return fmt.Errorf("status %d, %d bytes (want 200, %d)", resp.StatusCode, n, size)
	}
	return nil
}

func originCount(oaddr, path string) (int64, error) {
	resp, err := http.Get("http://" + oaddr + "/_count?path=" + url.QueryEscape(path))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

func durArg(d time.Duration) string { return strconv.Itoa(max(1, int(d.Seconds()))) + "s" }

func wrkRun(cpu string, args ...string) ([]byte, error) {
	name, full := peers.Pin(cpu, "wrk", args...)
	out, err := exec.Command(name, full...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return out, nil
}

type wrkResult struct {
	rps      float64
	requests int64
	p50, p99 float64 // µs
	non2xx   int64   // responses that were not 2xx or 3xx
	sockErrs int64   // connect, read and write errors
	timeouts int64   // requests wrk gave up on (2s)
}

var (
	rpsRe  = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reqRe  = regexp.MustCompile(`(\d+) requests in`)
	pctRe  = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\b`)
	non2Re = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	sockRe = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads requests/s, the request count, p50/p99 in µs and the
// error count from wrk --latency output.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec: %s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reqRe.FindSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	for _, pm := range pctRe.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(pm[2]), 64)
		switch string(pm[3]) {
		case "ms":
			v *= 1e3
		case "s":
			v *= 1e6
		}
		if string(pm[1]) == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	if m := non2Re.FindSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(string(m[1]), 10, 64)
	}
	if m := sockRe.FindSubmatch(out); m != nil {
		for _, s := range m[1:4] {
			n, _ := strconv.ParseInt(string(s), 10, 64)
			r.sockErrs += n
		}
		r.timeouts, _ = strconv.ParseInt(string(m[4]), 10, 64)
	}
	return r, nil
}
