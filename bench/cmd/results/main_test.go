package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/ladder-go/ladder/bench
BenchmarkPick/ladder-p2c-2         	 1000000	        20.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkPick/ladder-p2c-2         	 1000000	        22.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkPick/ladder-p2c-2         	 1000000	        30.0 ns/op	       0 B/op	       0 allocs/op
BenchmarkPick/kratos-p2c-2         	 1000000	        100.0 ns/op	      48 B/op	       2 allocs/op
BenchmarkHitRatio/ladder-lru-zipf-1000-2  	 1	  5.0 ns/op	  41.5 hit%
BenchmarkHitRatio/otter-zipf-1000-2  	 1	  5.0 ns/op	  43.0 hit%
BenchmarkHit/golang-lru-lru-2     	 1	  10.0 ns/op
BenchmarkHit/ladder-lru-2     	 1	  11.0 ns/op
BenchmarkTelemetry/lb-pick-rr/off-2     	 1	  10.0 ns/op
BenchmarkTelemetry/lb-pick-rr/sdk-2     	 1	  10.5 ns/op
--- SKIP: BenchmarkStampede
PASS
`

func TestResultsTable(t *testing.T) {
	rows, err := parse(strings.NewReader(sample), 2)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	write(&b, rows, 6)
	out := b.String()
	for _, want := range []string{
		"### BenchmarkPick",
		"| ladder-p2c | 22 | 0 | 0 |  |",                     // median of 20, 22, 30
		"| kratos-p2c | 100 | 48 | 2 | 0.22× (ladder-p2c) |", // 22/100
		"| ladder-lru-zipf-1000 | 5 | – | – | 41.5 |",
		"| golang-lru-lru | 10 | – | – | 1.10× (ladder-lru) |",
		"-bench '^BenchmarkPick$' -count 6 ./",
		"| lb-pick-rr/off | 10 | – | – |  |",
		"| lb-pick-rr/sdk | 10.5 | – | – | 1.05× sdk ÷ off |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestFigures(t *testing.T) {
	in := `{"jobs":100000,"workers":4,"lost":0,"seconds":61.23456,"jobs_per_s":1633.1}
redisqueue crash drill: 100000 jobs, lost 0
`
	var b bytes.Buffer
	if err := figures(&b, strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	want := "| figure | value |\n|---|---|\n| jobs | 100000 |\n| workers | 4 |\n| lost | 0 |\n| seconds | 61.2 |\n| jobs per s | 1633 |\n\n" +
		"redisqueue crash drill: 100000 jobs, lost 0\n\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

const edgeSample = `cmd: edgebench
note: wrk pinned to CPU 0.
BenchmarkEdgeCache/ladder-hit-1KiB 	 29008 	 25000 req/s 	 2090 p50-µs 	 8200 p99-µs 	 0 errors
BenchmarkEdgeCache/nginx-hit-1KiB 	 12822 	 20000 req/s 	 3640 p50-µs 	 57100 p99-µs 	 0 errors
BenchmarkEdgeCache/varnish-hit-1KiB 	 12822 	 50000 req/s 	 3640 p50-µs 	 57100 p99-µs 	 0 errors
BenchmarkEdgeCache/ladder-hit-16KiB 	 1 	 100 req/s
BenchmarkEdgeCache/varnish-hit-16KiB 	 1 	 100 req/s 	 0.5 ladder÷peer
BenchmarkEdgeCache/ladder-hit-16KiB 	 1 	 300 req/s
BenchmarkEdgeCache/varnish-hit-16KiB 	 1 	 100 req/s 	 3 ladder÷peer
BenchmarkEdgeCache/ladder-hit-16KiB 	 1 	 200 req/s
BenchmarkEdgeCache/varnish-hit-16KiB 	 1 	 200 req/s 	 1 ladder÷peer
BenchmarkEdgeCollapse/ladder-cold 	 1 	 1 origin-req 	 100 clients
BenchmarkEdgeCollapse/nginx-cold 	 1 	 1 origin-req 	 100 clients
`

func TestResultsServerBenchmark(t *testing.T) {
	rows, notes, err := parseNotes(strings.NewReader(edgeSample), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0] != "wrk pinned to CPU 0." {
		t.Errorf("notes = %q", notes)
	}
	var b bytes.Buffer
	write(&b, rows, 1)
	out := b.String()
	for _, want := range []string{
		"### Edge cache: requests/s for cached objects",
		"`cd bench && go run ./cmd/edgebench` (BenchmarkEdgeCache)",
		"| ladder ÷ peer (req/s) |",
		"| case | req/s | p50-µs | p99-µs | errors | ladder ÷ peer (req/s) |",
		"| nginx-hit-1KiB | 20000 | 3640 | 57100 | 0 | 1.25× (ladder-hit-1KiB) |",
		"| varnish-hit-1KiB | 50000 | 3640 | 57100 | 0 | 0.50× (ladder-hit-1KiB) |",
		"| varnish-hit-16KiB | 100 | – | – | – | 1.00× (ladder-hit-16KiB) |", // median of 0.5, 3, 1 (not 200/100)
		"### Edge cache: origin requests per burst",
		"| nginx-cold | 100 | 1 |\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
