// Command proxybench measures HTTP reverse-proxy throughput on loopback:
// ladder's lb.Proxy, Caddy's reverse_proxy, a bare httputil.ReverseProxy
// (with the keep-alive pool ladder's transport has, and with
// http.DefaultTransport as it comes), nginx and haproxy, each in its own
// process, in front of the same three backend processes, driven by wrk with
// the same connections and duration. The machine is shared and noisy, so
// the proxies are measured in interleaved rounds (each round runs every
// proxy once, in a rotated order) and each figure is the median over the
// rounds. It prints a markdown table: requests/s, latency percentiles, the
// CPU each proxy process spent per request, the connections to backends it
// dialled during the run, and ratios against Caddy, the bare proxy and nginx.
//
// Run by scripts/bench (not CI): `cd bench && go run ./cmd/proxybench`.
// It installs nginx, haproxy, caddy and wrk with apt when run as root and
// they are missing; otherwise the table says which are missing and measures
// the rest. -profile DIR writes CPU and allocation profiles of the Go
// proxies (go tool pprof DIR/ladder.cpu.pprof).
//
// Traefik, the other Go proxy people deploy, is not measured: Debian has no
// package of it, and building github.com/traefik/traefik/v3 (v3.7.13) from
// the module proxy fails because the proxy refuses nine of its
// dependencies (github.com/abbot/go-http-auth, github.com/ucloud/ucloud-sdk-go
// and other DNS-provider SDKs that lego pulls in).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ladder-go/ladder/bench/internal/peers"
)

var (
	duration = flag.Duration("d", 5*time.Second, "wrk duration per proxy and round (bounded: at most 30s)")
	conns    = flag.Int("c", 64, "wrk connections")
	threads  = flag.Int("t", 2, "wrk threads")
	rounds   = flag.Int("rounds", 3, "interleaved rounds; figures are medians over them (at most 15)")
	only     = flag.String("only", "", "comma-separated proxies to measure (ladder,caddy,bare,bare-default,nginx,haproxy); empty: all")
	profile  = flag.String("profile", "", "directory for CPU and allocation profiles of the Go proxies (ladder, bare)")
	serve    = flag.String("serve", "", "internal: run as a child: backend, bare, bare-default or ladder")
	listen   = flag.String("listen", "", "internal: child listen address")
	targets  = flag.String("targets", "", "internal: comma-separated backend addresses")
	cpuProf  = flag.String("cpuprofile", "", "internal: child CPU profile file")
	memProf  = flag.String("memprofile", "", "internal: child allocation profile file")
)

const body = "hello from a loopback backend, 64 bytes of payload to proxy...\n"

// connsPath answers, on a backend, the number of connections it accepted.
const connsPath = "/_proxybench/accepted"

var accepted atomic.Int64 // a backend's accepted connections

func main() {
	flag.Parse()
	if *serve != "" {
		if err := child(*serve, *listen, strings.Split(*targets, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "proxybench child:", err)
			os.Exit(1)
		}
		return
	}
	*duration = min(*duration, 30*time.Second)
	*rounds = max(1, min(*rounds, 15))
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

// child runs one server process: a backend or a Go proxy.
func child(kind, addr string, backends []string) error {
	var h http.Handler
	switch kind {
	case "backend":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == connsPath { // the parent asks how many connections were accepted
				io.WriteString(w, strconv.FormatInt(accepted.Load(), 10))
				return
			}
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, body)
		})
	case "bare", "bare-default":
		log.SetOutput(io.Discard) // wrk closing connections at the end is not news
		var urls []*url.URL
		for _, b := range backends {
			urls = append(urls, &url.URL{Scheme: "http", Host: b})
		}
		var n atomic.Uint64
		var tr http.RoundTripper = transport()
		if kind == "bare-default" {
			tr = http.DefaultTransport // 2 idle connections per backend
		}
		h = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(urls[n.Add(1)%uint64(len(urls))])
				pr.SetXForwarded()
			},
			Transport: tr,
		}
	case "ladder":
		var err error
		if h, err = ladderProxy(backends); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -serve %q", kind)
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	// The parent stops this process with SIGTERM (or SIGKILL if it dies:
	// Pdeathsig); on SIGTERM the profiles are written out.
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			accepted.Add(1)
		}
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	go func() {
		<-stop
		if *cpuProf != "" {
			pprof.StopCPUProfile()
		}
		if *memProf != "" {
			if f, err := os.Create(*memProf); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}
		os.Exit(0)
	}()
	return srv.ListenAndServe()
}

// transport is the bare ReverseProxy's transport: http.DefaultTransport
// with keep-alive pools big enough for wrk's connections, the size
// lb.Proxy's default transport has (ladder runs on that default).
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	return t
}

// proxy is one proxy under test.
type proxy struct {
	key, name string
	addr      string
	pid       int
	skipped   string
	runs      []sample
}

// sample is one wrk run against one proxy.
type sample struct {
	rps      float64
	p50, p99 time.Duration
	reqs     float64
	cpu      time.Duration // user+system time of the proxy's processes during the run
	dials    int           // connections the backends accepted during the run
	errs     string
}

func run() error {
	peers.RaiseFDLimit()
	missing := peers.Ensure("nginx", "haproxy", "caddy", "wrk") // apt-get install when root
	dir, err := os.MkdirTemp("", "proxybench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range slices.Backward(procs) {
			_ = p.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = p.Process.Kill()
				<-done
			}
		}
	}()
	start := func(env []string, name string, args ...string) (int, error) {
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if env != nil {
			cmd.Env = append(os.Environ(), env...)
		}
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		procs = append(procs, cmd)
		return cmd.Process.Pid, nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var backends []string
	for range 3 {
		addr, err := peers.FreeAddr()
		if err != nil {
			return err
		}
		if _, err := start(nil, self, "-serve", "backend", "-listen", addr); err != nil {
			return err
		}
		backends = append(backends, addr)
	}
	for _, b := range backends {
		if err := waitTCP(b); err != nil {
			return fmt.Errorf("backend %s: %w", b, err)
		}
	}
	ts := strings.Join(backends, ",")
	goProxy := func(kind string) func(addr string) (int, error) {
		return func(addr string) (int, error) {
			args := []string{"-serve", kind, "-listen", addr, "-targets", ts}
			if *profile != "" && kind != "bare-default" {
				args = append(args, "-cpuprofile", filepath.Join(*profile, kind+".cpu.pprof"),
					"-memprofile", filepath.Join(*profile, kind+".alloc.pprof"))
			}
			return start(nil, self, args...)
		}
	}
	all := []struct {
		key, name string
		start     func(addr string) (int, error)
	}{
		{"ladder", "ladder lb.Proxy (round robin)", goProxy("ladder")},
		{"caddy", "Caddy reverse_proxy (round_robin)", func(addr string) (int, error) {
			if missing["caddy"] {
				return 0, peers.Missing("caddy")
			}
			conf, err := caddyConf(dir, addr, backends)
			if err != nil {
				return 0, err
			}
			// Caddy keeps its state under $HOME / $XDG_*: a private one.
			return start([]string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir},
				"caddy", "run", "--config", conf)
		}},
		{"bare", "bare httputil.ReverseProxy (keep-alive pool 256)", goProxy("bare")},
		{"bare-default", "bare httputil.ReverseProxy (http.DefaultTransport)", goProxy("bare-default")},
		{"nginx", "nginx", func(addr string) (int, error) {
			if missing["nginx"] {
				return 0, peers.Missing("nginx")
			}
			conf, err := nginxConf(dir, addr, backends)
			if err != nil {
				return 0, err
			}
			return start(nil, "nginx", "-c", conf, "-g", "daemon off;")
		}},
		{"haproxy", "haproxy", func(addr string) (int, error) {
			if missing["haproxy"] {
				return 0, peers.Missing("haproxy")
			}
			conf, err := haproxyConf(dir, addr, backends)
			if err != nil {
				return 0, err
			}
			return start(nil, "haproxy", "-f", conf)
		}},
	}
	var ps []*proxy
	for _, a := range all {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), a.key) {
			continue
		}
		p := &proxy{key: a.key, name: a.name}
		ps = append(ps, p)
		if p.addr, err = peers.FreeAddr(); err != nil {
			return err
		}
		if missing["wrk"] {
			p.skipped = peers.Missing("wrk").Error()
		} else if p.pid, err = a.start(p.addr); err != nil {
			p.skipped = err.Error()
		} else if err := waitTCP(p.addr); err != nil {
			p.skipped = "did not start: " + err.Error()
		}
	}
	for round := range *rounds {
		for i := range ps {
			p := ps[(i+round)%len(ps)] // rotate: no proxy always runs first or last
			if p.skipped != "" {
				continue
			}
			s, err := measure(p, backends)
			if err != nil {
				p.skipped = err.Error()
				continue
			}
			p.runs = append(p.runs, s)
			fmt.Fprintf(os.Stderr, "proxybench: round %d %s: %.0f requests/s, %v CPU/request\n", round+1, p.key, s.rps, perReq(s.cpu, s.reqs))
		}
	}
	printTable(ps)
	return nil
}

// measure warms p up, then runs wrk once against it.
func measure(p *proxy, backends []string) (sample, error) {
	target := "http://" + p.addr + "/"
	// Warm up with the same load: the keep-alive pools fill, so the run
	// itself should dial nothing.
	_ = exec.Command("wrk", "-t"+strconv.Itoa(*threads), "-c"+strconv.Itoa(*conns), "-d1s", target).Run()
	d0, err := dials(backends)
	if err != nil {
		return sample{}, err
	}
	cpu0 := treeCPU(p.pid)
	out, err := exec.Command("wrk", "-t"+strconv.Itoa(*threads), "-c"+strconv.Itoa(*conns),
		"-d"+strconv.Itoa(int(duration.Seconds()))+"s", "--latency", target).CombinedOutput()
	cpu1 := treeCPU(p.pid)
	if err != nil {
		return sample{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	d1, err := dials(backends)
	if err != nil {
		return sample{}, err
	}
	s, err := parseWrk(out)
	s.cpu = cpu1 - cpu0
	s.dials = d1 - d0 - len(backends) // less the second count's own connections
	return s, err
}

// dials is the number of connections the backends accepted so far,
// counting the connection each is asked on. Only the proxy under test is
// sending, so the difference over a run is that proxy's dials.
func dials(backends []string) (int, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	n := 0
	for _, b := range backends {
		resp, err := c.Get("http://" + b + connsPath)
		if err != nil {
			return 0, fmt.Errorf("backend %s: %w", b, err)
		}
		v, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		k, perr := strconv.Atoi(string(v))
		if err != nil || perr != nil {
			return 0, fmt.Errorf("backend %s: accepted count %q: %v %v", b, v, err, perr)
		}
		n += k
	}
	return n, nil
}

var (
	rpsRe  = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reqsRe = regexp.MustCompile(`(\d+) requests in`)
	pctRe  = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+(\S+)`)
	errsRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)`)
)

func parseWrk(out []byte) (sample, error) {
	var s sample
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		return s, fmt.Errorf("wrk printed no Requests/sec: %s", out)
	}
	s.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reqsRe.FindSubmatch(out); m != nil {
		s.reqs, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	for _, pm := range pctRe.FindAllSubmatch(out, -1) {
		d, _ := time.ParseDuration(string(pm[2])) // wrk writes 1.23ms, 850.00us, 1.02s
		switch string(pm[1]) {
		case "50":
			s.p50 = d
		case "99":
			s.p99 = d
		}
	}
	s.errs = "0"
	var parts []string
	for _, em := range errsRe.FindAllSubmatch(out, -1) {
		parts = append(parts, strings.TrimSpace(string(em[0])))
	}
	if len(parts) > 0 {
		s.errs = strings.Join(parts, "; ")
	}
	return s, nil
}

// treeCPU is the user+system time of pid and its descendants (nginx's and
// haproxy's workers), from /proc.
func treeCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	children := map[int][]int{}
	ticks := map[int]int64{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		id, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15): comm may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		fs := strings.Fields(string(b[i+1:]))
		if len(fs) < 13 {
			continue
		}
		ppid, _ := strconv.Atoi(fs[1])
		ut, _ := strconv.ParseInt(fs[11], 10, 64)
		st, _ := strconv.ParseInt(fs[12], 10, 64)
		children[ppid] = append(children[ppid], id)
		ticks[id] = ut + st
	}
	var sum int64
	var walk func(int)
	walk = func(p int) {
		sum += ticks[p]
		for _, c := range children[p] {
			walk(c)
		}
	}
	walk(pid)
	const hz = 100 // USER_HZ: clock ticks per second on Linux
	return time.Duration(sum) * time.Second / hz
}

func perReq(cpu time.Duration, reqs float64) time.Duration {
	if reqs == 0 {
		return 0
	}
	return time.Duration(float64(cpu) / reqs).Round(100 * time.Nanosecond)
}

func median[T int | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summary is a proxy's medians over its rounds.
type summary struct {
	rps         float64
	p50, p99    time.Duration
	cpuPerReq   time.Duration
	dials       int
	rpsAll, err string
}

func summarize(p *proxy) summary {
	var rps []float64
	var p50, p99, cpr []time.Duration
	var dials []int
	var all, errs []string
	for _, s := range p.runs {
		rps = append(rps, s.rps)
		p50 = append(p50, s.p50)
		p99 = append(p99, s.p99)
		cpr = append(cpr, perReq(s.cpu, s.reqs))
		dials = append(dials, s.dials)
		all = append(all, strconv.FormatFloat(s.rps, 'f', 0, 64))
		if s.errs != "0" {
			errs = append(errs, s.errs)
		}
	}
	e := "0"
	if len(errs) > 0 {
		e = strings.Join(errs, "; ")
	}
	return summary{rps: median(rps), p50: median(p50), p99: median(p99), cpuPerReq: median(cpr), dials: median(dials), rpsAll: strings.Join(all, ", "), err: e}
}

func printTable(ps []*proxy) {
	sums := map[string]summary{}
	for _, p := range ps {
		if p.skipped == "" {
			sums[p.key] = summarize(p)
		}
	}
	byKey := map[string]*proxy{}
	for _, p := range ps {
		if p.skipped == "" {
			byKey[p.key] = p
		}
	}
	// A ratio is the median over the rounds of the two proxies' ratio in
	// the same round: load that comes and goes falls on both alike.
	ratio := func(p *proxy, ref string) string {
		q := byKey[ref]
		if q == nil || len(q.runs) != len(p.runs) {
			return ""
		}
		var rs []float64
		for i := range p.runs {
			if q.runs[i].rps > 0 {
				rs = append(rs, p.runs[i].rps/q.runs[i].rps)
			}
		}
		if len(rs) == 0 {
			return ""
		}
		return fmt.Sprintf("%.2f×", median(rs))
	}
	fmt.Printf("wrk -t%d -c%d -d%s, 3 backends, all processes on one %d-core machine over loopback; %d interleaved rounds, each figure the median over them.\n\n",
		*threads, *conns, *duration, runtime.NumCPU(), *rounds)
	fmt.Println("| proxy | requests/s | each round | p50 | p99 | CPU per request | backend dials | errors | ÷ Caddy | ÷ bare ReverseProxy | ÷ nginx |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, p := range ps {
		if p.skipped != "" {
			fmt.Printf("| %s | skipped: %s | | | | | | | | | |\n", p.name, p.skipped)
			continue
		}
		s := sums[p.key]
		fmt.Printf("| %s | %.0f | %s | %v | %v | %v | %d | %s | %s | %s | %s |\n", p.name, s.rps, s.rpsAll,
			s.p50.Round(10*time.Microsecond), s.p99.Round(10*time.Microsecond), s.cpuPerReq, s.dials, s.err,
			ratio(p, "caddy"), ratio(p, "bare"), ratio(p, "nginx"))
	}
	fmt.Println()
	fmt.Println("÷ columns: the median over the rounds of the ratio of requests/s within each round.")
	fmt.Println("CPU per request: user + system time of the proxy's processes (nginx's and haproxy's workers included) over the requests of the run;")
	fmt.Println("on a shared machine it moves less than requests/s. Backend dials: connections the backends accepted during the run")
	fmt.Println("(0 when the proxy reuses the connections it opened while warming up: none closed, none dialled). ladder runs with its defaults, its own")
	fmt.Println("transport included (`&lb.Proxy{Pool: pool}`). The bare ReverseProxy (keep-alive pool 256: http.DefaultTransport with")
	fmt.Println("MaxIdleConnsPerHost 256, the issue's \"tuned transport\") is the baseline of the ÷ bare column; the one on")
	fmt.Println("http.DefaultTransport as it comes keeps 2 idle connections per backend. Caddy: reverse_proxy, lb_policy round_robin,")
	fmt.Println("keep-alive pool as ladder's (256 per backend), admin and access logs off. nginx: upstream keepalive 256, access_log off;")
	fmt.Println("haproxy: http-reuse always, nbthread = cores.")
}

// caddyConf writes Caddy's JSON config: reverse_proxy to the backends,
// round robin, the keep-alive pool sizes of the Go proxies' transport, no
// admin endpoint, no automatic HTTPS, no access log (Caddy logs no access
// unless told to), and only errors in its own log.
func caddyConf(dir, addr string, backends []string) (string, error) {
	var ups []string
	for _, b := range backends {
		ups = append(ups, fmt.Sprintf(`{"dial": %q}`, b))
	}
	conf := fmt.Sprintf(`{
  "admin": {"disabled": true},
  "logging": {"logs": {"default": {"level": "ERROR"}}},
  "apps": {"http": {"servers": {"proxy": {
    "listen": [%q],
    "automatic_https": {"disable": true},
    "routes": [{"handle": [{
      "handler": "reverse_proxy",
      "upstreams": [%s],
      "load_balancing": {"selection_policy": {"policy": "round_robin"}},
      "transport": {"protocol": "http", "keep_alive": {"max_idle_conns": 1024, "max_idle_conns_per_host": 256}}
    }]}]
  }}}}
}
`, addr, strings.Join(ups, ", "))
	p := filepath.Join(dir, "caddy.json")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

func nginxConf(dir, addr string, backends []string) (string, error) {
	var ups strings.Builder
	for _, b := range backends {
		fmt.Fprintf(&ups, "    server %s;\n", b)
	}
	conf := fmt.Sprintf(`worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream backends {
%[2]s    keepalive 256;
  }
  server {
    listen %[3]s;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`, dir, ups.String(), addr)
	p := filepath.Join(dir, "nginx.conf")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

func haproxyConf(dir, addr string, backends []string) (string, error) {
	var srv strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&srv, "  server b%d %s\n", i, b)
	}
	conf := fmt.Sprintf(`global
  nbthread %d
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  option forwardfor
  http-reuse always
frontend fe
  bind %s
  default_backend be
backend be
  balance roundrobin
%s`, runtime.NumCPU(), addr, srv.String())
	p := filepath.Join(dir, "haproxy.cfg")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

var errTimeout = errors.New("not listening after 10s")

func waitTCP(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %v", errTimeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
