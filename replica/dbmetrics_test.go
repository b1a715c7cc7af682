package replica_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

func collectRM(t *testing.T, reader *metric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func str(s attribute.Set, k string) string {
	v, _ := s.Value(attribute.Key(k))
	return v.String()
}

// Every statement the router runs is one db.client.operation.duration
// point, by node and role, with error.type on a failed one; the pools
// report db.client.connection.count by state and db.client.connection.max.
func TestDBClientMetrics(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		reader := metric.NewManualReader()
		mp := metric.NewMeterProvider(metric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		c := newCluster(t, "r1", "r2")
		c.db("primary").SetMaxOpenConns(5)
		r := newRouter(t, c, replica.Options{MeterProvider: mp}, "r1", "r2")
		ctx := context.Background()
		set(t, ctx, r, "k", "v")
		for range 4 {
			get(t, ctx, r, "k")
		}
		c.do("r1", func(n *fakeNode) { n.down = true })
		for range 2 {
			get(t, ctx, r, "k") // r1 fails (once, then leaves the rotation), r2 answers
		}

		ms := collectRM(t, reader)
		d, ok := ms["db.client.operation.duration"]
		if !ok {
			t.Fatal("no db.client.operation.duration")
		}
		if d.Unit != "s" {
			t.Errorf("unit %q, want s", d.Unit)
		}
		ok1, failed := map[string]uint64{}, map[string]uint64{}
		var total uint64
		for _, dp := range d.Data.(metricdata.Histogram[float64]).DataPoints {
			total += dp.Count
			key := str(dp.Attributes, "ladder.replica.node") + "/" + str(dp.Attributes, "ladder.replica.role")
			if et := str(dp.Attributes, "error.type"); et != "" {
				failed[key+"/"+et] += dp.Count
			} else {
				ok1[key] += dp.Count
			}
			if _, has := dp.Attributes.Value("db.operation.name"); has {
				t.Errorf("fake commands (GET, SET) got db.operation.name: %v", dp.Attributes.ToSlice())
			}
		}
		if ok1["primary/primary"] != 1 || ok1["r1/replica"]+ok1["r2/replica"] != 6 || ok1["r2/replica"] < 2 {
			t.Errorf("successful statements %v, want 1 on the primary and 6 on the replicas", ok1)
		}
		if failed["r1/replica/unavailable"] != 1 || len(failed) != 1 {
			t.Errorf("failed statements %v, want one on r1 with error.type unavailable", failed)
		}
		if total != 8 {
			t.Errorf("%d statements recorded, want 8", total)
		}

		counts := map[string]int64{}
		for _, dp := range ms["db.client.connection.count"].Data.(metricdata.Sum[int64]).DataPoints {
			counts[str(dp.Attributes, "db.client.connection.pool.name")+"/"+str(dp.Attributes, "db.client.connection.state")] = dp.Value
		}
		for _, pool := range []string{"primary", "r1", "r2"} {
			if _, ok := counts[pool+"/idle"]; !ok {
				t.Errorf("no idle count for pool %s: %v", pool, counts)
			}
			if _, ok := counts[pool+"/used"]; !ok {
				t.Errorf("no used count for pool %s: %v", pool, counts)
			}
		}
		maxes := map[string]int64{}
		for _, dp := range ms["db.client.connection.max"].Data.(metricdata.Sum[int64]).DataPoints {
			maxes[str(dp.Attributes, "db.client.connection.pool.name")] = dp.Value
		}
		if len(maxes) != 1 || maxes["primary"] != 5 {
			t.Errorf("connection max %v, want primary 5 only (the replicas' pools have no limit)", maxes)
		}
	})
}
