// Command proxybench measures HTTP reverse-proxy throughput on loopback:
// ladder's lb.Proxy, a bare httputil.ReverseProxy, nginx and haproxy, each
// in its own process, in front of the same three backend processes, driven
// by wrk with the same connections and duration. It prints a markdown table
// (requests/s, latency percentiles, ratios against nginx and the bare proxy).
//
// Run by scripts/bench (not CI): `cd bench && go run ./cmd/proxybench`.
// It installs nginx, haproxy and wrk with apt when run as root and they are
// missing; otherwise it prints which are missing and measures the rest.
package main

import (
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
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ladder-go/ladder/bench/internal/peers"
)

var (
	duration = flag.Duration("d", 5*time.Second, "wrk duration per proxy (bounded: at most 30s)")
	conns    = flag.Int("c", 64, "wrk connections")
	threads  = flag.Int("t", 2, "wrk threads")
	serve    = flag.String("serve", "", "internal: run as a child: backend, bare or ladder")
	listen   = flag.String("listen", "", "internal: child listen address")
	targets  = flag.String("targets", "", "internal: comma-separated backend addresses")
)

const body = "hello from a loopback backend, 64 bytes of payload to proxy...\n"

func main() {
	flag.Parse()
	if *serve != "" {
		if err := child(*serve, *listen, strings.Split(*targets, ",")); err != nil {
			fmt.Fprintln(os.Stderr, "proxybench child:", err)
			os.Exit(1)
		}
		return
	}
	if *duration > 30*time.Second {
		*duration = 30 * time.Second
	}
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
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, body)
		})
	case "bare":
		log.SetOutput(io.Discard) // wrk closing connections at the end is not news
		var urls []*url.URL
		for _, b := range backends {
			urls = append(urls, &url.URL{Scheme: "http", Host: b})
		}
		var n atomic.Uint64
		h = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(urls[n.Add(1)%uint64(len(urls))])
				pr.SetXForwarded()
			},
			Transport: transport(),
		}
	case "ladder":
		var err error
		if h, err = ladderProxy(backends, transport()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown -serve %q", kind)
	}
	// The parent stops this process with SIGTERM (or SIGKILL if it dies: Pdeathsig).
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

// transport is the same tuned transport for both Go proxies: keep-alive
// pools big enough for wrk's connections.
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	return t
}

type result struct {
	name     string
	rps      float64
	p50, p99 string
	errs     string
	skipped  string
}

func run() error {
	missing := peers.Ensure("nginx", "haproxy", "wrk") // apt-get install when root
	dir, err := os.MkdirTemp("", "proxybench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				_ = p.Process.Kill()
				<-done
			}
		}
	}()
	start := func(name string, args ...string) error {
		cmd := exec.Command(name, args...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, cmd)
		return nil
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
		if err := start(self, "-serve", "backend", "-listen", addr); err != nil {
			return err
		}
		backends = append(backends, addr)
	}
	for _, b := range backends {
		if err := waitTCP(b); err != nil {
			return fmt.Errorf("backend %s: %w", b, err)
		}
	}

	var results []result
	measure := func(name, addr string, startIt func() error) {
		r := result{name: name}
		if err := startIt(); err != nil {
			r.skipped = err.Error()
		} else if err := waitTCP(addr); err != nil {
			r.skipped = "did not start: " + err.Error()
		} else if missing["wrk"] {
			r.skipped = "wrk is missing"
		} else {
			r.rps, r.p50, r.p99, r.errs, err = wrk("http://" + addr + "/")
			if err != nil {
				r.skipped = err.Error()
			}
		}
		results = append(results, r)
	}
	ts := strings.Join(backends, ",")
	addr, _ := peers.FreeAddr()
	measure("ladder lb.Proxy (round robin)", addr, func() error { return start(self, "-serve", "ladder", "-listen", addr, "-targets", ts) })
	addr2, _ := peers.FreeAddr()
	measure("bare httputil.ReverseProxy", addr2, func() error { return start(self, "-serve", "bare", "-listen", addr2, "-targets", ts) })
	addr3, _ := peers.FreeAddr()
	measure("nginx", addr3, func() error {
		if missing["nginx"] {
			return errors.New("nginx is missing")
		}
		conf, err := nginxConf(dir, addr3, backends)
		if err != nil {
			return err
		}
		return start("nginx", "-c", conf, "-g", "daemon off;")
	})
	addr4, _ := peers.FreeAddr()
	measure("haproxy", addr4, func() error {
		if missing["haproxy"] {
			return errors.New("haproxy is missing")
		}
		conf, err := haproxyConf(dir, addr4, backends)
		if err != nil {
			return err
		}
		return start("haproxy", "-f", conf)
	})
	printTable(results)
	return nil
}

func printTable(rs []result) {
	byName := map[string]result{}
	for _, r := range rs {
		byName[r.name] = r
	}
	nginx, bare := byName["nginx"].rps, byName["bare httputil.ReverseProxy"].rps
	fmt.Printf("wrk -t%d -c%d -d%s, 3 backends, all processes on one %d-core machine over loopback.\n\n", *threads, *conns, *duration, numCPU())
	fmt.Println("| proxy | requests/s | p50 | p99 | errors | ÷ nginx | ÷ bare ReverseProxy |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range rs {
		if r.skipped != "" {
			fmt.Printf("| %s | skipped: %s | | | | | |\n", r.name, r.skipped)
			continue
		}
		fmt.Printf("| %s | %.0f | %s | %s | %s | %s | %s |\n", r.name, r.rps, r.p50, r.p99, r.errs, ratio(r.rps, nginx), ratio(r.rps, bare))
	}
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", a/b)
}

var (
	rpsRe  = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	pctRe  = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+(\S+)`)
	errsRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)`)
)

// wrk runs one bounded load and parses requests/s and latency percentiles.
func wrk(target string) (rps float64, p50, p99, errs string, err error) {
	// warm up keep-alive pools for a second, then measure
	_ = exec.Command("wrk", "-t1", "-c8", "-d1s", target).Run()
	out, err := exec.Command("wrk", "-t"+strconv.Itoa(*threads), "-c"+strconv.Itoa(*conns),
		"-d"+strconv.Itoa(int(duration.Seconds()))+"s", "--latency", target).CombinedOutput()
	if err != nil {
		return 0, "", "", "", fmt.Errorf("wrk: %v: %s", err, out)
	}
	m := rpsRe.FindSubmatch(out)
	if m == nil {
		return 0, "", "", "", fmt.Errorf("wrk printed no Requests/sec: %s", out)
	}
	rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, pm := range pctRe.FindAllSubmatch(out, -1) {
		switch string(pm[1]) {
		case "50":
			p50 = string(pm[2])
		case "99":
			p99 = string(pm[2])
		}
	}
	errs = "0"
	var parts []string
	for _, em := range errsRe.FindAllSubmatch(out, -1) {
		parts = append(parts, strings.TrimSpace(string(em[0])))
	}
	if len(parts) > 0 {
		errs = strings.Join(parts, "; ")
	}
	return rps, p50, p99, errs, nil
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
%s`, numCPU(), addr, srv.String())
	p := filepath.Join(dir, "haproxy.cfg")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

func waitTCP(addr string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func numCPU() int { return runtime.NumCPU() }
