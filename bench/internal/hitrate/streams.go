// Package hitrate holds the request streams and the cache adapters that
// bench/cmd/hitratio and BenchmarkHitRatio replay: the shipped public trace
// (bench/testdata), synthetic shapes generated deterministically in code,
// and every ladder store beside golang-lru, otter and ristretto.
package hitrate

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Stream is a request sequence with the cache sizes it is replayed at.
type Stream struct {
	Name string
	// About says what the stream is and where it comes from; synthetic
	// streams say so.
	About string
	Keys  []uint64
	Sizes []int
}

// Streams returns the default streams: the public traces under testdata
// (a directory holding bench/testdata's files) and the synthetic shapes.
func Streams(testdata string) ([]Stream, error) {
	gli, err := ReadTrace(filepath.Join(testdata, "gli.lirs.gz"))
	if err != nil {
		return nil, err
	}
	out := []Stream{{
		Name: "gli", About: "LIRS trace gli (glimpse, real; bench/testdata/README.md)",
		Keys: gli, Sizes: []int{250, 500, 1000},
	}}
	for _, s := range []float64{0.7, 0.9, 1.01, 1.2} {
		out = append(out, Stream{
			Name:  fmt.Sprintf("zipf-%v", s),
			About: fmt.Sprintf("synthetic: Zipf s=%v over 100 000 keys, 200 000 requests", s),
			Keys:  Zipf(s, 100_000, 200_000, 1), Sizes: []int{1000, 5000, 20000},
		})
	}
	return append(out,
		Stream{Name: "loop", About: "synthetic: keys 0…4999 read in order, 20 times (a loop larger than every size)",
			Keys: Loop(5000, 20), Sizes: []int{1000, 2500, 4000}},
		Stream{Name: "scan-hot", About: "synthetic: Zipf s=0.9 over a hot set of 2 000 keys, each 5 000 requests followed by a one-pass scan of 5 000 new keys",
			Keys: ScanHot(2000, 5000, 5000, 20, 2), Sizes: []int{500, 1000, 2000}},
		Stream{Name: "oltp", About: "synthetic, database-style: point reads Zipf s=0.9 over 100 000 rows, and 1 in 10 queries an index range scan of 10–100 consecutive rows",
			Keys: OLTP(100_000, 200_000, 3), Sizes: []int{1000, 5000, 20000}},
		Stream{Name: "search", About: "synthetic, search-style: queries Zipf s=0.8 over 50 000 terms whose popularity drifts (every 10 000 requests 500 top ranks swap with colder terms)",
			Keys: Search(50_000, 200_000, 4), Sizes: []int{1000, 5000, 20000}},
		Stream{Name: "multi", About: "synthetic mix of the real gli trace, a loop of 3 000 keys and Zipf s=0.9 over 20 000 keys, interleaved in runs of 1–200 requests (several programs sharing one cache)",
			Keys: Multi(gli, 5), Sizes: []int{500, 1000, 2000}},
	), nil
}

// zipfGen draws ranks in [0, n) with P(r) ∝ 1/(r+1)^s for any s > 0.
type zipfGen struct {
	cdf []float64
	r   *rand.Rand
}

func newZipf(s float64, n int, seed uint64) *zipfGen {
	cdf := make([]float64, n)
	sum := 0.0
	for i := range cdf {
		sum += 1 / math.Pow(float64(i+1), s)
		cdf[i] = sum
	}
	for i := range cdf {
		cdf[i] /= sum
	}
	return &zipfGen{cdf, rand.New(rand.NewPCG(seed, 0x1adde5))}
}

func (z *zipfGen) next() uint64 {
	return uint64(sort.SearchFloat64s(z.cdf, z.r.Float64()))
}

// Zipf returns reqs requests over n keys, Zipf-distributed with exponent s.
func Zipf(s float64, n, reqs int, seed uint64) []uint64 {
	z := newZipf(s, n, seed)
	out := make([]uint64, reqs)
	for i := range out {
		out[i] = z.next()
	}
	return out
}

// Loop reads keys 0…n−1 in order, reps times.
func Loop(n, reps int) []uint64 {
	out := make([]uint64, 0, n*reps)
	for range reps {
		for k := range n {
			out = append(out, uint64(k))
		}
	}
	return out
}

// ScanHot alternates hot requests (Zipf s=0.9 over hot keys) with one-pass
// scans of scan keys never seen before, rounds times.
func ScanHot(hot, hotReqs, scan, rounds int, seed uint64) []uint64 {
	z := newZipf(0.9, hot, seed)
	next := uint64(hot)
	var out []uint64
	for range rounds {
		for range hotReqs {
			out = append(out, z.next())
		}
		for range scan {
			out = append(out, next)
			next++
		}
	}
	return out
}

// OLTP is point reads over rows with 1 in 10 queries an index range scan.
func OLTP(rows, reqs int, seed uint64) []uint64 {
	z := newZipf(0.9, rows, seed)
	r := rand.New(rand.NewPCG(seed, 7))
	// Spread popular rows over the key space, as primary keys are.
	perm := r.Perm(rows)
	out := make([]uint64, 0, reqs)
	for len(out) < reqs {
		start := uint64(perm[z.next()])
		if r.IntN(10) != 0 {
			out = append(out, start)
			continue
		}
		for i := range 10 + r.IntN(91) {
			out = append(out, (start+uint64(i))%uint64(rows))
		}
	}
	return out[:reqs]
}

// Search is queries over terms whose popularity ranks drift.
func Search(terms, reqs int, seed uint64) []uint64 {
	z := newZipf(0.8, terms, seed)
	r := rand.New(rand.NewPCG(seed, 9))
	perm := r.Perm(terms)
	out := make([]uint64, reqs)
	for i := range out {
		if i > 0 && i%10_000 == 0 {
			for range 500 {
				a, b := r.IntN(2000), 2000+r.IntN(terms-2000)
				perm[a], perm[b] = perm[b], perm[a]
			}
		}
		out[i] = uint64(perm[z.next()])
	}
	return out
}

// Multi interleaves gli, a loop and a Zipf stream in runs of 1–200
// requests, each in its own key space, until gli is used up.
func Multi(gli []uint64, seed uint64) []uint64 {
	r := rand.New(rand.NewPCG(seed, 11))
	z := newZipf(0.9, 20_000, seed)
	var out []uint64
	gi, li := 0, 0
	for gi < len(gli) {
		n := 1 + r.IntN(200)
		for range n {
			switch r.IntN(3) {
			case 0:
				if gi < len(gli) {
					out = append(out, gli[gi])
					gi++
				}
			case 1:
				out = append(out, 1<<40|uint64(li%3000))
				li++
			default:
				out = append(out, 2<<40|z.next())
			}
		}
	}
	return out
}

// maxLine bounds one trace line; longer lines are an error, not a crash.
const maxLine = 1 << 16

// ParseTrace reads one request per line: the first field (split on
// whitespace or commas) is the key. Blank lines, '#' comments and LIRS "*"
// markers are skipped. Keys map to dense ids in order of first appearance.
func ParseTrace(r io.Reader) ([]uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	ids := map[string]uint64{}
	var keys []uint64
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text == "*" || strings.HasPrefix(text, "#") {
			continue
		}
		field, _, _ := strings.Cut(strings.ReplaceAll(text, ",", " "), " ")
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		id, ok := ids[field]
		if !ok {
			id = uint64(len(ids))
			ids[field] = id
		}
		keys = append(keys, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("trace line %d: %w", line+1, err)
	}
	return keys, nil
}

// ReadTrace opens a trace file, gunzipping names ending in .gz.
func ReadTrace(path string) ([]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	keys, err := ParseTrace(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}
