package observe

import (
	"context"
	"math"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// A recorded minute of a service: HTTP traffic with 5xx, an lb pool, a
// queue falling behind, a lagging replica, an open breaker, a hot shard.
// Signals are derived from the interval between two collections.
func TestSignalsFromRecordedInstruments(t *testing.T) {
	ctx := context.Background()
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	defer mp.Shutdown(ctx)
	m := mp.Meter("test")

	dur, _ := m.Float64Histogram(instHTTPDuration, metric.WithExplicitBucketBoundaries(0.01, 0.1, 1))
	active, _ := m.Int64UpDownCounter(instHTTPActive)
	cpu, _ := m.Float64Counter(instCPUTime)
	inflight, _ := m.Int64Gauge(instLBInflight)
	lbReq, _ := m.Int64Counter(instLBRequests)
	age, _ := m.Float64Gauge(instQueueAge)
	depth, _ := m.Int64Gauge(instQueueDepth)
	lag, _ := m.Float64Gauge(instRepLag)
	rq, _ := m.Int64Counter(instRepQueries)
	br, _ := m.Int64Gauge(instBreakerState)
	skew, _ := m.Float64Gauge(instShardSkew)

	ok := metric.WithAttributes(keyStatusCode.Int(200))
	bad := metric.WithAttributes(keyStatusCode.Int(503))
	for range 100 {
		dur.Record(ctx, 0.005, ok)
	}
	age.Record(ctx, 10, metric.WithAttributes(keyQueueName.String("mail")))
	now := time0
	a, err := NewAdvisor(rd, AdvisorOptions{CPUs: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	first, err := a.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := first.Signals[SigHTTPRate]; ok {
		t.Error("a rate from a single collection")
	}

	now = now.Add(10 * time.Second)
	for range 90 {
		dur.Record(ctx, 0.05, ok)
	}
	for range 10 {
		dur.Record(ctx, 0.5, bad)
	}
	active.Add(ctx, 7)
	cpu.Add(ctx, 16) // 16 CPU-seconds in 10 s on 2 CPUs
	for _, b := range []string{"a", "b", "c"} {
		inflight.Record(ctx, 40, metric.WithAttributes(keyLBBackend.String(b)))
		lbReq.Add(ctx, 100, metric.WithAttributes(keyLBBackend.String(b)))
	}
	age.Record(ctx, 20, metric.WithAttributes(keyQueueName.String("mail")))
	depth.Record(ctx, 500, metric.WithAttributes(keyQueueState.String("ready")))
	depth.Record(ctx, 3, metric.WithAttributes(keyQueueState.String("running")))
	lag.Record(ctx, 7.5, metric.WithAttributes(keyRepNode.String("r1")))
	rq.Add(ctx, 80, metric.WithAttributes(keyRepRole.String("replica")))
	rq.Add(ctx, 20, metric.WithAttributes(keyRepRole.String("primary")))
	br.Record(ctx, breakerOpen, metric.WithAttributes(keyBreaker.String("db")))
	br.Record(ctx, 0, metric.WithAttributes(keyBreaker.String("api")))
	skew.Record(ctx, 1.3)

	rep, err := a.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Signals{
		SigHTTPRate: 10, SigHTTPErrors: 0.1, SigHTTPActive: 7, SigCPU: 0.8,
		SigWebInstances: 3, SigLBInflight: 40, SigLBRate: 30,
		SigQueueAge: 20, SigQueueAgeGrowth: 1, SigQueueReady: 500,
		SigReplicaLag: 7.5, SigDBReadShare: 0.8, SigDBRate: 10, SigBreakersOpen: 1, SigShardSkew: 1.3,
	}
	for k, v := range want {
		if got, ok := rep.Signals[k]; !ok || math.Abs(got-v) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	// p99 over the interval only: 10 % of it took 0.5 s (bucket 0.1–1).
	if p := rep.Signals[SigHTTPP99]; p <= 0.1 || p > 1 {
		t.Errorf("p99 %v, want within (0.1, 1]", p)
	}
	fired := map[string]bool{}
	for _, ad := range rep.Advice {
		fired[ad.Rule] = true
	}
	for _, id := range []string{"web-tier", "replica-lag"} {
		if !fired[id] {
			t.Errorf("%s did not fire; advice %+v", id, rep.Advice)
		}
	}
	if fired["queue-workers"] || fired["shard-hot"] {
		t.Errorf("advice %+v fired below thresholds", rep.Advice)
	}
	if _, ok := rep.Signals[SigCacheHit]; ok {
		t.Error("cache signal without cache instruments")
	}
}

func TestQuantileIgnoresEarlierObservations(t *testing.T) {
	ctx := context.Background()
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	defer mp.Shutdown(ctx)
	h, _ := mp.Meter("t").Float64Histogram(instDBDuration, metric.WithExplicitBucketBoundaries(0.1, 1, 10))
	sel := metric.WithAttributes(attribute.String("db.operation.name", "SELECT"))
	for range 1000 {
		h.Record(ctx, 5, sel) // a slow past
	}
	prev, _ := Collect(ctx, rd)
	for range 100 {
		h.Record(ctx, 0.05, sel)
	}
	cur, _ := Collect(ctx, rd)
	if q := quantile(prev, cur, instDBDuration, 0.99); q > 0.1 {
		t.Errorf("p99 %v, want ≤ 0.1 (only the last interval)", q)
	}
	if q := quantile(cur, cur, instDBDuration, 0.99); !math.IsNaN(q) {
		t.Errorf("p99 of an empty interval %v, want NaN", q)
	}
}
