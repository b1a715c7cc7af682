// Command shardsim replays a key stream against every shard strategy and
// prints, per strategy and shard count, what it costs and how it places
// keys: lookup time (hash included), balance (max/mean load, by requests and
// by distinct keys), and the share of keys that move when a shard is added
// (n→n+1) or removed (n→n−1), beside the ideal 1/(n+1) and 1/n. Use it to
// pick a strategy on your own keys before a reshard does it for you:
//
//	go run ./cmd/shardsim                               # uniform, sequential and Zipf streams
//	go run ./cmd/shardsim -keys ids.txt.gz -shards 4,16  # your keys, one per line
//
// A key file has one request per line; the first field (split on
// whitespace or commas) is the key, hashed as bytes with shard.KeyString;
// blank lines and '#' comments are skipped; .gz files are read compressed.
// Repeated keys count once for "keys" figures and every time for "requests".
//
// Strategies: ladder's modulo (the naive baseline), jump, rendezvous,
// Maglev, bounded-load consistent (default and 7919 partitions at Load
// 1.05) and ranges (add = split db0's range, remove = merge the last two);
// beside them buraksezer/consistent used directly (LocateKey) and a classic
// 160-virtual-node ring. Removing a shard removes the middle one where a
// strategy allows it (named strategies) and the last one otherwise.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

func main() {
	keysFile := flag.String("keys", "", "key file (one key per line, .gz ok); empty: generated streams")
	shards := flag.String("shards", "4,16,128", "comma-separated shard counts (each ≥ 2)")
	gen := flag.String("gen", "uniform,sequential,zipf", "generated streams when -keys is empty: uniform, sequential, zipf")
	n := flag.Int("n", 1_000_000, "requests per generated stream (≤ 10 000 000)")
	zipfS := flag.Float64("zipf-s", 1.1, "Zipf exponent s (> 1)")
	flag.Parse()
	if err := run(*keysFile, *shards, *gen, *n, *zipfS); err != nil {
		fmt.Fprintln(os.Stderr, "shardsim:", err)
		os.Exit(1)
	}
}

type stream struct {
	name string
	keys [][]byte
}

func run(keysFile, shardList, gens string, n int, s float64) error {
	counts, err := parseCounts(shardList)
	if err != nil {
		return err
	}
	var streams []stream
	if keysFile != "" {
		keys, err := readKeys(keysFile)
		if err != nil {
			return err
		}
		streams = append(streams, stream{keysFile, keys})
	} else {
		if n <= 0 || n > 10_000_000 || !(s > 1) {
			return fmt.Errorf("need 0 < -n ≤ 10000000 and -zipf-s > 1 (got %d, %v)", n, s)
		}
		for g := range strings.SplitSeq(gens, ",") {
			st, err := generate(strings.TrimSpace(g), n, s)
			if err != nil {
				return err
			}
			streams = append(streams, st)
		}
	}
	for _, st := range streams {
		for _, c := range counts {
			if err := table(st, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseCounts(list string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(list, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 2 || c > 4096 {
			return nil, fmt.Errorf("-shards: %q: want counts from 2 to 4096", f)
		}
		out = append(out, c)
	}
	return out, nil
}

// generate makes a stream of user-ID keys "user:<id>".
func generate(kind string, n int, s float64) (stream, error) {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([][]byte, n)
	switch kind {
	case "uniform":
		for i := range keys {
			keys[i] = strconv.AppendUint([]byte("user:"), r.Uint64N(1<<40), 10)
		}
	case "sequential":
		for i := range keys {
			keys[i] = strconv.AppendUint([]byte("user:"), uint64(i+1), 10)
		}
	case "zipf":
		z := rand.NewZipf(r, s, 1, uint64(n-1))
		for i := range keys {
			keys[i] = strconv.AppendUint([]byte("user:"), z.Uint64(), 10)
		}
		kind = fmt.Sprintf("zipf s=%v", s)
	default:
		return stream{}, fmt.Errorf("-gen: unknown stream %q (uniform, sequential, zipf)", kind)
	}
	return stream{fmt.Sprintf("%s, %d requests", kind, n), keys}, nil
}
