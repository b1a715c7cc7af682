package observe

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// fakeService records, under the instrument names and attributes the ladder
// packages use, what a running service would: HTTP traffic, an lb pool, a
// cache, a queue with dead letters, a lagging replica, breakers, probes and
// shards. Each tick records one more interval of traffic.
type fakeService struct {
	t      *testing.T
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	tick   func(i int)
	n      int
}

func newFakeService(t *testing.T) *fakeService {
	t.Helper()
	ctx := context.Background()
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m := mp.Meter("github.com/ladder-go/ladder/test")
	dur, _ := m.Float64Histogram(instHTTPDuration, metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5))
	active, _ := m.Int64UpDownCounter(instHTTPActive)
	lbReq, _ := m.Int64Counter(instLBRequests)
	lbErr, _ := m.Int64Counter(instLBErrors)
	lbEj, _ := m.Int64Counter(instLBEjections)
	infl, _ := m.Int64Gauge(instLBInflight)
	hits, _ := m.Int64Counter(instCacheHits)
	miss, _ := m.Int64Counter(instCacheMisses)
	evict, _ := m.Int64Counter(instCacheEvict)
	depth, _ := m.Int64Gauge(instQueueDepth)
	dead, _ := m.Int64Gauge(instQueueDead)
	age, _ := m.Float64Gauge(instQueueAge)
	lag, _ := m.Float64Gauge(instRepLag)
	rq, _ := m.Int64Counter(instRepQueries)
	brk, _ := m.Int64Gauge(instBreakerState)
	probe, _ := m.Int64Gauge(instProbeStatus)
	skew, _ := m.Float64Gauge(instShardSkew)
	rate, _ := m.Float64Gauge(instShardRate)

	at := func(kv ...attribute.KeyValue) metric.MeasurementOption { return metric.WithAttributes(kv...) }
	backends := []string{"web-1:8080", "web-2:8080", `web-<3>:8080`}
	f := &fakeService{t: t, reader: rd, mp: mp}
	f.tick = func(i int) {
		for j := range 200 + []int{0, 30, 50, 40, 20, 10}[i%6] {
			code := 200
			if j%50 == 0 {
				code = 503
			}
			dur.Record(ctx, 0.004+float64(j%20)*0.004+float64(i%3)*0.01, at(keyStatusCode.Int(code)))
		}
		if i == 0 {
			active.Add(ctx, 24)
		}
		active.Add(ctx, []int64{3, 2, -1, -4}[i%4])
		for k, b := range backends {
			lbReq.Add(ctx, int64(70+10*k), at(keyLBBackend.String(b)))
			lbErr.Add(ctx, int64(k*k), at(keyLBBackend.String(b)))
			infl.Record(ctx, int64(4+k*3+i%3), at(keyLBBackend.String(b)))
		}
		if i == 2 {
			lbEj.Add(ctx, 1, at(keyLBBackend.String(backends[2])))
		}
		hits.Add(ctx, int64(800+20*(i%4)), at(keyCacheName.String("users")))
		miss.Add(ctx, 150, at(keyCacheName.String("users")))
		evict.Add(ctx, 20, at(keyCacheName.String("users")))
		for _, q := range []struct {
			name            string
			ready, run, ded int64
			age             float64
		}{{"mail", 40 + int64(i*15), 8, 3, 12 + float64(i)*5}, {"reports", 2, 1, 0, 0.4}} {
			qa := keyQueueName.String(q.name)
			depth.Record(ctx, q.ready, at(qa, keyQueueState.String("ready")))
			depth.Record(ctx, 5, at(qa, keyQueueState.String("scheduled")))
			depth.Record(ctx, q.run, at(qa, keyQueueState.String("running")))
			dead.Record(ctx, q.ded, at(qa))
			age.Record(ctx, q.age, at(qa))
		}
		lag.Record(ctx, 0.12, at(keyRepNode.String("replica-a")))
		lag.Record(ctx, 6.5, at(keyRepNode.String("replica-b")))
		rq.Add(ctx, 300, at(keyRepRole.String("replica")))
		rq.Add(ctx, 60, at(keyRepRole.String("primary")))
		brk.Record(ctx, 0, at(keyBreaker.String("payments")))
		brk.Record(ctx, breakerOpen, at(keyBreaker.String("search")))
		probe.Record(ctx, 1, at(keyProbe.String("web-1:8080")))
		probe.Record(ctx, 3, at(keyProbe.String(`web-<3>:8080`)))
		skew.Record(ctx, 2.6)
		for k, r := range []float64{120, 95, 310, 110} {
			rate.Record(ctx, r+float64(i), at(keyShard.String("shard-"+string(rune('a'+k)))))
		}
	}
	return f
}

func (f *fakeService) step() {
	f.tick(f.n)
	f.n++
}
