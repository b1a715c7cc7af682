package observe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Each default rule against recorded signal sets: one that must fire it and
// one just on the other side of a threshold that must not.
func TestDefaultRulesOnRecordedSignals(t *testing.T) {
	cases := []struct {
		rule     string
		fire, no Signals
		evidence string
	}{
		{"db-reads", Signals{SigDBUsage: 0.95, SigDBReadShare: 0.9}, Signals{SigDBUsage: 0.95, SigDBReadShare: 0.3}, "db.pool.usage 0.95 ≥ 0.8"},
		{"db-reads-slow", Signals{SigDBP99: 0.4, SigDBReadShare: 0.8}, Signals{SigDBP99: 0.05, SigDBReadShare: 0.8}, "db.latency.p99 0.4 ≥ 0.25"},
		{"cache-size", Signals{SigCacheRate: 100, SigCacheHit: 0.4, SigCacheEvictMiss: 0.9}, Signals{SigCacheRate: 100, SigCacheHit: 0.95, SigCacheEvictMiss: 0.9}, "cache.hit_ratio 0.4 < 0.8"},
		{"cache-ttl", Signals{SigCacheRate: 100, SigCacheHit: 0.4, SigCacheEvictMiss: 0}, Signals{SigCacheRate: 0.5, SigCacheHit: 0.4, SigCacheEvictMiss: 0}, "cache.evictions.per_miss 0 < 0.5"},
		{"queue-workers", Signals{SigQueueAge: 120, SigQueueAgeGrowth: 1}, Signals{SigQueueAge: 120, SigQueueAgeGrowth: -2}, "queue.oldest_age 120 ≥ 30"},
		{"shard-hot", Signals{SigShardSkew: 3.5}, Signals{SigShardSkew: 1.1}, "shard.skew 3.5 ≥ 2"},
		{"web-single", Signals{SigCPU: 0.93, SigWebInstances: 1}, Signals{SigCPU: 0.93, SigWebInstances: 3}, "web.cpu 0.93 ≥ 0.8"},
		{"web-tier", Signals{SigLBInflight: 50, SigWebInstances: 3}, Signals{SigLBInflight: 10, SigWebInstances: 3}, "lb.inflight.per_backend 50 ≥ 32"},
		{"replica-lag", Signals{SigReplicaLag: 12}, Signals{SigReplicaLag: 0.2}, "replica.lag 12 ≥ 5"},
		{"dependency-down", Signals{SigBreakersOpen: 1, SigHTTPErrors: 0.4}, Signals{SigBreakersOpen: 0, SigHTTPErrors: 0.4}, "breakers.open 1 ≥ 1"},
		{"db-reads-replicas", Signals{SigDBReadShare: 0.85, SigReplicaLag: 0.1, SigDBRate: 120}, Signals{SigDBReadShare: 0.85, SigDBRate: 120}, "db.read_share 0.85 ≥ 0.5"},
	}
	byID := map[string]Rule{}
	for _, r := range DefaultRules {
		byID[r.ID] = r
	}
	if len(cases) != len(byID) {
		t.Fatalf("%d cases for %d default rules: test every rule", len(cases), len(byID))
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			r, ok := byID[c.rule]
			if !ok {
				t.Fatalf("no default rule %q", c.rule)
			}
			ad, fired, err := runRule(r, c.fire)
			if err != nil || !fired {
				t.Fatalf("did not fire on %v: %v", c.fire, err)
			}
			var ev []string
			for _, e := range ad.Evidence {
				ev = append(ev, e.String())
			}
			if !strings.Contains(strings.Join(ev, "; "), c.evidence) {
				t.Errorf("evidence %q lacks %q", ev, c.evidence)
			}
			if _, fired, _ := runRule(r, c.no); fired {
				t.Errorf("fired on %v", c.no)
			}
			if _, fired, _ := runRule(r, Signals{}); fired {
				t.Error("fired with no signals at all")
			}
		})
	}
}

func TestPanickingRuleIsReportedAndOthersRun(t *testing.T) {
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	defer mp.Shutdown(context.Background())
	g, _ := mp.Meter("t").Float64Gauge("ladder.shard.skew")
	g.Record(context.Background(), 4)
	rules := []Rule{
		{ID: "boom", Check: func(Signals) (bool, []Evidence) { panic("rule bug") }},
		DefaultRules[5], // shard-hot
	}
	a, err := NewAdvisor(rd, AdvisorOptions{Rules: rules, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := a.Evaluate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) != 1 || rep.Failed[0].Rule != "boom" || !errors.Is(rep.Failed[0].Err, ErrPanic) ||
		!strings.Contains(rep.Failed[0].Err.Error(), "rule bug") {
		t.Errorf("Failed = %+v", rep.Failed)
	}
	if len(rep.Advice) != 1 || rep.Advice[0].Rule != "shard-hot" {
		t.Errorf("Advice = %+v, want shard-hot", rep.Advice)
	}
}

// Signals come from the real instrument names whatever their kind: the
// same advice from a synchronous counter and an observable one.
func TestAdvisorReadsInstrumentsOfEitherKind(t *testing.T) {
	for _, observable := range []bool{false, true} {
		rd := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
		m := mp.Meter("github.com/ladder-go/ladder/cache")
		var hits, misses, evictions int64
		ctx := context.Background()
		if observable {
			h, _ := m.Int64ObservableCounter(instCacheHits)
			mi, _ := m.Int64ObservableCounter(instCacheMisses)
			ev, _ := m.Int64ObservableCounter(instCacheEvict)
			_, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
				o.ObserveInt64(h, hits)
				o.ObserveInt64(mi, misses)
				o.ObserveInt64(ev, evictions)
				return nil
			}, h, mi, ev)
			if err != nil {
				t.Fatal(err)
			}
		}
		var hc, mc, ec metric.Int64Counter
		if !observable {
			hc, _ = m.Int64Counter(instCacheHits)
			mc, _ = m.Int64Counter(instCacheMisses)
			ec, _ = m.Int64Counter(instCacheEvict)
		}
		add := func(dh, dm, de int64) {
			hits, misses, evictions = hits+dh, misses+dm, evictions+de
			if !observable {
				hc.Add(ctx, dh)
				mc.Add(ctx, dm)
				ec.Add(ctx, de)
			}
		}
		now := time0
		a, err := NewAdvisor(rd, AdvisorOptions{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		add(900, 100, 0)
		if _, err := a.Evaluate(ctx); err != nil {
			t.Fatal(err)
		}
		add(300, 700, 650) // a minute of misses that each evicted
		now = now.Add(time.Minute)
		rep, err := a.Evaluate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := rep.Signals[SigCacheHit]; got != 0.3 {
			t.Errorf("observable=%v: hit ratio %v, want 0.3 (over the interval only)", observable, got)
		}
		if len(rep.Advice) != 1 || rep.Advice[0].Rule != "cache-size" {
			t.Errorf("observable=%v: advice %+v, want cache-size", observable, rep.Advice)
		}
		_ = mp.Shutdown(ctx)
	}
}
