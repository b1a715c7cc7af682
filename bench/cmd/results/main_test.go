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
