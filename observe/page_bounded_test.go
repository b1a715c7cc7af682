package observe

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// wideCollector reports n series per table: backends, queues, caches,
// replicas, shards, breakers (a misconfigured attribute, or a big fleet).
type wideCollector struct{ n int }

func (c wideCollector) Collect(_ context.Context, rm *metricdata.ResourceMetrics) error {
	gauge := func(name string, key attribute.Key, extra ...attribute.KeyValue) metricdata.Metrics {
		var dps []metricdata.DataPoint[int64]
		for i := range c.n {
			attrs := append([]attribute.KeyValue{key.String("<i>" + strconv.Itoa(i))}, extra...)
			dps = append(dps, metricdata.DataPoint[int64]{Attributes: attribute.NewSet(attrs...), Value: 1})
		}
		return metricdata.Metrics{Name: name, Data: metricdata.Gauge[int64]{DataPoints: dps}}
	}
	rm.ScopeMetrics = []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{
		gauge(instLBInflight, keyLBBackend),
		gauge(instQueueDepth, keyQueueName, keyQueueState.String("ready")),
		gauge(instQueueDead, keyQueueName),
		gauge(instCacheHits, keyCacheName),
		gauge(instRepLag, keyRepNode),
		gauge(instShardRate, keyShard),
		gauge(instBreakerState, keyBreaker),
		gauge(instProbeStatus, keyProbe),
	}}}
	return nil
}

// Thousands of series must not make a page of thousands of rows (and
// quadratic work): each section shows a bounded number and says how many
// it left out.
func TestPageBoundsEverySection(t *testing.T) {
	p, err := NewPage(wideCollector{n: 3000}, PageOptions{Logger: discardLogger(),
		HotKeys: func() []HotKey {
			keys := make([]HotKey, 5000)
			for i := range keys {
				keys[i] = HotKey{Key: "k" + strconv.Itoa(i), Shard: "s", Rate: 1}
			}
			return keys
		}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, p, "/")
	if code != 200 {
		t.Fatalf("GET: %d", code)
	}
	if rows := strings.Count(body, "<tr>") + strings.Count(body, `class="bar"`); rows > 2000 {
		t.Fatalf("%d rows for 3000 series in each of 8 sections (%d bytes): want each section bounded", rows, len(body))
	}
	if !strings.Contains(body, "more not shown") {
		t.Error("the page does not say that rows were left out")
	}
	if !strings.Contains(body, "&lt;i&gt;0") {
		t.Error("names not escaped (or missing)")
	}
}
