package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"
)

const wrkOut = `Running 5s test @ http://127.0.0.1:40000/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     9.53ms    6.40ms  98.12ms   82.14%
    Req/Sec     3.10k   350.00     3.90k    70.00%
  Latency Distribution
     50%    8.10ms
     75%   11.00ms
     90%   16.00ms
     99%  850.00us
  30871 requests in 5.01s, 5.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 0
Requests/sec:   6161.90
Transfer/sec:      1.02MB
`

func TestParseWrk(t *testing.T) {
	s, err := parseWrk([]byte(wrkOut))
	if err != nil {
		t.Fatal(err)
	}
	if s.rps != 6161.90 || s.reqs != 30871 || s.p50 != 8100*time.Microsecond || s.p99 != 850*time.Microsecond {
		t.Errorf("parsed %+v", s)
	}
	if s.errs != "Socket errors: connect 0, read 2, write 0, timeout 0" {
		t.Errorf("errors %q", s.errs)
	}
	if _, err := parseWrk([]byte("unable to connect")); err == nil {
		t.Error("no Requests/sec: want an error")
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3 = %v", m)
	}
	if m := median([]int{4, 1, 3, 2}); m != 2 { // (2+3)/2 in ints
		t.Errorf("median of 4 = %v", m)
	}
	if m := median([]time.Duration(nil)); m != 0 {
		t.Errorf("median of none = %v", m)
	}
}

// TestCaddyConf: the config is JSON with round robin over every backend,
// the keep-alive pool of ladder's transport, and no admin endpoint; with
// caddy installed, caddy itself accepts it.
func TestCaddyConf(t *testing.T) {
	dir := t.TempDir()
	backends := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}
	p, err := caddyConf(dir, "127.0.0.1:4", backends)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Admin struct{ Disabled bool }
		Apps  struct {
			HTTP struct {
				Servers map[string]struct {
					Listen []string
					Routes []struct {
						Handle []struct {
							Handler       string
							Upstreams     []struct{ Dial string }
							LoadBalancing struct {
								SelectionPolicy struct{ Policy string } `json:"selection_policy"`
							} `json:"load_balancing"`
							Transport struct {
								KeepAlive struct {
									PerHost int `json:"max_idle_conns_per_host"`
								} `json:"keep_alive"`
							}
						}
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	h := c.Apps.HTTP.Servers["proxy"].Routes[0].Handle[0]
	if !c.Admin.Disabled || h.Handler != "reverse_proxy" || len(h.Upstreams) != 3 ||
		h.LoadBalancing.SelectionPolicy.Policy != "round_robin" || h.Transport.KeepAlive.PerHost != 256 {
		t.Errorf("config:\n%s", b)
	}
	if _, err := exec.LookPath("caddy"); err == nil {
		out, err := exec.Command("caddy", "validate", "--config", p).CombinedOutput()
		if err != nil {
			t.Errorf("caddy validate: %v\n%s", err, out)
		}
	}
}
