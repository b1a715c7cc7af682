// Command hitratio replays request streams against every ladder cache store
// and against golang-lru's exact LRU, otter and ristretto, at several sizes,
// and prints one markdown table per stream: rows are caches, columns are
// sizes, each cell the median hit ratio of -runs replays through a fresh
// cache (ristretto samples its evictions and ladder's TinyLFU and otter seed
// their sketches at random, so single runs vary). Use it to pick a store for
// your own access pattern before production does it for you:
//
//	go run ./cmd/hitratio                        # every shipped stream (bench/testdata/README.md)
//	go run ./cmd/hitratio -streams gli,loop      # some of them
//	go run ./cmd/hitratio -trace keys.txt.gz -sizes 1000,10000,100000
//
// The default streams are the public gli trace (bench/testdata) and
// synthetic shapes generated deterministically in code, each labelled as
// such: Zipf at s = 0.7, 0.9, 1.01 and 1.2, a loop larger than the cache,
// a hot set under one-pass scans, a database-style and a search-style
// stream, and a multi-program mix. A -trace file is one request per line;
// the first field (whitespace- or comma-separated) is the key; .gz files
// are read compressed.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ladder-go/ladder/bench/internal/hitrate"
)

func main() {
	trace := flag.String("trace", "", "trace file to replay instead of the shipped streams (one key per line, .gz ok)")
	sizes := flag.String("sizes", "", "comma-separated cache sizes in entries (default per stream; 100,1000,10000 for -trace)")
	streams := flag.String("streams", "", "comma-separated names of the shipped streams to replay (default all)")
	runs := flag.Int("runs", 5, "replays per cell; the table shows their median")
	spread := flag.Bool("spread", false, "also print each cell's lowest and highest run")
	testdata := flag.String("testdata", "testdata", "directory of the shipped traces")
	flag.Parse()
	if err := run(os.Stdout, *trace, *sizes, *streams, *testdata, *runs, *spread); err != nil {
		fmt.Fprintln(os.Stderr, "hitratio:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, trace, sizeList, names, testdata string, runs int, spread bool) error {
	if runs <= 0 || runs > 101 {
		return fmt.Errorf("-runs %d: must be in [1, 101]", runs)
	}
	var loads []hitrate.Stream
	if trace != "" {
		keys, err := hitrate.ReadTrace(trace)
		if err != nil {
			return err
		}
		loads = []hitrate.Stream{{Name: trace, About: "your trace", Keys: keys, Sizes: []int{100, 1000, 10000}}}
	} else {
		all, err := hitrate.Streams(testdata)
		if err != nil {
			return err
		}
		loads, err = pick(all, names)
		if err != nil {
			return err
		}
	}
	if sizeList != "" {
		sz, err := parseSizes(sizeList)
		if err != nil {
			return err
		}
		for i := range loads {
			loads[i].Sizes = sz
		}
	}
	fmt.Fprintf(w, "Hit ratio, median of %d runs per cell (fresh cache per run).\n\n", runs)
	for _, st := range loads {
		cells, err := hitrate.Table(st, hitrate.Caches, runs)
		if err != nil {
			return err
		}
		print(w, st, cells, spread)
	}
	return nil
}

// pick returns the streams named in list (all when list is empty).
func pick(all []hitrate.Stream, list string) ([]hitrate.Stream, error) {
	if list == "" {
		return all, nil
	}
	var out []hitrate.Stream
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(s hitrate.Stream) bool { return s.Name == name })
		if i < 0 {
			var known []string
			for _, s := range all {
				known = append(known, s.Name)
			}
			return nil, fmt.Errorf("-streams: no stream %q (have %s)", name, strings.Join(known, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func parseSizes(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-sizes: %q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// print writes one table: a row per cache, a hit% column per size; the
// best cell of each column is bold, and the last row says whether ladder's
// best store reached the best peer's ratio.
func print(w io.Writer, st hitrate.Stream, cells [][]hitrate.Cell, spread bool) {
	fmt.Fprintf(w, "### %s (%d requests)\n\n%s\n\n| cache |", st.Name, len(st.Keys), st.About)
	for _, s := range st.Sizes {
		fmt.Fprintf(w, " %d |", s)
	}
	fmt.Fprint(w, "\n|---|")
	for range st.Sizes {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
	best := make([]float64, len(st.Sizes))
	ladder := make([]float64, len(st.Sizes))
	peer := make([]float64, len(st.Sizes))
	for i, c := range hitrate.Caches {
		for j, cell := range cells[i] {
			best[j] = max(best[j], cell.Med)
			switch {
			case strings.HasPrefix(c.Name, "ladder-"):
				ladder[j] = max(ladder[j], cell.Med)
			case c.Name == "otter" || c.Name == "ristretto":
				peer[j] = max(peer[j], cell.Med)
			}
		}
	}
	for i, c := range hitrate.Caches {
		fmt.Fprintf(w, "| %s |", c.Name)
		for j, cell := range cells[i] {
			v := fmt.Sprintf("%.2f%%", cell.Med)
			if cell.Med == best[j] {
				v = "**" + v + "**"
			}
			if spread {
				v += fmt.Sprintf(" (%.2f–%.2f)", cell.Lo, cell.Hi)
			}
			fmt.Fprintf(w, " %s |", v)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "| ladder's best ÷ best of otter, ristretto |")
	for j := range st.Sizes {
		fmt.Fprintf(w, " %.3f× |", ladder[j]/max(peer[j], 1e-9))
	}
	fmt.Fprint(w, "\n\n")
}
