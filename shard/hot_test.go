package shard_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/shard"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock() *fakeClock               { c := &fakeClock{}; c.ns.Store(int64(time.Hour)); return c }
func names(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = string(rune('a' + i))
	}
	return s
}

// zipfStream is a deterministic Zipf(1.1) stream of key hashes over 100k
// keys, with the true count of each.
func zipfStream(n int, seed uint64) ([]uint64, map[uint64]int64) {
	z := rand.NewZipf(rand.New(rand.NewPCG(seed, seed+1)), 1.1, 1, 100_000)
	keys := make([]uint64, n)
	counts := map[uint64]int64{}
	for i := range keys {
		keys[i] = shard.KeyUint64(z.Uint64())
		counts[keys[i]]++
	}
	return keys, counts
}

func trueTop(counts map[uint64]int64, k int) []uint64 {
	all := make([]uint64, 0, len(counts))
	for key := range counts {
		all = append(all, key)
	}
	sort.Slice(all, func(i, j int) bool {
		if counts[all[i]] != counts[all[j]] {
			return counts[all[i]] > counts[all[j]]
		}
		return all[i] < all[j]
	})
	return all[:k]
}

// checkTop: the true top k are the k reported, and each reported count
// brackets the true one ([Count-Err, Count]).
func checkTop(t *testing.T, got []shard.HotKey, counts map[uint64]int64, k int, scale int64) {
	t.Helper()
	want := trueTop(counts, k)
	var keys []uint64
	for _, h := range got {
		keys = append(keys, h.Key)
		tc := counts[h.Key]
		if scale == 1 && (tc > h.Count || tc < h.Count-h.Err) {
			t.Errorf("key %x: true count %d outside [%d, %d]", h.Key, tc, h.Count-h.Err, h.Count)
		}
		if scale > 1 && math.Abs(float64(tc-h.Count)) > float64(h.Err)+5*math.Sqrt(float64(tc*scale))+float64(scale) {
			t.Errorf("key %x: true count %d, sampled estimate %d ± %d", h.Key, tc, h.Count, h.Err)
		}
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("top %d keys %x, want %x", k, keys, want)
	}
}

func TestHotFindsZipfTopKeys(t *testing.T) {
	keys, counts := zipfStream(200_000, 7)
	j, _ := shard.NewJump(4)
	c := newClock()
	h, err := shard.NewHot(names(4), shard.HotOptions{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, k := range keys {
		h.Record(j.Shard(k), k)
	}
	checkTop(t, h.TopKeys(10), counts, 10, 1)
	st := h.Stats()
	var sum int64
	for _, n := range st.Counts {
		sum += n
	}
	if sum != int64(len(keys)) {
		t.Fatalf("stats count %d requests, recorded %d", sum, len(keys))
	}
}

// Goroutines record on different stripes; the merged summaries still find
// the true top keys.
func TestHotFindsTopKeysAcrossGoroutines(t *testing.T) {
	keys, counts := zipfStream(160_000, 11)
	j, _ := shard.NewJump(8)
	h, err := shard.NewHot(names(8), shard.HotOptions{Capacity: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	var wg sync.WaitGroup
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(keys); i += workers {
				h.Record(j.Shard(keys[i]), keys[i])
			}
		})
	}
	wg.Wait()
	checkTop(t, h.TopKeys(5), counts, 5, 1)
}

func TestHotSampledStillFindsTopKeys(t *testing.T) {
	keys, counts := zipfStream(200_000, 3)
	r := rand.New(rand.NewPCG(1, 2))
	h, err := shard.NewHot(names(2), shard.HotOptions{SampleEvery: 10, Rand: r.Uint64})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, k := range keys {
		h.Record(int(k%2), k)
	}
	checkTop(t, h.TopKeys(3), counts, 3, 10)
}

func TestHotStatsSkewAndRates(t *testing.T) {
	c := newClock()
	h, err := shard.NewHot(names(4), shard.HotOptions{Window: 10 * time.Second, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if st := h.Stats(); st.Skew != 0 {
		t.Fatalf("no requests: skew %v", st.Skew)
	}
	for i := range 600 {
		s := i % 4
		if i%2 == 0 {
			s = 0
		}
		h.Record(s, uint64(i))
	}
	c.add(2 * time.Second)
	st := h.Stats()
	if !slices.Equal(st.Counts, []int64{300, 150, 0, 150}) {
		t.Fatalf("counts %v", st.Counts)
	}
	if st.Skew != 2 || st.Max != 0 {
		t.Fatalf("skew %v max %d", st.Skew, st.Max)
	}
	if want := 300 / st.Span.Seconds(); st.Rates[0] != want {
		t.Fatalf("rate %v, want %v over %v", st.Rates[0], want, st.Span)
	}
}

// Requests age out: after a full window with no calls, nothing is left.
func TestHotWindowForgets(t *testing.T) {
	c := newClock()
	h, err := shard.NewHot(names(2), shard.HotOptions{Window: 10 * time.Second, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for range 100 {
		h.Record(1, 42)
	}
	c.add(5 * time.Second) // one half later: still in the window
	h.Record(0, 7)
	if st := h.Stats(); st.Counts[1] != 100 {
		t.Fatalf("after half a window: %v", st.Counts)
	}
	if top := h.TopKeys(1); len(top) != 1 || top[0].Key != 42 || top[0].Count != 100 {
		t.Fatalf("after half a window: %+v", top)
	}
	c.add(5 * time.Second) // the first half ages out
	st := h.Stats()
	if st.Counts[1] != 0 || st.Counts[0] != 1 {
		t.Fatalf("after a window: %v", st.Counts)
	}
	if top := h.TopKeys(5); len(top) != 1 || top[0].Key != 7 {
		t.Fatalf("after a window: %+v", top)
	}
	c.add(time.Hour)
	if st := h.Stats(); st.Counts[0] != 0 || len(h.TopKeys(5)) != 0 {
		t.Fatalf("an hour later: %v %v", st.Counts, h.TopKeys(5))
	}
}

func TestHotSuggestsTheTenantToIsolate(t *testing.T) {
	c := newClock()
	h, err := shard.NewHot(names(4), shard.HotOptions{Now: c.now, Capacity: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	keys, _ := zipfStream(20_000, 5) // background: no key carries 20% of a shard... except
	j, _ := shard.NewJump(4)
	for _, k := range keys {
		if s := j.Shard(k); true {
			h.Record(s, k+1) // shifted so the tenant below stands alone
		}
	}
	before := h.Suggest()
	tenant := shard.KeyString("tenant-42")
	ts := j.Shard(tenant)
	for range 10_000 {
		h.Record(ts, tenant)
	}
	got := h.Suggest()
	if len(got) == 0 || got[0].Key != tenant || got[0].Shard != ts || got[0].Share < 0.5 {
		t.Fatalf("suggest %+v (before: %+v)", got, before)
	}
	for _, k := range before {
		if k.Share < 0.2 {
			t.Fatalf("suggested %+v below the threshold", k)
		}
	}
	// The suggestion feeds a directory override.
	m, _ := shard.NewMap(1, names(4), j)
	m2, err := m.WithOverride(2, got[0].Key, "d")
	if err != nil || m2.Name(tenant) != "d" {
		t.Fatalf("override: %v", err)
	}
}

func TestHotOptionsValidate(t *testing.T) {
	for _, o := range []shard.HotOptions{{Window: -1}, {Capacity: -1}, {SampleEvery: -1}, {Threshold: 1.5}, {Threshold: -0.1}, {Threshold: math.NaN()}} {
		_, err := shard.NewHot(names(2), o)
		if !errors.Is(err, shard.ErrInvalidOptions) {
			t.Fatalf("%+v: %v", o, err)
		}
		onePrefix(t, "HotOptions", err)
	}
	if _, err := shard.NewHot(nil, shard.HotOptions{}); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Fatalf("no shards: %v", err)
	}
}

func TestHotRecordAllocatesNothing(t *testing.T) {
	h, err := shard.NewHot(names(4), shard.HotOptions{Capacity: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for i := range uint64(1000) {
		h.Record(int(i%4), i)
	}
	var i uint64
	if n := testing.AllocsPerRun(1000, func() { i++; h.Record(int(i%4), i%100) }); n != 0 {
		t.Fatalf("Record allocates %v per call", n)
	}
	h.Record(-1, 1) // out of range: ignored
	h.Record(4, 1)
}

func TestHotMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	h, err := shard.NewHot(names(2), shard.HotOptions{MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		h.Record(0, 1)
	}
	h.Record(1, 2)
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/ladder-go/ladder/shard" {
			continue
		}
		for _, m := range sm.Metrics {
			g, ok := m.Data.(metricdata.Gauge[float64])
			if !ok {
				t.Fatalf("%s: %T", m.Name, m.Data)
			}
			got[m.Name] = len(g.DataPoints)
			if m.Name == "ladder.shard.skew" && g.DataPoints[0].Value <= 1.5 {
				t.Fatalf("skew %v", g.DataPoints[0].Value)
			}
		}
	}
	if got["ladder.shard.request.rate"] != 2 || got["ladder.shard.skew"] != 1 {
		t.Fatalf("metrics %v", got)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkHotRecord(b *testing.B) {
	for _, every := range []int{1, 16} {
		b.Run(fmt.Sprintf("sample=%d", every), func(b *testing.B) {
			h, _ := shard.NewHot(names(8), shard.HotOptions{SampleEvery: every})
			defer h.Close()
			keys, _ := zipfStream(1<<14, 1)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					k := keys[i&(1<<14-1)]
					h.Record(int(k&7), k)
					i++
				}
			})
		})
	}
}

// A wall clock stepped back does not drop the window or stall Record.
func TestHotClockSteppedBack(t *testing.T) {
	c := newClock()
	h, err := shard.NewHot(names(2), shard.HotOptions{Window: 10 * time.Second, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.Record(0, 1)
	c.add(-time.Minute)
	h.Record(0, 1)
	if st := h.Stats(); st.Counts[0] != 2 || st.Span < 0 {
		t.Fatalf("after the clock stepped back: %+v", st)
	}
}
