package main

import "testing"

const wrkOut = `Running 5s test @ http://127.0.0.1:41234/obj/1k
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.51ms    3.10ms  48.20ms   90.12%
    Req/Sec    28.11k     1.20k   30.02k    70.00%
  Latency Distribution
     50%    1.80ms
     75%    2.90ms
     90%    5.10ms
     99%    1.20s
  139870 requests in 5.00s, 160.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  27973.51
Transfer/sec:     32.02MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkOut))
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{rps: 27973.51, requests: 139870, p50: 1800, p99: 1.2e6, non2xx: 4, sockErrs: 2, timeouts: 1}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused")); err == nil {
		t.Error("parseWrk accepted output without Requests/sec")
	}
}
