// Command results turns `go test -bench` output (any -count) into the
// markdown tables of bench/RESULTS.md: one table per Benchmark function,
// the median of every figure, and for each peer row the ratio against the
// ladder row it pairs with.
//
// Sub-benchmarks are named `ladder-<variant>` and `<peer>-<variant>`; a peer
// row pairs with the ladder row whose variant is the longest suffix of the
// peer's name (`kratos-p2c` ↔ `ladder-p2c`, `golang-lru-lru` ↔ `ladder-lru`).
//
//	go test -run '^$' -bench . -count 6 ./... | go run ./cmd/results -pkgdir . > RESULTS.md
//
// Server benchmarks under cmd/ (cmd/edgebench) print the same line format
// after a `cmd: <name>` line, plus `note: ` lines: the notes are printed
// as paragraphs before the tables, the reproduce command becomes
// `go run ./cmd/<name>`, and a group measured in req/s (higher is better)
// gets the ratio ladder ÷ peer of req/s instead of time.
//
// With -figures it turns a drill's figures file into markdown instead (see
// figures), for bench/DRILLS.md.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// sample is one line of benchmark output: its figures by unit.
type row struct {
	pkg, fn, sub string
	cmd          string               // the cmd/<name> that printed it, "" for go test
	values       map[string][]float64 // unit → samples
}

var procSuffix = regexp.MustCompile(`-(\d+)$`)

func main() {
	procs := flag.Int("procs", runtime.GOMAXPROCS(0), "GOMAXPROCS the benchmarks ran with (its -N suffix is stripped)")
	count := flag.Int("count", 1, "the -count the benchmarks ran with, for the reproduce commands")
	drill := flag.Bool("figures", false, "read a drill's figures file (JSON object or text lines) instead and print markdown")
	flag.Parse()
	if *drill {
		if err := figures(os.Stdout, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "results:", err)
			os.Exit(1)
		}
		return
	}
	rows, notes, err := parseNotes(os.Stdin, *procs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "results:", err)
		os.Exit(1)
	}
	for _, n := range notes {
		fmt.Fprintf(os.Stdout, "%s\n\n", n)
	}
	write(os.Stdout, rows, *count)
}

func parse(r io.Reader, procs int) ([]*row, error) {
	rows, _, err := parseNotes(r, procs)
	return rows, err
}

// roundRatio is the unit of a ratio a server benchmark measured round by
// round (ladder's req/s over the peer's in the same round): its median is
// the ratio column.
const roundRatio = "ladder÷peer"

// titles names the tables of the server benchmarks that print benchmark lines.
var titles = map[string]string{
	"BenchmarkEdgeCache":    "Edge cache: requests/s for cached objects",
	"BenchmarkEdgeCollapse": "Edge cache: origin requests per burst of concurrent misses on one cold key",
}

func parseNotes(r io.Reader, procs int) ([]*row, []string, error) {
	byName := map[string]*row{}
	var order []*row
	var notes []string
	pkg, cmd := "", ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		if c, ok := strings.CutPrefix(line, "cmd: "); ok {
			cmd = strings.TrimSpace(c)
			continue
		}
		if n, ok := strings.CutPrefix(line, "note: "); ok {
			notes = append(notes, strings.TrimSpace(n))
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark that printed a log line, or a skip
		}
		name := f[0]
		if procs > 1 {
			if m := procSuffix.FindStringSubmatch(name); m != nil && m[1] == strconv.Itoa(procs) {
				name = strings.TrimSuffix(name, m[0])
			}
		}
		fn, sub, _ := strings.Cut(name, "/")
		key := pkg + " " + name
		rw := byName[key]
		if rw == nil {
			rw = &row{pkg: pkg, fn: fn, sub: sub, cmd: cmd, values: map[string][]float64{}}
			byName[key] = rw
			order = append(order, rw)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			rw.values[f[i+1]] = append(rw.values[f[i+1]], v)
		}
	}
	return order, notes, sc.Err()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pair finds the ladder row a peer row compares against.
func pair(peer *row, group []*row) *row {
	var best *row
	bestLen := -1
	for _, r := range group {
		variant, ok := strings.CutPrefix(r.sub, "ladder-")
		if !ok || r == peer {
			continue
		}
		if (peer.sub == variant || strings.HasSuffix(peer.sub, "-"+variant)) && len(variant) > bestLen {
			best, bestLen = r, len(variant)
		}
	}
	return best
}

func write(w io.Writer, rows []*row, count int) {
	var groups [][]*row
	idx := map[string]int{}
	for _, r := range rows {
		k := r.pkg + " " + r.fn
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], r)
	}
	std := map[string]bool{"ns/op": true, "B/op": true, "allocs/op": true}
	for _, g := range groups {
		var extra []string
		for _, r := range g {
			for u := range r.values {
				if !std[u] && !slices.Contains(extra, u) {
					extra = append(extra, u)
				}
			}
		}
		sort.Strings(extra)
		title, perSecond := g[0].fn, slices.Contains(extra, "req/s")
		if t, ok := titles[title]; ok {
			title = t
		}
		if perSecond { // the figure and its latencies first; ladder÷peer is the ratio column
			lead := []string{"req/s", "p50-µs", "p99-µs"}
			extra = append(lead, slices.DeleteFunc(extra, func(u string) bool { return slices.Contains(lead, u) || u == roundRatio })...)
		}
		fmt.Fprintf(w, "### %s\n\n", title)
		if g[0].cmd != "" {
			fmt.Fprintf(w, "`cd bench && go run ./cmd/%s` (%s)\n\n", g[0].cmd, g[0].fn)
		} else {
			bt := ""
			if g[0].fn == "BenchmarkHitRatio" {
				bt = " -benchtime 1x" // one replay per run, as scripts/bench runs it
			}
			fmt.Fprintf(w, "`cd bench && go test -run '^$' -bench '^%s$'%s -count %d ./%s`\n\n", g[0].fn, bt, count, relPkg(g[0].pkg))
		}
		// the standard columns, less those no row of a server benchmark has
		var stdCols []string
		for _, u := range []string{"ns/op", "B/op", "allocs/op"} {
			has := g[0].cmd == ""
			for _, r := range g {
				has = has || len(r.values[u]) > 0
			}
			if has {
				stdCols = append(stdCols, u)
			}
		}
		head := append([]string{"case"}, stdCols...)
		head = append(head, extra...)
		// a server benchmark's figures without ns/op or req/s (counts) have no ratio
		noRatio := g[0].cmd != "" && !perSecond && !slices.Contains(stdCols, "ns/op")
		switch {
		case perSecond:
			head = append(head, "ladder ÷ peer (req/s)")
		case !noRatio:
			head = append(head, "ladder ÷ peer (time)")
		}
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
		for _, r := range g {
			cells := []string{r.sub}
			for _, u := range stdCols {
				cells = append(cells, num(r.values[u]))
			}
			for _, u := range extra {
				cells = append(cells, num(r.values[u]))
			}
			ratio := ""
			if path, ok := strings.CutSuffix(r.sub, "/sdk"); ok {
				// BenchmarkTelemetry: the SDK recording against telemetry off,
				// same path, same run (the bar: ≤ 1.10×).
				for _, l := range g {
					if l.sub != path+"/off" {
						continue
					}
					if sn, on := median(r.values["ns/op"]), median(l.values["ns/op"]); sn > 0 && on > 0 {
						ratio = fmt.Sprintf("%.2f× sdk ÷ off", sn/on)
					}
				}
			} else if !strings.HasPrefix(r.sub, "ladder-") && !strings.HasSuffix(r.sub, "/off") {
				if l := pair(r, g); l != nil {
					unit := "ns/op"
					if perSecond {
						unit = "req/s" // ladder's requests/s over the peer's: above 1, ladder is faster
					}
					if rr := r.values[roundRatio]; perSecond && len(rr) > 0 {
						// measured round by round: the median of the rounds' ratios
						ratio = fmt.Sprintf("%.2f× (%s)", median(rr), l.sub)
					} else if pn, ln := median(r.values[unit]), median(l.values[unit]); pn > 0 && ln > 0 {
						ratio = fmt.Sprintf("%.2f× (%s)", ln/pn, l.sub)
					}
				}
			}
			if !noRatio {
				cells = append(cells, ratio)
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
		}
		fmt.Fprintln(w)
	}
}

func relPkg(pkg string) string {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, "github.com/ladder-go/ladder/bench"), "/")
	if rel == "" {
		return ""
	}
	return rel
}

func num(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	v := median(xs)
	switch {
	case v == math.Trunc(v) || v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
